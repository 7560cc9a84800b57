"""Initiator requests (B2C, B2B, balance, status, reversal): one row per accepted request,
queued until processed, then finished exactly once."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Connection, select

from pesabox.storage.fastsql import Statement
from pesabox.storage.tables import initiator_requests

QUEUED = "queued"
COMPLETED = "completed"
FAILED = "failed"
# The request waited past the queue timeout: its QueueTimeOutURL was told instead.
TIMED_OUT = "timed_out"


@dataclass(frozen=True, slots=True)
class InitiatorRequest:
    conversation_id: str
    originator_conversation_id: str
    app_id: int
    api: str
    command_id: str
    initiator: str
    party_a: str
    party_b: str | None
    amount_cents: int | None
    remarks: str
    occasion: str
    result_url: str
    queue_timeout_url: str
    details: str
    request_digest: str
    status: str
    result_code: str | None
    result_desc: str | None
    transaction_id: str | None
    created_at: float
    completed_at: float | None

    def view(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(InitiatorRequest)}


_COLUMNS = [f.name for f in fields(InitiatorRequest)]
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM initiator_requests"  # noqa: S608 - our names
# A second request with the same OriginatorConversationID from the same app inserts nothing:
# the caller then reads the first one (an idempotent replay, or a duplicate).
_INSERT = Statement(
    f"INSERT INTO initiator_requests ({', '.join(_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join(':' + c for c in _COLUMNS)}) "
    "ON CONFLICT (app_id, originator_conversation_id) DO NOTHING"
)
_BY_ID = Statement(f"{_SELECT} WHERE conversation_id = :id")
_BY_ORIGINATOR = Statement(
    f"{_SELECT} WHERE app_id = :app_id AND originator_conversation_id = :originator"
)
# Finishing is conditional on the row still being queued: processing and the queue-timeout
# sweeper can race for a request, and only one of them may report on it.
_FINISH = Statement(
    """
    UPDATE initiator_requests
       SET status = :status, result_code = :code, result_desc = :description,
           transaction_id = :transaction_id, completed_at = :now
     WHERE conversation_id = :id AND status = 'queued'
    """
)


def insert(conn: Connection, request: InitiatorRequest) -> bool:
    """False when the app already sent this OriginatorConversationID."""
    return _INSERT.rowcount(conn, request.view()) == 1


def get(conn: Connection, conversation_id: str) -> InitiatorRequest | None:
    row = _BY_ID.one_or_none(conn, {"id": conversation_id})
    return InitiatorRequest(*row) if row is not None else None


def by_originator(conn: Connection, app_id: int, originator: str) -> InitiatorRequest | None:
    row = _BY_ORIGINATOR.one_or_none(conn, {"app_id": app_id, "originator": originator})
    return InitiatorRequest(*row) if row is not None else None


def finish(
    conn: Connection,
    conversation_id: str,
    *,
    status: str,
    code: str,
    description: str,
    transaction_id: str,
    now: float,
) -> bool:
    params = {
        "id": conversation_id,
        "status": status,
        "code": code,
        "description": description,
        "transaction_id": transaction_id or None,
        "now": now,
    }
    return _FINISH.rowcount(conn, params) == 1


def queued_before(conn: Connection, *, created_before: float, limit: int) -> list[InitiatorRequest]:
    rows = conn.execute(
        select(*[initiator_requests.c[name] for name in _COLUMNS])
        .where(
            initiator_requests.c.status == QUEUED,
            initiator_requests.c.created_at < created_before,
        )
        .order_by(initiator_requests.c.created_at)
        .limit(limit)
    )
    return [InitiatorRequest(*row) for row in rows]
