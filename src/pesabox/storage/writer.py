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
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from pesabox.storage.db import write_transaction

log = logging.getLogger(__name__)

T = TypeVar("T")
_CLOSE_DRAIN_S = 30.0
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
        self._queue: asyncio.Queue[tuple[Job[Any], asyncio.Future[Any]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
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
        if self._task is None:
            return
        # Let queued work finish (bounded: a writer that died cannot drain its queue), then stop.
        deadline = asyncio.get_running_loop().time() + _CLOSE_DRAIN_S
        while not self._queue.empty() and not self._task.done():
            if asyncio.get_running_loop().time() > deadline:
                log.warning("closing the writer with %d jobs still queued", self._queue.qsize())
                break
            await asyncio.sleep(0.01)
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch_max and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            jobs = [job for job, _ in batch]
            outcomes = await asyncio.to_thread(self._commit, jobs)
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
        except Exception:
            if self._on_rollback is not None:
                self._on_rollback()
            if len(jobs) == 1:
                return [self._commit_alone(jobs[0])]
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
