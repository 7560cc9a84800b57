"""Buy Airtime: the wallet pays Safaricom's airtime account, free of charge (§2.2), and the
number topped up gets a top-up row, which Bonga PIN vetting later reads."""

from __future__ import annotations

from dataclasses import dataclass

from pesabox.domain import accounts, customer_sms
from pesabox.domain.result_codes import StkResult
from pesabox.domain.services.handset_menu import MenuContext, MenuRequest, record, replayed, tell
from pesabox.domain.services.menu_purchase import earn_points, pay_safaricom, purchase_failed
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
        code = pay_safaricom(conn, context, request, sales=accounts.AIRTIME_SALES)
    if code != 0:
        what = f"Buying Ksh{order.amount_cents // 100} of airtime"
        return purchase_failed(conn, request, what=what, result_code=code)
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
    earn_points(conn, context, request)
    return record(conn, request, result_code=0)
