"""SQL over the callback outbox: claiming due rows, recording attempts, reading, resending.

Every function takes a connection inside a db transaction that the caller owns, so the
worker can run them through the ledger writer's group commit and the API inside its unit of
work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Float, bindparam, case, func, or_, select, update

from pesabox.callbacks.outbox import DELIVERED, PENDING
from pesabox.storage.tables import callback_attempts, callbacks

# A listing is for people and dashboards; no caller needs more rows than this at once.
LIST_LIMIT_MAX = 500


@dataclass(frozen=True, slots=True)
class ClaimedCallback:
    """A due row a worker now owns until its lease ends."""

    id: int
    url: str
    payload: str
    attempts: int
    max_attempts: int
    fail_first: int
    delay_s: float


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One finished attempt, and the state it leaves its callback in."""

    callback_id: int
    attempt: int
    target_url: str
    started_at: float
    latency_ms: float
    status_code: int | None
    response_excerpt: str | None
    error: str | None
    outcome: str
    # What the callback row becomes: pending (retry later), delivered or failed.
    status: str
    next_attempt_at: float
    delivered_at: float | None


def claim_due(
    conn: Connection, *, now: float, lease_s: float, limit: int, skip_locked: bool
) -> list[ClaimedCallback]:
    """Take up to `limit` due rows and lease them for `lease_s` plus each row's own delay."""
    due = (
        select(
            callbacks.c.id,
            callbacks.c.url,
            callbacks.c.payload,
            callbacks.c.attempts,
            callbacks.c.max_attempts,
            callbacks.c.fail_first,
            callbacks.c.delay_s,
        )
        .where(
            callbacks.c.status == PENDING,
            callbacks.c.next_attempt_at <= now,
            or_(callbacks.c.claimed_until.is_(None), callbacks.c.claimed_until < now),
        )
        .order_by(callbacks.c.next_attempt_at)
        .limit(limit)
    )
    if skip_locked:
        # Concurrent workers each take different rows instead of queueing on the same ones.
        due = due.with_for_update(skip_locked=True)
    rows = [ClaimedCallback(*row) for row in conn.execute(due)]
    if rows:
        # A held-back ("slow") callback sleeps before its POST, so its lease covers that too.
        conn.execute(
            update(callbacks)
            .where(callbacks.c.id.in_([row.id for row in rows]))
            .values(claimed_until=callbacks.c.delay_s + (now + lease_s))
        )
    return rows


_record_update = (
    update(callbacks)
    # The attempts guard keeps a worker whose lease lapsed from overwriting newer state.
    .where(callbacks.c.id == bindparam("b_id"), callbacks.c.attempts == bindparam("b_before"))
    .values(
        attempts=bindparam("b_attempt"),
        status=bindparam("b_status"),
        next_attempt_at=bindparam("b_next_attempt_at"),
        claimed_until=None,
        # A retry leaves delivered_at alone; only a delivery sets it.
        delivered_at=func.coalesce(
            bindparam("b_delivered_at", type_=Float), callbacks.c.delivered_at
        ),
        last_error=bindparam("b_error"),
    )
)


def record_attempts(conn: Connection, records: Sequence[AttemptRecord]) -> None:
    """Insert the attempt rows and move their callbacks on, in a few batched statements.

    The insert comes first: its unique (callback_id, attempt) key refuses an attempt that a
    worker whose lease lapsed reports after another worker already recorded it.
    """
    if not records:
        return
    conn.execute(callback_attempts.insert(), [_attempt_row(record) for record in records])
    delivered = [record for record in records if record.status == DELIVERED]
    others = [record for record in records if record.status != DELIVERED]
    if delivered:
        _mark_delivered(conn, delivered)
    if others:
        conn.execute(_record_update, [_update_params(record) for record in others])


def _mark_delivered(conn: Connection, records: Sequence[AttemptRecord]) -> None:
    # Delivery is the common case, so it gets one statement for the whole batch rather than
    # one per row. The rows then share a delivered_at (the batch's latest, within one group
    # commit of each other); each attempt row keeps its own exact start and latency.
    delivered_at = max(record.delivered_at or record.started_at for record in records)
    conn.execute(
        update(callbacks)
        .where(callbacks.c.id.in_([record.callback_id for record in records]))
        .values(
            attempts=callbacks.c.attempts + 1,
            status=DELIVERED,
            next_attempt_at=delivered_at,
            claimed_until=None,
            delivered_at=delivered_at,
            last_error=None,
        )
    )


