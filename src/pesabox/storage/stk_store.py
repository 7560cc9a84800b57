"""M-Pesa Express requests: one row per push, from the prompt to the result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from pesabox.storage.fastsql import Statement
from pesabox.storage.tables import stk_requests

PENDING = "pending"
COMPLETED = "completed"
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class StkRecord:
    checkout_request_id: str
    merchant_request_id: str
    app_id: int
    business_shortcode: str
    party_b: str
    transaction_type: str
    msisdn: str
    party_a: str
    amount_cents: int
    account_reference: str
    description: str
    callback_url: str
    status: str
    planned_action: str
    planned_result_code: int | None
    due_at: float | None
    expires_at: float
    callback_mode: str
    callback_fail_times: int
    callback_delay_s: float
    result_code: int | None
    result_desc: str | None
    receipt: str | None
    created_at: float
    completed_at: float | None


_COLUMNS = [column.name for column in stk_requests.columns]
# The partial unique index on pending requests is M-Pesa's subscriber lock: a second pending
# push for the same phone inserts nothing, and the caller answers "Unable to lock subscriber".
# The column names come from our own table definition, never from input.
_INSERT = Statement(
    f"INSERT INTO stk_requests ({', '.join(_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join(':' + c for c in _COLUMNS)}) "
    "ON CONFLICT (msisdn) WHERE status = 'pending' DO NOTHING"
)
_PENDING = Statement(
    f"SELECT {', '.join(_COLUMNS)} FROM stk_requests "  # noqa: S608
    "WHERE checkout_request_id = :id AND status = 'pending'"
)
_SETTLE = Statement(
    """
    UPDATE stk_requests
       SET status = :status, result_code = :result_code, result_desc = :result_desc,
           receipt = :receipt, completed_at = :now, due_at = NULL
     WHERE checkout_request_id = :id AND status = 'pending'
    """
)


class SettledElsewhere(Exception):
    """Another db transaction settled this request first; this one must roll back."""


def _record(row: Any) -> StkRecord:
    return StkRecord(**row._mapping)


def insert_request(conn: Connection, values: dict[str, Any]) -> bool:
    """Insert a pending request; False (and nothing written) if the phone has one already."""
    row = {column: values.get(column) for column in _COLUMNS}
    return _INSERT.rowcount(conn, row) > 0


def get_request(conn: Connection, checkout_request_id: str) -> StkRecord | None:
    row = conn.execute(
        select(stk_requests).where(stk_requests.c.checkout_request_id == checkout_request_id)
    ).first()
    return _record(row) if row else None


def pending_for_msisdn(conn: Connection, msisdn: str) -> list[StkRecord]:
    rows = conn.execute(
        select(stk_requests)
        .where(stk_requests.c.msisdn == msisdn, stk_requests.c.status == PENDING)
        .order_by(stk_requests.c.created_at)
    )
    return [_record(row) for row in rows]


def due_request_ids(conn: Connection, *, due_by: float, limit: int) -> list[str]:
    rows = conn.execute(
        select(stk_requests.c.checkout_request_id)
        .where(stk_requests.c.status == PENDING, stk_requests.c.due_at <= due_by)
        .order_by(stk_requests.c.due_at)
        .limit(limit)
    )
    return [row.checkout_request_id for row in rows]


def pending_request(conn: Connection, checkout_request_id: str) -> StkRecord | None:
    row = _PENDING.one_or_none(conn, {"id": checkout_request_id})
    if row is None:
        return None
    return StkRecord(**dict(zip(_COLUMNS, row, strict=True)))


def settle(
    conn: Connection,
    checkout_request_id: str,
    *,
    result_code: int,
    result_desc: str,
    receipt: str | None,
    now: float,
) -> None:
    """Record the result of a pending request.

    Settling reads the request, moves the money and only then writes this row, so two
    processes racing to settle one request both get this far on PostgreSQL; the loser finds
    the row no longer pending and raises, which rolls its whole db transaction back (the
    ledger writer then retries its other jobs alone). On SQLite writers never overlap.
    """
    updated = _SETTLE.rowcount(
        conn,
        {
            "id": checkout_request_id,
            "status": COMPLETED if result_code == 0 else FAILED,
            "result_code": result_code,
            "result_desc": result_desc,
            "receipt": receipt,
            "now": now,
        },
    )
    if updated != 1:
        raise SettledElsewhere(checkout_request_id)


def replan(conn: Connection, checkout_request_id: str, *, action: str, due_at: float) -> bool:
    result = conn.execute(
        update(stk_requests)
        .where(
            stk_requests.c.checkout_request_id == checkout_request_id,
            stk_requests.c.status == PENDING,
        )
        .values(planned_action=action, due_at=due_at)
    )
    return bool(result.rowcount)
