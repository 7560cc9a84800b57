"""The settlement job: on the platform clock, credit the bank for every withdrawal whose
settlement day (the next Kenyan business day) has begun.

It runs from the platform's background sweep, in every process that does background work,
so several may run at once; `org_funds.settle` makes each withdrawal settle exactly once.
"""

from __future__ import annotations

import asyncio

from pesabox.clock import Clock
from pesabox.domain.services import org_funds
from pesabox.storage import withdrawals_store
from pesabox.storage.db import read_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.types import Connection, Engine
from pesabox.storage.writer import LedgerWriter

# Settled per group commit; a backlog (the clock moved a week) clears over a few sweeps.
BATCH_MAX = 200


class SettlementJob:
    def __init__(
        self, *, engine: Engine, writer: LedgerWriter, ledger: LedgerStore, clock: Clock
    ) -> None:
        self._engine = engine
        self._writer = writer
        self._ledger = ledger
        self._clock = clock

    def _due(self, now: float) -> list[str]:
        with read_transaction(self._engine) as conn:
            return withdrawals_store.due_ids(conn, now=now, limit=BATCH_MAX)

    async def settle_due(self) -> int:
        """Settle what has fallen due; returns how many this process settled."""
        now = self._clock.now()
        due = await asyncio.to_thread(self._due, now)
        if not due:
            return 0

        def job(conn: Connection) -> int:
            return sum(org_funds.settle(conn, self._ledger, wid, now=now) for wid in due)

        return await self._writer.submit(job)
