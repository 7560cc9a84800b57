"""A customer-initiated payment (C2B), in the steps that run inside the ledger writer.

`open_payment` starts it: the customer's checks and money, then either the whole payment at
once, or, when the shortcode has external validation on, a hold on the customer's money while
the business is asked. `decide_payment` applies the business's answer (or ResponseType, when
there is none) exactly once: the conditional update on the payment's status is the gate, so a
second or late answer finds nothing left to decide.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pesabox.callbacks import leased
from pesabox.callbacks.queries import ClaimedCallback
from pesabox.clock import daraja_timestamp
from pesabox.domain import accounts, sms
from pesabox.domain.c2b import (
    Notification,
    PaymentStatus,
    ValidationAnswer,
    rejection_reason,
    show_msisdn,
    split_name,
)
from pesabox.domain.result_codes import StkResult, stk_description
from pesabox.domain.rules import Fees
from pesabox.domain.services import bonga_earning, customer_payment
from pesabox.sandbox.scenarios import CallbackMode, Scenario
from pesabox.storage import c2b_store, parties_store
from pesabox.storage.c2b_store import Payment
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.types import Connection

CONFIRMATION = "c2b_confirmation"
VALIDATION = "c2b_validation"
# The result recorded on a payment the business refused (M-Pesa's generic "declined").
REJECTED_RESULT_CODE = 1032


@dataclass(frozen=True, slots=True)
class PaymentOrder:
    """What the customer asked for, already checked field by field."""

    channel: str  # handset | simulate | qr
    msisdn: str
    shortcode: str
    transaction_type: str  # c2b.PAY_BILL | c2b.BUY_GOODS
    amount_cents: int
    bill_ref_number: str
    # False when a PIN was asked for and was wrong; simulate asks for none.
    pin_ok: bool = True
    idempotency_key: str | None = None
    app_id: int | None = None
    scenario: Scenario | None = None


@dataclass(frozen=True, slots=True)
class C2bContext:
    ledger: LedgerStore
    max_callback_attempts: int
    validation_timeout_s: float
    # When this process delivers callbacks, confirmations are written leased to it.
    claim_lease_s: float | None = None
    # Bonga points the customer earns per KES 100 paid (issue 5); 0 earns none.
    bonga_points_per_100_kes: int = 0


@dataclass(frozen=True, slots=True)
class Outcome:
    payment: Payment
    # True when an Idempotency-Key found an earlier payment: nothing new happened.
    replayed: bool = False
    # A confirmation written leased to this process, for its dispatcher.
    callback: ClaimedCallback | None = None


def open_payment(
    conn: Connection, context: C2bContext, order: PaymentOrder, *, trans_id: str, now: float
) -> Outcome:
    if order.idempotency_key is not None:
        earlier = c2b_store.find_by_idempotency_key(conn, order.idempotency_key)
        if earlier is not None:
            return Outcome(earlier, replayed=True)
    shortcode = parties_store.get_shortcode(conn, order.shortcode)
    if shortcode is None:
        raise LookupError(f"shortcode {order.shortcode} is gone")
    registration = _registration_for(conn, shortcode)
    customer = parties_store.get_customer(conn, order.msisdn)
    validating = (
        order.pin_ok
        and shortcode.validation_enabled
        and registration is not None
        and bool(registration.validation_url)
    )
    charge = customer_payment.plan_charge(
        key=trans_id,
        msisdn=order.msisdn,
        receiver=shortcode.shortcode,
        amount_cents=order.amount_cents,
        tariff_profile=shortcode.tariff_profile,
        now=now,
    )
    if not order.pin_ok:
        code = int(StkResult.WRONG_PIN)
    elif customer is None or customer.status != "active":
        code = int(StkResult.UNREACHABLE)
    else:
        code = customer_payment.take(conn, context.ledger, charge, now=now, hold=validating)
    status = (
        PaymentStatus.FAILED
        if code
        else (PaymentStatus.VALIDATING if validating else PaymentStatus.COMPLETED)
    )
    scenario = order.scenario
    payment = Payment(
        trans_id=trans_id,
        shortcode=shortcode.shortcode,
        transaction_type=order.transaction_type,
        channel=order.channel,
        msisdn=order.msisdn,
        amount_cents=order.amount_cents,
        bill_ref_number=order.bill_ref_number,
        **_names(customer),
        status=status,
        response_type=registration.response_type if registration else None,
        validation_url=registration.validation_url if validating and registration else None,
        confirmation_url=registration.confirmation_url if registration else None,
        msisdn_format=registration.msisdn_format if registration else None,
        validation_deadline=now + context.validation_timeout_s if validating else None,
        validation_result=None,
        third_party_trans_id=None,
        result_code=None if validating else code,
        result_desc=None if validating else stk_description(code),
        customer_fee_cents=charge.fees.customer_cents,
        business_fee_cents=charge.fees.business_cents,
        org_balance_cents=None,
        idempotency_key=order.idempotency_key,
        app_id=order.app_id,
        callback_mode=scenario.callback_mode if scenario else CallbackMode.DELIVER,
        callback_fail_times=scenario.callback_fail_times if scenario else 0,
        callback_delay_s=scenario.callback_delay_s if scenario else 0.0,
        validation_mode=scenario.validation_mode if scenario else "deliver",
        created_at=now,
        completed_at=None if validating else now,
    )
    if status == PaymentStatus.FAILED:
        c2b_store.insert_payment(conn, payment)
        _tell_customer(
            conn,
            order.msisdn,
            sms.payment_failed(
                amount_cents=order.amount_cents,
                payee=shortcode.organisation_name,
                reason=stk_description(code),
            ),
            now=now,
        )
        return Outcome(payment)
    if status == PaymentStatus.VALIDATING:
        c2b_store.insert_payment(conn, payment)
        return Outcome(payment)
    return _complete(conn, context, payment, charge, payee=shortcode.organisation_name, now=now)


def decide_payment(
    conn: Connection,
    context: C2bContext,
    trans_id: str,
    answer: ValidationAnswer,
    *,
    now: float,
    payee: str | None = None,
) -> Outcome | None:
    """Complete or cancel a payment waiting for validation; None if it was already decided.

    `payee` is the business's name for the customer's SMS when the caller has it at hand
    (from its shortcode cache); otherwise it is read here.
    """
    payment = c2b_store.get_payment(conn, trans_id)
    if payment is None or payment.status != PaymentStatus.VALIDATING:
        return None
    if payee is None:
        shortcode = parties_store.get_shortcode(conn, payment.shortcode)
        payee = shortcode.organisation_name if shortcode else payment.shortcode
    charge = customer_payment.Charge(
        key=payment.trans_id,
        msisdn=payment.msisdn,
        receiver=payment.shortcode,
        amount_cents=payment.amount_cents,
        fees=Fees(payment.customer_fee_cents, payment.business_fee_cents),
        started_at=payment.created_at,
    )
    completes = answer.decides(payment.response_type or "Completed")
    if completes:
        customer_payment.complete_held(conn, context.ledger, charge, now=now)
        balance = context.ledger.balance_cents(conn, accounts.org_utility(payment.shortcode).code)
        decision = c2b_store.Decision(
            PaymentStatus.COMPLETED, answer.result, answer.third_party_trans_id, 0,
            stk_description(0), balance,
        )  # fmt: skip
    else:
        customer_payment.release_held(conn, context.ledger, charge, now=now)
        decision = c2b_store.Decision(
            PaymentStatus.CANCELLED, answer.result, answer.third_party_trans_id,
            REJECTED_RESULT_CODE, _cancel_reason(answer), None,
        )  # fmt: skip
    if not c2b_store.decide(conn, trans_id, decision, now=now):
        # Raising rolls the ledger steps above back with the rest of this job.
        raise RuntimeError(f"payment {trans_id} was decided concurrently")
    decided = replace(
        payment,
        status=decision.status,
        validation_result=decision.validation_result,
        third_party_trans_id=decision.third_party_trans_id,
        result_code=decision.result_code,
        result_desc=decision.result_desc,
        org_balance_cents=decision.org_balance_cents,
        completed_at=now,
    )
    if completes:
        return _notify_completed(conn, context, decided, charge, payee=payee, now=now)
    _tell_customer(
        conn,
        payment.msisdn,
        sms.payment_refused(
            receipt=payment.trans_id,
            amount_cents=payment.amount_cents,
            payee=payee,
            reason=decision.result_desc,
        ),
        now=now,
    )
    return Outcome(decided)


def validation_payload(payment: Payment) -> str:
    return _notification(payment, org_balance_cents=None).payload()


# --- internals --------------------------------------------------------------------------


def _registration_for(
    conn: Connection, shortcode: parties_store.ShortcodeRecord
) -> c2b_store.Registration | None:
    # A till's business may register its URLs on the till or on its store (head office).
    registration = c2b_store.get_registration(conn, shortcode.shortcode)
    if registration is None and shortcode.store_shortcode:
        registration = c2b_store.get_registration(conn, shortcode.store_shortcode)
    return registration


def _names(customer: parties_store.CustomerRecord | None) -> dict[str, str]:
    first, middle, last = split_name(customer.name if customer else "")
    return {"first_name": first, "middle_name": middle, "last_name": last}


def _cancel_reason(answer: ValidationAnswer) -> str:
    if answer.accepted is None:
        return "The business did not confirm the payment in time"
    return rejection_reason(answer.result)


def _complete(
    conn: Connection,
    context: C2bContext,
    payment: Payment,
    charge: customer_payment.Charge,
    *,
    payee: str,
    now: float,
) -> Outcome:
    balance = context.ledger.balance_cents(conn, accounts.org_utility(payment.shortcode).code)
    completed = replace(payment, org_balance_cents=balance)
    c2b_store.insert_payment(conn, completed)
    return _notify_completed(conn, context, completed, charge, payee=payee, now=now)


def _notify_completed(
    conn: Connection,
    context: C2bContext,
    payment: Payment,
    charge: customer_payment.Charge,
    *,
    payee: str,
    now: float,
) -> Outcome:
    bonga_earning.earn(
        conn, context.ledger, msisdn=payment.msisdn, amount_cents=payment.amount_cents,
        transaction_id=payment.trans_id, points_per_100_kes=context.bonga_points_per_100_kes,
        now=now,
    )  # fmt: skip
    _tell_customer(
        conn,
        payment.msisdn,
        sms.payment_confirmed(
            receipt=payment.trans_id,
            amount_cents=payment.amount_cents,
            payee=payee,
            account=payment.bill_ref_number,
            balance_cents=context.ledger.balance_cents(conn, charge.wallet),
            fee_cents=charge.fees.customer_cents,
            now=now,
        ),
        now=now,
    )
    if not payment.confirmation_url:
        # No URLs registered: M-Pesa simply completes the payment.
        return Outcome(payment)
    _, callback = leased.enqueue_for_delivery(
        conn,
        transaction_id=payment.trans_id,
        kind=CONFIRMATION,
        url=payment.confirmation_url,
        payload=_notification(payment, org_balance_cents=payment.org_balance_cents).payload(),
        behaviour=leased.CallbackBehaviour(
            payment.callback_mode, payment.callback_fail_times, payment.callback_delay_s
        ),
        max_attempts=context.max_callback_attempts,
        lease_s=context.claim_lease_s,
        now=now,
    )
    return Outcome(payment, callback=callback)


def _tell_customer(conn: Connection, msisdn: str, body: str, *, now: float) -> None:
    parties_store.add_sms(conn, msisdn=msisdn, sender="MPESA", body=body, now=now)


def _notification(payment: Payment, *, org_balance_cents: int | None) -> Notification:
    return Notification(
        transaction_type=payment.transaction_type,
        trans_id=payment.trans_id,
        trans_time=daraja_timestamp(payment.created_at),
        amount_cents=payment.amount_cents,
        business_shortcode=payment.shortcode,
        bill_ref_number=payment.bill_ref_number,
        org_balance_cents=org_balance_cents,
        third_party_trans_id=payment.third_party_trans_id or "",
        msisdn=show_msisdn(payment.msisdn, payment.msisdn_format or "full"),
        first_name=payment.first_name,
        middle_name=payment.middle_name,
        last_name=payment.last_name,
    )
