"""Callbacks are written to the outbox in the same db transaction as the change they report.

That makes delivery at-least-once across crashes: a payment that committed has its callback
row committed with it, and a worker delivers every due row sooner or later.
"""

from __future__ import annotations

from sqlalchemy import Connection

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
