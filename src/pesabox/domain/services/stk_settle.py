"""Settling an M-Pesa Express request: the customer's answer becomes a result, money moves
on success, and the callback is written to the outbox in the same db transaction."""

from __future__ import annotations

from dataclasses import dataclass

from pesabox.callbacks import leased
from pesabox.callbacks.queries import ClaimedCallback
from pesabox.clock import daraja_timestamp
from pesabox.domain import sms
from pesabox.domain.result_codes import StkResult, stk_description
from pesabox.domain.services import bonga_earning, customer_payment
from pesabox.domain.stk_callback import stk_callback_payload
from pesabox.ids import receipt_number
from pesabox.sandbox.scenarios import Action
from pesabox.storage import parties_store, stk_store
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.types import Connection

_FIXED_RESULTS = {
    Action.DECLINE: StkResult.CANCELLED,
    Action.IGNORE: StkResult.UNREACHABLE,
    Action.WRONG_PIN: StkResult.WRONG_PIN,
    Action.EXPIRE: StkResult.EXPIRED,
    Action.PUSH_ERROR: StkResult.PUSH_ERROR,
}


_CUSTOMER_ANSWERS = frozenset({Action.ACCEPT, Action.DECLINE, Action.WRONG_PIN})


@dataclass(frozen=True, slots=True)
class Settlement:
    checkout_request_id: str
    result_code: int
    receipt: str | None
    callback_id: int
    # Set when the callback row was written already leased to this process for delivery.
    callback: ClaimedCallback | None = None


@dataclass(frozen=True, slots=True)
class SettleContext:
    ledger: LedgerStore
    max_callback_attempts: int
    shortcodes: parties_store.ShortcodeCache
    # When this process delivers callbacks, new rows are written leased to it for this long,
    # which saves the dispatcher a claim (a db transaction) per payment.
    claim_lease_s: float | None = None
    # Bonga points the customer earns per KES 100 paid (issue 5); 0 earns none.
    bonga_points_per_100_kes: int = 0


def settle_request(
    conn: Connection,
    context: SettleContext,
    *,
    checkout_request_id: str,
    now: float,
    action: Action | None = None,
) -> Settlement | None:
    """Settle one pending request; None when it is no longer pending (already settled)."""
    record = stk_store.pending_request(conn, checkout_request_id)
    if record is None:
        return None
    chosen = action or Action(record.planned_action)
    if chosen in _CUSTOMER_ANSWERS and now >= record.expires_at:
        # An answer (from the handset, or a timer that fired late) after the prompt timed out
        # is too late: the prompt is gone from the phone.
        chosen = Action.IGNORE
    receipt: str | None = None
    if chosen == Action.ACCEPT:
        result_code, receipt = _pay(conn, context, record, now=now)
    elif chosen == Action.RESULT:
        result_code = (
            record.planned_result_code
            if record.planned_result_code is not None
            else StkResult.SYSTEM_BUSY
        )
    else:
        result_code = _FIXED_RESULTS[chosen]
    description = stk_description(result_code)
    stk_store.settle(
        conn,
        checkout_request_id,
        result_code=result_code,
        result_desc=description,
        receipt=receipt,
        now=now,
    )
    callback_id, leased = _write_callback(
        conn, context, record, result_code=result_code, receipt=receipt, now=now
    )
    return Settlement(checkout_request_id, result_code, receipt, callback_id, leased)


def _pay(
    conn: Connection,
    context: SettleContext,
    record: stk_store.StkRecord,
    *,
    now: float,
) -> tuple[int, str | None]:
    # A PIN typed on the handset is checked before settling (HandsetService.accept), outside
    # the write transaction: key stretching there would hold every payment's commit.
    shortcode = context.shortcodes.lookup(conn, record.party_b, now)
    charge = customer_payment.plan_charge(
        key=record.checkout_request_id,
        msisdn=record.msisdn,
        receiver=record.party_b,
        amount_cents=record.amount_cents,
        tariff_profile=shortcode.tariff_profile if shortcode else "customer_bouquet",
        now=now,
    )
    result_code = customer_payment.take(conn, context.ledger, charge, now=now, hold=False)
    if result_code != StkResult.SUCCESS:
        return result_code, None
    receipt = receipt_number(now)
    bonga_earning.earn(
        conn, context.ledger, msisdn=record.msisdn, amount_cents=record.amount_cents,
        transaction_id=record.checkout_request_id,
        points_per_100_kes=context.bonga_points_per_100_kes, now=now,
    )  # fmt: skip
    _send_confirmation_sms(
        conn,
        context.ledger,
        record,
        receipt=receipt,
        fee_cents=charge.fees.customer_cents,
        shortcode=shortcode,
        now=now,
    )
    return StkResult.SUCCESS, receipt


def _send_confirmation_sms(
    conn: Connection,
    ledger: LedgerStore,
    record: stk_store.StkRecord,
    *,
    receipt: str,
    fee_cents: int,
    shortcode: parties_store.ShortcodeRecord | None,
    now: float,
) -> None:
    payee = shortcode.organisation_name if shortcode else record.party_b
    body = sms.payment_confirmed(
        receipt=receipt,
        amount_cents=record.amount_cents,
        payee=payee,
        account=record.account_reference,
        balance_cents=ledger.balance_cents(conn, f"wallet:{record.msisdn}"),
        fee_cents=fee_cents,
        now=now,
    )
    parties_store.add_sms(conn, msisdn=record.msisdn, sender="MPESA", body=body, now=now)


def _write_callback(
    conn: Connection,
    context: SettleContext,
    record: stk_store.StkRecord,
    *,
    result_code: int,
    receipt: str | None,
    now: float,
) -> tuple[int, ClaimedCallback | None]:
    """Write the callback to the outbox; returns its id and, when it was written leased to
    this process, the row to hand to the dispatcher."""
    payload = stk_callback_payload(
        merchant_request_id=record.merchant_request_id,
        checkout_request_id=record.checkout_request_id,
        result_code=result_code,
        result_desc=stk_description(result_code),
        amount_cents=record.amount_cents,
        receipt=receipt,
        transaction_date=daraja_timestamp(now),
        phone_number=record.msisdn,
    )
    return leased.enqueue_for_delivery(
        conn,
        transaction_id=record.checkout_request_id,
        kind="stk",
        url=record.callback_url,
        payload=payload,
        behaviour=leased.CallbackBehaviour(
            record.callback_mode, record.callback_fail_times, record.callback_delay_s
        ),
        max_attempts=context.max_callback_attempts,
        lease_s=context.claim_lease_s,
        now=now,
    )
