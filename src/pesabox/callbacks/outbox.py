"""Callbacks are written to the outbox in the same db transaction as the change they report.

That makes delivery at-least-once across crashes: a payment that committed has its callback
row committed with it, and a worker delivers every due row sooner or later.
"""

from __future__ import annotations

from sqlalchemy import Connection

from pesabox.storage.tables import callbacks

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
) -> int:
    result = conn.execute(
        callbacks.insert().values(
            transaction_id=transaction_id,
            kind=kind,
            url=url,
            payload=payload,
            status=SUPPRESSED if suppressed else PENDING,
            attempts=0,
            max_attempts=max_attempts,
            next_attempt_at=now,
            fail_first=fail_first,
            delay_s=delay_s,
            created_at=now,
        )
    )
    key = result.inserted_primary_key
    return int(key[0]) if key else 0