def _attempt_row(record: AttemptRecord) -> dict[str, Any]:
    return {
        "callback_id": record.callback_id,
        "attempt": record.attempt,
        "target_url": record.target_url,
        "started_at": record.started_at,
        "latency_ms": record.latency_ms,
        "status_code": record.status_code,
        "response_excerpt": record.response_excerpt,
        "error": record.error,
        "outcome": record.outcome,
    }


def _update_params(record: AttemptRecord) -> dict[str, Any]:
    return {
        "b_id": record.callback_id,
        "b_before": record.attempt - 1,
        "b_attempt": record.attempt,
        "b_status": record.status,
        "b_next_attempt_at": record.next_attempt_at,
        "b_delivered_at": record.delivered_at,
        "b_error": record.error,
    }


def release_claims(conn: Connection, callback_ids: Sequence[int]) -> None:
    """Hand rows back before their lease ends (a worker stopped before attempting them)."""
    if callback_ids:
        conn.execute(
            update(callbacks)
            .where(callbacks.c.id.in_(list(callback_ids)), callbacks.c.status == PENDING)
            .values(claimed_until=None)
        )


# Requests the platform asked during a payment and waited for (C2B validation): sending one
# again later would ask a question whose answer can no longer change anything.
NOT_RESENT_KINDS = ("c2b_validation",)


def schedule_resend(conn: Connection, callback_id: int, now: float) -> bool:
    """Make a callback due now whatever its state, allowing at least one more attempt.
    False when there is no such callback or it is of a kind that is never resent."""
    result = conn.execute(
        update(callbacks)
        .where(callbacks.c.id == callback_id, callbacks.c.kind.not_in(NOT_RESENT_KINDS))
        .values(
            status=PENDING,
            next_attempt_at=now,
            claimed_until=None,
            max_attempts=case(
                (callbacks.c.max_attempts > callbacks.c.attempts, callbacks.c.max_attempts),
                else_=callbacks.c.attempts + 1,
            ),
        )
    )
    return result.rowcount > 0


def list_callbacks(
    conn: Connection,
    *,
    limit: int = 50,
    transaction_id: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """Callbacks newest first, each with its attempts oldest first."""
    query = select(callbacks).order_by(callbacks.c.id.desc())
    query = query.limit(min(max(limit, 1), LIST_LIMIT_MAX))
    if transaction_id is not None:
        query = query.where(callbacks.c.transaction_id == transaction_id)
    if status is not None:
        query = query.where(callbacks.c.status == status)
    rows = [dict(row) for row in conn.execute(query).mappings()]
    details = _attempts_by_callback(conn, [row["id"] for row in rows])
    return [_describe(row, details.get(row["id"], [])) for row in rows]


def get_callback(conn: Connection, callback_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(callbacks).where(callbacks.c.id == callback_id)).mappings().first()
    if row is None:
        return None
    details = _attempts_by_callback(conn, [callback_id])
    return _describe(dict(row), details.get(callback_id, []))


def _attempts_by_callback(
    conn: Connection, callback_ids: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    if not callback_ids:
        return {}
    query = (
        select(callback_attempts)
        .where(callback_attempts.c.callback_id.in_(list(callback_ids)))
        .order_by(callback_attempts.c.callback_id, callback_attempts.c.attempt)
    )
    grouped: dict[int, list[dict[str, Any]]] = {}
    for row in conn.execute(query).mappings():
        grouped.setdefault(row["callback_id"], []).append(
            {key: row[key] for key in _ATTEMPT_FIELDS}
        )
    return grouped


_ATTEMPT_FIELDS = (
    "attempt",
    "target_url",
    "started_at",
    "latency_ms",
    "status_code",
    "response_excerpt",
    "error",
    "outcome",
)
_CALLBACK_FIELDS = (
    "id",
    "transaction_id",
    "kind",
    "url",
    "status",
    "attempts",
    "max_attempts",
    "next_attempt_at",
    "created_at",
    "delivered_at",
    "last_error",
)


def _describe(row: dict[str, Any], attempts_detail: list[dict[str, Any]]) -> dict[str, Any]:
    described = {key: row[key] for key in _CALLBACK_FIELDS}
    described["payload"] = _parse_payload(row["payload"])
    described["attempts_detail"] = attempts_detail
    return described


def _parse_payload(payload: str) -> Any:
    # Payloads are written as JSON by the platform; show anything else as the text it is.
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return payload
