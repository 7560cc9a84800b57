"""Send Money: one customer pays another (P2P) at the P2P tariff, both are told by SMS, and
the sender earns Bonga points; all in one writer job."""

from __future__ import annotations

from dataclasses import dataclass

from pesabox.clock import eat_datetime
from pesabox.domain import accounts, customer_sms
from pesabox.domain.result_codes import StkResult, stk_description
from pesabox.domain.rules import p2p_fee_cents
from pesabox.domain.services import customer_payment
from pesabox.domain.services.handset_menu import MenuContext, MenuRequest, record, replayed, tell
from pesabox.domain.services.menu_purchase import earn_points
from pesabox.storage import handset_store, parties_store
from pesabox.storage.handset_store import HandsetTransaction
from pesabox.storage.types import Connection

UNKNOWN_RECIPIENT = "The number you are sending to is not registered for M-PESA"
TO_SELF = "You cannot send money to your own number"


@dataclass(frozen=True, slots=True)
class SendOrder:
    msisdn: str
    recipient: str
    amount_cents: int
    # False when the M-PESA PIN typed was wrong (checked before the writer job).
    pin_ok: bool
    idempotency_key: str | None = None


def send_money(
    conn: Connection, context: MenuContext, order: SendOrder, *, receipt: str, now: float
) -> HandsetTransaction:
    request = MenuRequest(
        handset_store.SEND_MONEY, order.msisdn, order.recipient, order.amount_cents,
        receipt, order.idempotency_key, now,
    )  # fmt: skip
    earlier = replayed(conn, request)
    if earlier is not None:
        return earlier
    sender = parties_store.get_customer(conn, order.msisdn)
    recipient = parties_store.get_customer(conn, order.recipient)
    fee_cents = p2p_fee_cents(order.amount_cents, eat_datetime(now).date())
    code, reason = _refusal(order, sender, recipient)
    if code == 0:
        charge = customer_payment.menu_charge(
            key=receipt, msisdn=order.msisdn, credit_account=accounts.wallet_code(order.recipient),
            amount_cents=order.amount_cents, fee_cents=fee_cents, now=now,
        )  # fmt: skip
        code = int(customer_payment.take(conn, context.ledger, charge, now=now, hold=False))
        reason = stk_description(code)
    if code != 0 or sender is None or recipient is None:
        what = f"Sending Ksh{order.amount_cents // 100} to {order.recipient}"
        failed = customer_sms.failed(what=what, reason=reason)
        tell(conn, order.msisdn, failed, sender=customer_sms.MPESA, now=now)
        return record(conn, request, result_code=code, result_desc=reason)
    _tell_both(conn, context, request, sender, recipient, fee_cents=fee_cents)
    earn_points(conn, context, request)
    return record(conn, request, result_code=0, fee_cents=fee_cents)


def _refusal(
    order: SendOrder,
    sender: parties_store.CustomerRecord | None,
    recipient: parties_store.CustomerRecord | None,
) -> tuple[int, str]:
    """The reason checked before any money moves, in M-Pesa's order; (0, "") when none."""
    if sender is None or sender.status != "active":
        return int(StkResult.UNREACHABLE), stk_description(StkResult.UNREACHABLE)
    if not order.pin_ok:
        return int(StkResult.WRONG_PIN), stk_description(StkResult.WRONG_PIN)
    if order.recipient == order.msisdn:
        return int(StkResult.NOT_PERMITTED), TO_SELF
    if recipient is None or recipient.status != "active":
        # Sending to unregistered users stopped on 5 Feb 2024 (§2.1).
        return int(StkResult.NOT_PERMITTED), UNKNOWN_RECIPIENT
    return 0, ""


def _tell_both(
    conn: Connection,
    context: MenuContext,
    request: MenuRequest,
    sender: parties_store.CustomerRecord,
    recipient: parties_store.CustomerRecord,
    *,
    fee_cents: int,
) -> None:
    ledger, now = context.ledger, request.now
    sent = customer_sms.money_sent(
        receipt=request.receipt,
        amount_cents=request.amount,
        recipient_name=recipient.name,
        recipient_msisdn=recipient.msisdn,
        balance_cents=ledger.balance_cents(conn, accounts.wallet_code(sender.msisdn)),
        fee_cents=fee_cents,
        now=now,
    )
    received = customer_sms.money_received(
        receipt=request.receipt,
        amount_cents=request.amount,
        sender_name=sender.name,
        sender_msisdn=sender.msisdn,
        balance_cents=ledger.balance_cents(conn, accounts.wallet_code(recipient.msisdn)),
        now=now,
    )
    tell(conn, sender.msisdn, sent, sender=customer_sms.MPESA, now=now)
    tell(conn, recipient.msisdn, received, sender=customer_sms.MPESA, now=now)
