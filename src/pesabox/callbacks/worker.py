"""The callback dispatcher: claims due outbox rows, POSTs them, records every attempt.

One loop claims a bounded batch of due rows and leases them (`claimed_until`), so a crashed
process's rows come back once its lease lapses. On PostgreSQL the claim skips rows another
worker has locked; on SQLite it runs through the ledger writer, the one writer per process,
and `BEGIN IMMEDIATE` serialises writers across processes. Each claimed row gets a task; a
semaphore bounds the POSTs in flight. Results are recorded in batches through the writer:
whatever attempts finished while the previous batch was committing go into the next one, so
a busy worker spends one writer job on many callbacks.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from pesabox.callbacks.backoff import next_attempt_delay_s
from pesabox.callbacks.delivery import (
    DELIVERED,
    GIVE_UP,
    RETRY,
    CallbackSender,
    HttpAttempt,
    rewrite_url,
    settle_outcome,
    simulated_failure,
)
from pesabox.callbacks.outbox import DELIVERED as STATUS_DELIVERED
from pesabox.callbacks.outbox import FAILED, PENDING
from pesabox.callbacks.queries import (
    AttemptRecord,
    ClaimedCallback,
    claim_due,
    record_attempts,
    release_claims,
)
from pesabox.clock import Clock
from pesabox.settings import Settings
from pesabox.storage.db import write_transaction
from pesabox.storage.writer import LedgerWriter

log = logging.getLogger(__name__)

# A claim outlives any normal attempt (timeout plus queueing) by a wide margin; a process that
# dies holding claims delays those callbacks by at most this long.
LEASE_S_MIN = 30.0
CLAIM_BATCH_MAX = 256
SHUTDOWN_GRACE_S = 5.0

_ClaimJob = Callable[[Connection], list[ClaimedCallback]]
_RecordJob = Callable[[Connection], None]


@dataclass
class DispatcherCounters:
    claim_rounds: int = 0
    claimed: int = 0
    attempts: int = 0
    delivered: int = 0
    retried: int = 0
    given_up: int = 0
    simulated_failures: int = 0
    # Attempts whose record could not be written (their claim lapses and they are retried).
    record_failures: int = 0
    loop_errors: int = 0


class CallbackDispatcher:
    def __init__(
        self,
        *,
        engine: Engine,
        writer: LedgerWriter,
        settings: Settings,
        clock: Clock,
        # None picks a lease that outlasts any attempt: 30 s, or three timeouts if longer.
        lease_s: float | None = None,
        shutdown_grace_s: float = SHUTDOWN_GRACE_S,
        rng: random.Random | None = None,
        # The context https callbacks are sent with (see CallbackSender); None: the system's.
        client_tls: ssl.SSLContext | None = None,
    ) -> None:
        self._engine = engine
        self._writer = writer
        self._settings = settings
        self._clock = clock
        self._lease_s = lease_s or max(LEASE_S_MIN, 3 * settings.callback_timeout_s)
        self._shutdown_grace_s = shutdown_grace_s
        # Jitter only spreads retries; it guards nothing, so a seeded PRNG is fine.
        self._rng = rng or random.Random()  # noqa: S311
        self._rules = settings.rewrite_rules()
        self._skip_locked = engine.dialect.name == "postgresql"
        concurrency = max(1, settings.callback_concurrency)
        self._sender = CallbackSender(
            timeout_s=settings.callback_timeout_s, connection_limit=concurrency, tls=client_tls
        )
        self._post_slots = asyncio.Semaphore(concurrency)
        # Claimed rows wait for a POST slot; twice the slots keeps the pipe full without
        # leasing far more rows than this process can start soon. The loop claims again only
        # once the backlog falls to one slot's worth, so each claim takes many rows at once
        # instead of one row per finished POST.
        self._in_flight_max = 2 * concurrency
        self._refill_at = concurrency
        self._in_flight: dict[asyncio.Task[None], ClaimedCallback] = {}
        # Rows handed over while every slot was taken, whose claims are to be released.
        self._overflow: list[int] = []
        self._wake = asyncio.Event()
        self._slot_freed = asyncio.Event()
        self.counters = DispatcherCounters()
        self._recorder = _AttemptRecorder(writer, self.counters)
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        if self._loop_task is not None:
            raise RuntimeError("the callback dispatcher is already started")
        await self._sender.open()
        self._loop_task = asyncio.create_task(self._run(), name="callback-dispatcher")

    async def stop(self) -> None:
        """Stop claiming, give in-flight attempts a bounded time, record, close the session."""
        if self._loop_task is None:
            return
        self._stopping = True
        self._wake.set()
        self._slot_freed.set()
        await self._loop_task
        abandoned = await self._drain_in_flight() + self._overflow
        self._overflow = []
        await self._recorder.flush()
        if abandoned:
            await self._release(abandoned)
        await self._sender.close()

    def hand_over(self, row: ClaimedCallback) -> None:
        """Deliver a row this process wrote already leased to itself (no claim needed).

        A row handed over while the dispatcher is not running keeps its lease, which lapses,
        and any worker then claims it as usual.
        """
        if self._loop_task is None or self._stopping:
            return
        # Past the cap the row goes back to the table (its claim released in the loop's next
        # step, many at once), where the claim loop takes it as soon as a slot frees. Left
        # leased, it would wait out its whole lease (30 s) while slots sat idle.
        if len(self._in_flight) >= self._in_flight_max:
            self._overflow.append(row.id)
            self._slot_freed.set()
            return
        self._launch(row)

    @property
    def lease_s(self) -> float:
        return self._lease_s

    @property
    def running(self) -> bool:
        return self._loop_task is not None and not self._stopping

    def notify(self) -> None:
        """New callbacks were committed: look for due rows now rather than at the next poll."""
        self._wake.set()

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    # --- the claim loop -----------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self._step()
            except Exception:
                # Most likely the database is away; delivery must outlive that, and the poll
                # interval paces the retries (stop() still wakes the wait at once).
                self.counters.loop_errors += 1
                log.exception("callback dispatcher step failed")
                self._wake.clear()
                await _wait(self._wake, self._settings.poll_interval_s)

    async def _step(self) -> None:
        if self._overflow:
            released, self._overflow = self._overflow, []
            await self._release(released)
        if len(self._in_flight) > self._refill_at:
            self._slot_freed.clear()
            await _wait(self._slot_freed, self._settings.poll_interval_s)
            return
        # Cleared before the claim, so a notify() that arrives during it is not lost.
        self._wake.clear()
        limit = min(self._in_flight_max - len(self._in_flight), CLAIM_BATCH_MAX)
        claimed = await self._claim(limit)
        self.counters.claim_rounds += 1
        self.counters.claimed += len(claimed)
        for row in claimed:
            self._launch(row)
        if len(claimed) < limit:
            # Nothing more is due: sleep until notified or the next poll.
            await _wait(self._wake, self._settings.poll_interval_s)

    async def _claim(self, limit: int) -> list[ClaimedCallback]:
        now = self._clock.now()

        def job(conn: Connection) -> list[ClaimedCallback]:
            return claim_due(
                conn, now=now, lease_s=self._lease_s, limit=limit, skip_locked=self._skip_locked
            )

        if self._skip_locked:
            # PostgreSQL takes concurrent writers; claiming in its own short db transaction
            # keeps the row locks from waiting on a whole group commit.
            return await asyncio.to_thread(self._run_write, job)
        return await self._writer.submit(job)

    def _run_write(self, job: _ClaimJob) -> list[ClaimedCallback]:
        with write_transaction(self._engine) as conn:
            return job(conn)

    def _launch(self, row: ClaimedCallback) -> None:
        task = asyncio.create_task(self._attempt(row))
        self._in_flight[task] = row
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        row = self._in_flight.pop(task, None)
        if not task.cancelled() and (error := task.exception()) is not None:
            # Unrecorded, so the row's lease lapses and it is attempted again later.
            self.counters.loop_errors += 1
            callback_id = row.id if row is not None else None
            log.error("attempt of callback %s failed", callback_id, exc_info=error)
        if len(self._in_flight) <= self._refill_at:
            self._slot_freed.set()

    # --- one attempt --------------------------------------------------------------------

    async def _attempt(self, row: ClaimedCallback) -> None:
        attempt = row.attempts + 1
        target_url = rewrite_url(row.url, self._rules)
        started_at = self._clock.now()
        if attempt <= row.fail_first:
            self.counters.simulated_failures += 1
            http = simulated_failure(attempt, row.fail_first)
        else:
            if row.delay_s > 0:
                await asyncio.sleep(row.delay_s)
            async with self._post_slots:
                started_at = self._clock.now()
                http = await self._sender.post(target_url, row.payload)
        record = self._settle(row, http, target_url=target_url, started_at=started_at)
        self._count(record.outcome)
        self._recorder.add(record)

    def _settle(
        self, row: ClaimedCallback, http: HttpAttempt, *, target_url: str, started_at: float
    ) -> AttemptRecord:
        attempt = row.attempts + 1
        outcome = settle_outcome(http.outcome, attempt=attempt, max_attempts=row.max_attempts)
        now = self._clock.now()
        next_attempt_at = now
        if outcome == RETRY:
            next_attempt_at += next_attempt_delay_s(
                attempt,
                base_s=self._settings.callback_backoff_base_s,
                cap_s=self._settings.callback_backoff_cap_s,
                rng=self._rng,
            )
        return AttemptRecord(
            callback_id=row.id,
            attempt=attempt,
            target_url=target_url,
            started_at=started_at,
            latency_ms=http.latency_ms,
            status_code=http.status_code,
            response_excerpt=http.response_excerpt,
            error=http.error,
            outcome=outcome,
            status=_STATUS_AFTER[outcome],
            next_attempt_at=next_attempt_at,
            delivered_at=now if outcome == DELIVERED else None,
        )

    def _count(self, outcome: str) -> None:
        self.counters.attempts += 1
        if outcome == DELIVERED:
            self.counters.delivered += 1
        elif outcome == GIVE_UP:
            self.counters.given_up += 1
        else:
            self.counters.retried += 1

    # --- shutdown -----------------------------------------------------------------------

    async def _drain_in_flight(self) -> list[int]:
        """Wait up to the grace period; cancel the rest and return their callback ids."""
        if not self._in_flight:
            return []
        rows = dict(self._in_flight)
        _, pending = await asyncio.wait(rows, timeout=self._shutdown_grace_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        return [rows[task].id for task in pending]

    async def _release(self, callback_ids: list[int]) -> None:
        # Abandoned rows go back at once instead of waiting out their lease.
        try:
            await self._writer.submit(lambda conn: release_claims(conn, callback_ids))
        except Exception:
            log.exception("releasing %d abandoned callback claims failed", len(callback_ids))


_STATUS_AFTER = {DELIVERED: STATUS_DELIVERED, GIVE_UP: FAILED, RETRY: PENDING}


async def _wait(event: asyncio.Event, timeout_s: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), timeout_s)
    except TimeoutError:
        pass


class _AttemptRecorder:
    """Collects finished attempts and writes them through the writer, many per job."""

    def __init__(self, writer: LedgerWriter, counters: DispatcherCounters) -> None:
        self._writer = writer
        self._counters = counters
        self._buffer: list[AttemptRecord] = []
        self._task: asyncio.Task[None] | None = None

    def add(self, record: AttemptRecord) -> None:
        self._buffer.append(record)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="callback-recorder")

    async def flush(self) -> None:
        while self._task is not None and not self._task.done():
            await self._task

    async def _drain(self) -> None:
        while self._buffer:
            batch, self._buffer = self._buffer, []
            try:
                await self._writer.submit(_record_job(batch))
            except Exception:
                await self._record_one_by_one(batch)

    async def _record_one_by_one(self, batch: list[AttemptRecord]) -> None:
        # One stale record (say, a lapsed lease another worker already recorded) must not
        # lose the others; the writer still commits these jobs together.
        outcomes = await asyncio.gather(
            *(self._writer.submit(_record_job([record])) for record in batch),
            return_exceptions=True,
        )
        for record, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                self._counters.record_failures += 1
                log.warning(
                    "recording attempt %d of callback %d failed: %s",
                    record.attempt,
                    record.callback_id,
                    outcome,
                )


def _record_job(records: list[AttemptRecord]) -> _RecordJob:
    return lambda conn: record_attempts(conn, records)
