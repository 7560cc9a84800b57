"""Writing a callback that this process will deliver itself, with a scenario's behaviour.

The settling code of every product ends the same way: the payload goes into the outbox in
the payment's db transaction, shaped by the scenario that matched (never sent, failing its
first N attempts, or held back), and, when this process runs a dispatcher, already leased to
it so the dispatcher needs no claim.
"""

from __future__ import annotations

from dataclasses import dataclass

from pesabox.callbacks import outbox
from pesabox.callbacks.delivery import HttpAttempt
from pesabox.callbacks.queries import ClaimedCallback
from pesabox.sandbox.scenarios import CallbackMode
from pesabox.storage.types import Connection


@dataclass(frozen=True, slots=True)
class CallbackBehaviour:
    """A scenario's say over one callback, as stored on the business transaction."""

    mode: str = CallbackMode.DELIVER
    fail_times: int = 0
    delay_s: float = 0.0


def enqueue_for_delivery(
    conn: Connection,
    *,
    transaction_id: str,
    kind: str,
    url: str,
    payload: str,
    behaviour: CallbackBehaviour,
    max_attempts: int,
    lease_s: float | None,
    now: float,
) -> tuple[int, ClaimedCallback | None]:
    """Write the row; returns its id and, when it was written leased to this process, the
    row to hand to the dispatcher."""
    mode = CallbackMode(behaviour.mode)
    fail_first = behaviour.fail_times if mode == CallbackMode.FAIL else 0
    delay_s = behaviour.delay_s if mode == CallbackMode.SLOW else 0.0
    # Simulated failures must not use up the real attempts.
    attempts_allowed = max_attempts + behaviour.fail_times
    lease = lease_s if mode != CallbackMode.NEVER else None
    callback_id = outbox.enqueue(
        conn,
        transaction_id=transaction_id,
        kind=kind,
        url=url,
        payload=payload,
        now=now,
        max_attempts=attempts_allowed,
        fail_first=fail_first,
        delay_s=delay_s,
        suppressed=mode == CallbackMode.NEVER,
        claimed_until=now + delay_s + lease if lease is not None else None,
    )
    if lease is None:
        return callback_id, None
    leased = ClaimedCallback(
        id=callback_id,
        url=url,
        payload=payload,
        attempts=0,
        max_attempts=attempts_allowed,
        fail_first=fail_first,
        delay_s=delay_s,
    )
    return callback_id, leased


def record_exchange(
    conn: Connection,
    *,
    transaction_id: str,
    kind: str,
    url: str,
    target_url: str,
    payload: str,
    attempt: HttpAttempt,
    started_at: float,
) -> int:
    """Record a request the platform made and waited for (C2B validation) as a callback
    with its one attempt, so the inspector lists it with the rest. It is never retried."""
    answered = attempt.outcome == "delivered"
    return outbox.insert_finished(
        conn,
        transaction_id=transaction_id,
        kind=kind,
        url=url,
        target_url=target_url,
        payload=payload,
        answered=answered,
        status_code=attempt.status_code,
        latency_ms=attempt.latency_ms,
        excerpt=attempt.response_excerpt,
        error=attempt.error,
        outcome=attempt.outcome if answered else "give_up",
        now=started_at,
    )
