"""Callbacks are written to the outbox in the same db transaction as the change they report.

That makes delivery at-least-once across crashes: a payment that committed has its callback
row committed with it, and a worker delivers every due row sooner or later.
"""

from __future__ import annotations

from sqlalchemy import Connection

from pesabox.callbacks.delivery import EXCERPT_CHARS_MAX
from pesabox.storage.fastsql import Statement

# On the payment path, so written once for the driver (see `fastsql`).
_INSERT = Statement(
    """
    INSERT INTO callbacks (transaction_id, kind, url, payload, status, attempts, max_attempts,
                           next_attempt_at, fail_first, delay_s, created_at, claimed_until)
    VALUES (:transaction_id, :kind, :url, :payload, :status, 0, :max_attempts, :now,
            :fail_first, :delay_s, :now, :claimed_until)
    RETURNING id
    """
)

# A request already made and answered (C2B validation): written in its final state, with its
# one attempt, in one statement each, since this is on the payment path.
_INSERT_FINISHED = Statement(
    """
    INSERT INTO callbacks (transaction_id, kind, url, payload, status, attempts, max_attempts,
                           next_attempt_at, fail_first, delay_s, created_at, delivered_at,
                           last_error)
    VALUES (:transaction_id, :kind, :url, :payload, :status, 1, 1, :now, 0, 0, :now,
            :delivered_at, :error)
    RETURNING id
    """
)
_INSERT_ATTEMPT = Statement(
    """
    INSERT INTO callback_attempts (callback_id, attempt, target_url, started_at, latency_ms,
                                   status_code, response_excerpt, error, outcome)
    VALUES (:callback_id, 1, :target_url, :now, :latency_ms, :status_code, :excerpt, :error,
            :outcome)
    """
)

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
# Written but never sent: a scenario asked for "callback never arrives".
SUPPRESSED = "suppressed"


def enqueue(
    conn: Connection,
    *,
    transaction_id: str,
    kind: str,
    url: str,
    payload: str,
    now: float,
    max_attempts: int,
    fail_first: int = 0,
    delay_s: float = 0.0,
    suppressed: bool = False,
    claimed_until: float | None = None,
) -> int:
    """Write one callback row; with `claimed_until` it is born leased to this process, which
    then delivers it at once instead of claiming it first (see `CallbackDispatcher.hand_over`).
    """
    row = _INSERT.one_or_none(
        conn,
        {
            "transaction_id": transaction_id,
            "kind": kind,
            "url": url,
            "payload": payload,
            "status": SUPPRESSED if suppressed else PENDING,
            "max_attempts": max_attempts,
            "now": now,
            "fail_first": fail_first,
            "delay_s": delay_s,
            "claimed_until": claimed_until,
        },
    )
    if row is None:
        raise RuntimeError("the outbox insert returned no id")
    return int(row[0])


def insert_finished(
    conn: Connection,
    *,
    transaction_id: str,
    kind: str,
    url: str,
    target_url: str,
    payload: str,
    answered: bool,
    status_code: int | None,
    latency_ms: float,
    excerpt: str | None,
    error: str | None,
    outcome: str,
    now: float,
) -> int:
    """Record a request that is over (sent once, never retried) with its one attempt."""
    row = _INSERT_FINISHED.one_or_none(
        conn,
        {
            "transaction_id": transaction_id,
            "kind": kind,
            "url": url,
            "payload": payload,
            "status": DELIVERED if answered else FAILED,
            "now": now,
            "delivered_at": now + latency_ms / 1000.0 if answered else None,
            "error": error,
        },
    )
    if row is None:
        raise RuntimeError("the outbox insert returned no id")
    callback_id = int(row[0])
    _INSERT_ATTEMPT.rowcount(
        conn,
        {
            "callback_id": callback_id,
            "target_url": target_url,
            "now": now,
            "latency_ms": latency_ms,
            "status_code": status_code,
            # The inspector keeps an excerpt, whatever was read to act on.
            "excerpt": excerpt[:EXCERPT_CHARS_MAX] if excerpt is not None else None,
            "error": error,
            "outcome": outcome,
        },
    )
    return callback_id
