"""Group commit: one writer per process applies many queued writes in one db transaction.

A durable commit costs a disk flush, so committing each request alone caps a small machine at
a few thousand writes a second. Handlers instead enqueue a job and await its future; the
writer drains the queue, runs the whole batch in one db transaction, commits once, and only
then resolves the futures, so no response goes out before its write is durable. If anything
in a batch raises, the batch is rolled back and each job is retried in a db transaction of its
own, so one bad job fails alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from pesabox.storage.db import write_transaction

log = logging.getLogger(__name__)

T = TypeVar("T")
# How long close() waits for queued jobs to commit (serving/runner.py waits for it too).
CLOSE_DRAIN_S = 30.0
# Queued by close(): everything before it is committed, then the writer stops.
_STOP = object()
Job = Callable[[Connection], T]


class WriterClosed(Exception):
    pass


class LedgerWriter:
    def __init__(
        self,
        engine: Engine,
        *,
        batch_max: int = 512,
        on_rollback: Callable[[], None] | None = None,
    ) -> None:
        self._engine = engine
        self._batch_max = batch_max
        self._on_rollback = on_rollback
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        # A thread of its own: in the shared default pool, a flood of reads (token look-ups,
        # say) would queue the commit of every payment behind them.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-writer")
        self.batches_committed = 0
        self.jobs_committed = 0

    async def submit(self, job: Job[T]) -> T:
        """Run `job` inside the next group commit; returns after that commit."""
        if self._task is None or self._task.done():
            if self._task is not None:
                raise WriterClosed("the ledger writer has stopped")
            self._task = asyncio.create_task(self._run(), name="ledger-writer")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((job, future))
        return await future

    async def close(self) -> None:
        """Commit everything queued so far (waiting at most 30 s), then stop."""
        if self._task is None:
            return
        if not self._task.done():
            self._queue.put_nowait(_STOP)
            try:
                await asyncio.wait_for(asyncio.shield(self._task), CLOSE_DRAIN_S)
            except TimeoutError:
                log.warning("the ledger writer did not drain in %.0f s; stopping it", CLOSE_DRAIN_S)
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        # Whatever is left will not run now: its callers hear so instead of waiting for ever.
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not _STOP and not item[1].done():
                item[1].set_exception(WriterClosed("the ledger writer has stopped"))
        self._executor.shutdown(wait=False)

    async def _run(self) -> None:
        while True:
            batch: list[tuple[Job[Any], asyncio.Future[Any]]] = []
            stopping = False
            item = await self._queue.get()
            while True:
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
                if len(batch) >= self._batch_max or self._queue.empty():
                    break
                item = self._queue.get_nowait()
            if batch:
                await self._run_batch(batch)
            if stopping:
                return

    async def _run_batch(self, batch: list[tuple[Job[Any], asyncio.Future[Any]]]) -> None:
        jobs = [job for job, _ in batch]
        outcomes = await asyncio.get_running_loop().run_in_executor(
            self._executor, self._commit, jobs
        )
        for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def _commit(self, jobs: list[Job[Any]]) -> list[tuple[bool, Any]]:
        try:
            with write_transaction(self._engine) as conn:
                results = [job(conn) for job in jobs]
        except Exception as error:
            if self._on_rollback is not None:
                self._on_rollback()
            if len(jobs) == 1:
                # It already ran alone: its error is its own.
                return [(False, error)]
            log.warning("group commit of %d jobs failed; retrying each alone", len(jobs))
            return [self._commit_alone(job) for job in jobs]
        self.batches_committed += 1
        self.jobs_committed += len(jobs)
        return [(True, result) for result in results]

    def _commit_alone(self, job: Job[Any]) -> tuple[bool, Any]:
        try:
            with write_transaction(self._engine) as conn:
                result = job(conn)
        except Exception as error:  # handed to the job's own caller
            if self._on_rollback is not None:
                self._on_rollback()
            return (False, error)
        self.batches_committed += 1
        self.jobs_committed += 1
        return (True, result)
