"""Finding any business transaction by its receipt or conversation id, for Transaction
Status (daraja-api.md §8). Every lookup is one indexed read: receipts are primary or unique
keys, and an OriginatorConversationID is unique only per app, so it is looked up per app."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from pesabox.domain.ledger import Phase, Purpose
from pesabox.storage import stk_store
from pesabox.storage.fastsql import Statement
from pesabox.storage.initiator_store import InitiatorRequest
from pesabox.storage.stk_store import StkRecord
from pesabox.storage.tables import accounts, stk_requests, transfers

# Queries move no money: their TransactionID is a shared generic value (`OA90000000`).
QUERY_APIS = ("balance", "status")
_COLUMNS = [field.name for field in fields(InitiatorRequest)]
_STK_COLUMNS = [column.name for column in stk_requests.columns]
_INITIATOR_BY_RECEIPT = Statement(
    f"SELECT {', '.join(_COLUMNS)} FROM initiator_requests "  # noqa: S608 - our own names
    "WHERE transaction_id = :receipt AND api NOT IN ('balance', 'status') LIMIT 1"
)
_INITIATOR_BY_CONVERSATION = Statement(
    f"SELECT {', '.join(_COLUMNS)} FROM initiator_requests "  # noqa: S608
    "WHERE conversation_id = :id"
)
_INITIATOR_BY_ORIGINATOR = Statement(
    f"SELECT {', '.join(_COLUMNS)} FROM initiator_requests "  # noqa: S608
    "WHERE app_id = :app_id AND originator_conversation_id = :id"
)
_STK_BY_RECEIPT = Statement(
    f"SELECT {', '.join(_STK_COLUMNS)} FROM stk_requests WHERE receipt = :receipt"  # noqa: S608
)
_STK_BY_MERCHANT_ID = Statement(
    f"SELECT {', '.join(_STK_COLUMNS)} FROM stk_requests "  # noqa: S608
    "WHERE merchant_request_id = :id"
)


def initiator_by_receipt(conn: Connection, receipt: str) -> InitiatorRequest | None:
    row = _INITIATOR_BY_RECEIPT.one_or_none(conn, {"receipt": receipt})
    return InitiatorRequest(*row) if row is not None else None


def initiator_by_conversation(
    conn: Connection, conversation: str, *, app_id: int
) -> InitiatorRequest | None:
    """By its ConversationID (`AG_…`), or by the OriginatorConversationID the same app used."""
    row = _INITIATOR_BY_CONVERSATION.one_or_none(conn, {"id": conversation})
    if row is None:
        row = _INITIATOR_BY_ORIGINATOR.one_or_none(conn, {"app_id": app_id, "id": conversation})
    if row is None:
        return None
    found = InitiatorRequest(*row)
    return None if found.api in QUERY_APIS else found


def stk_by_receipt(conn: Connection, receipt: str) -> StkRecord | None:
    row = _STK_BY_RECEIPT.one_or_none(conn, {"receipt": receipt})
    return _stk(row)


def stk_by_request_id(conn: Connection, request_id: str) -> StkRecord | None:
    """By its CheckoutRequestID or MerchantRequestID: an STK push's conversation ids."""
    found = stk_store.get_request(conn, request_id)
    if found is not None:
        return found
    row = _STK_BY_MERCHANT_ID.one_or_none(conn, {"id": request_id})
    return _stk(row)


def fees_paid_cents(conn: Connection, *, transaction_key: str, payer_code: str) -> int:
    """The posted fees `payer_code` paid for one business transaction (its transfers'
    `transaction_id`); a fee still held by a reservation is not paid yet."""
    payer = select(accounts.c.id).where(accounts.c.code == payer_code).scalar_subquery()
    total = conn.execute(
        select(func.coalesce(func.sum(transfers.c.amount_cents), 0)).where(
            and_(
                transfers.c.transaction_id == transaction_key,
                transfers.c.purpose == Purpose.FEE.value,
                transfers.c.debit_account_id == payer,
                or_(
                    transfers.c.phase == Phase.POSTED.value,
                    transfers.c.phase == Phase.POST_PENDING.value,
                ),
            )
        )
    ).scalar_one()
    return int(total)


def _stk(row: tuple[Any, ...] | None) -> StkRecord | None:
    return StkRecord(**dict(zip(_STK_COLUMNS, row, strict=True))) if row is not None else None
