"""Buy Airtime: the wallet pays Safaricom's airtime account, free of charge (§2.2), and the
number topped up gets a top-up row, which Bonga PIN vetting later reads."""

from __future__ import annotations

from dataclasses import dataclass

from pesabox.domain import accounts, customer_sms
from pesabox.domain.result_codes import StkResult, stk_description
from pesabox.domain.services import bonga_earning, customer_payment
from pesabox.domain.services.handset_menu import MenuContext, MenuRequest, record, replayed, tell
from pesabox.storage import handset_store, parties_store
from pesabox.storage.handset_store import HandsetTransaction
from pesabox.storage.types import Connection


@dataclass(frozen=True, slots=True)
class AirtimeOrder:
    msisdn: str
    # The number topped up: the buyer's own, or another Safaricom line.
    recipient: str
    amount_cents: int
    pin_ok: bool
    idempotency_key: str | None = None


def buy_airtime(
    conn: Connection, context: MenuContext, order: AirtimeOrder, *, receipt: str, now: float
) -> HandsetTransaction:
    request = MenuRequest(
        handset_store.AIRTIME, order.msisdn, order.recipient, order.amount_cents,
        receipt, order.idempotency_key, now,
    )  # fmt: skip
    earlier = replayed(conn, request)
    if earlier is not None:
        return earlier
    buyer = parties_store.get_customer(conn, order.msisdn)
    if buyer is None or buyer.status != "active":
        code = int(StkResult.UNREACHABLE)
    elif not order.pin_ok:
        code = int(StkResult.WRONG_PIN)
    else:
        context.ledger.ensure_accounts(conn, [accounts.AIRTIME_SALES], now)
        charge = customer_payment.menu_charge(
            key=receipt, msisdn=order.msisdn, credit_account=accounts.AIRTIME_SALES.code,
            amount_cents=order.amount_cents, fee_cents=0, now=now,
        )  # fmt: skip
        code = int(customer_payment.take(conn, context.ledger, charge, now=now, hold=False))
    if code != 0:
        what = f"Buying Ksh{order.amount_cents // 100} of airtime"
        reason = stk_description(code)
        tell(conn, order.msisdn, customer_sms.failed(what=what, reason=reason),
             sender=customer_sms.MPESA, now=now)  # fmt: skip
        return record(conn, request, result_code=code)
    handset_store.add_topup(
        conn, msisdn=order.recipient, amount_cents=order.amount_cents, paid_by=order.msisdn,
        receipt=receipt, now=now,
    )  # fmt: skip
    body = customer_sms.airtime_bought(
        receipt=receipt,
        amount_cents=order.amount_cents,
        msisdn=order.recipient,
        balance_cents=context.ledger.balance_cents(conn, accounts.wallet_code(order.msisdn)),
        now=now,
    )
    tell(conn, order.msisdn, body, sender=customer_sms.MPESA, now=now)
    bonga_earning.earn(
        conn, context.ledger, msisdn=order.msisdn, amount_cents=order.amount_cents,
        transaction_id=receipt, points_per_100_kes=context.points_per_100_kes, now=now,
    )  # fmt: skip
    return record(conn, request, result_code=0)
