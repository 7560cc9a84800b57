"""Transferring Bonga points to another customer (Sambaza, §2.9): Bonga PIN first, then at
least 50 points, and at least 50 left behind."""

from __future__ import annotations

from dataclasses import dataclass

from pesabox.domain import accounts, customer_sms
from pesabox.domain.bonga import TRANSFER_MIN_POINTS, transfer_refusal
from pesabox.domain.ledger import Purpose, TransferRequest
from pesabox.domain.result_codes import StkResult
from pesabox.domain.services.bonga_earning import points_balance
from pesabox.domain.services.bonga_pin import TypedPin, refused_by_pin
from pesabox.domain.services.handset_menu import MenuContext, MenuRequest, record, replayed, tell
from pesabox.storage import handset_store, parties_store
from pesabox.storage.handset_store import HandsetTransaction
from pesabox.storage.types import Connection

UNKNOWN_RECIPIENT = "The number you are transferring to is not a Safaricom customer"
TO_SELF = "You cannot transfer Bonga points to your own number"


@dataclass(frozen=True, slots=True)
class PointsTransferOrder:
    msisdn: str
    recipient: str
    points: int
    pin: TypedPin
    idempotency_key: str | None = None


def transfer_points(
    conn: Connection,
    context: MenuContext,
    order: PointsTransferOrder,
    *,
    receipt: str,
    now: float,
) -> HandsetTransaction:
    request = MenuRequest(
        handset_store.BONGA_TRANSFER, order.msisdn, order.recipient, order.points,
        receipt, order.idempotency_key, now,
    )  # fmt: skip
    answered = replayed(conn, request) or refused_by_pin(conn, context, request, order.pin)
    if answered is not None:
        return answered
    sender = parties_store.get_customer(conn, order.msisdn)
    recipient = parties_store.get_customer(conn, order.recipient)
    refused = _refusal(conn, context, order, recipient)
    if refused is not None or sender is None:
        code, reason = refused or (int(StkResult.UNREACHABLE), "")
        failed = customer_sms.failed(what="The Bonga transfer", reason=reason)
        tell(conn, order.msisdn, failed, sender=customer_sms.BONGA, now=now)
        return record(conn, request, result_code=code, result_desc=reason)
    _move_points(conn, context, order, receipt=receipt, now=now)
    ledger = context.ledger
    sent = customer_sms.points_sent(
        points=order.points,
        recipient_msisdn=order.recipient,
        balance_points=points_balance(conn, ledger, order.msisdn),
    )
    received = customer_sms.points_received(
        points=order.points,
        sender_name=sender.name,
        sender_msisdn=order.msisdn,
        balance=points_balance(conn, ledger, order.recipient),
    )
    tell(conn, order.msisdn, sent, sender=customer_sms.BONGA, now=now)
    tell(conn, order.recipient, received, sender=customer_sms.BONGA, now=now)
    return record(conn, request, result_code=0)


def _refusal(
    conn: Connection,
    context: MenuContext,
    order: PointsTransferOrder,
    recipient: parties_store.CustomerRecord | None,
) -> tuple[int, str] | None:
    """Why the transfer cannot go, as (result code, reason); None when it may."""
    if order.recipient == order.msisdn:
        return int(StkResult.NOT_PERMITTED), TO_SELF
    if recipient is None or recipient.status != "active":
        return int(StkResult.NOT_PERMITTED), UNKNOWN_RECIPIENT
    balance = points_balance(conn, context.ledger, order.msisdn)
    reason = transfer_refusal(balance_points=balance, points=order.points)
    if reason is None:
        return None
    short = order.points < TRANSFER_MIN_POINTS
    return int(StkResult.BELOW_MINIMUM if short else StkResult.INSUFFICIENT_FUNDS), reason


def _move_points(
    conn: Connection, context: MenuContext, order: PointsTransferOrder, *, receipt: str, now: float
) -> None:
    target = accounts.customer_bonga(order.recipient)
    context.ledger.ensure_accounts(conn, [target], now)
    move = TransferRequest(
        f"{receipt}:points",
        accounts.customer_bonga(order.msisdn).code,
        target.code,
        order.points,
        Purpose.PRINCIPAL,
        receipt,
    )
    posting = context.ledger.post(conn, [move], now=now, known_new=True)
    if not posting.ok:
        # The balance was checked above in this same db transaction: a refusal is a bug.
        raise RuntimeError(f"ledger refused {move.id}: {posting.status}")
