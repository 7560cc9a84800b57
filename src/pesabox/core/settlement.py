"""The settlement job: on the platform clock, credit the bank for every withdrawal whose
settlement day (the next Kenyan business day) has begun.

It runs from the platform's background sweep, in every process that does background work,
so several may run at once; `org_funds.settle` makes each withdrawal settle exactly once.

Each withdrawal is settled by a writer job of its own. The jobs still share group commits,
and the writer re-runs the jobs of a failed batch one by one, so a withdrawal that cannot be
settled (a ledger invariant broken, say) fails alone: it is logged and left pending, and
the others settle.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from pesabox.clock import Clock
from pesabox.domain.services import org_funds
from pesabox.storage import withdrawals_store
from pesabox.storage.db import read_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.types import Connection, Engine
from pesabox.storage.writer import LedgerWriter

logger = logging.getLogger(__name__)

# Settled per sweep; a backlog (the clock moved a week) clears over a few sweeps.
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
        outcomes = await asyncio.gather(
            *(self._writer.submit(self._settle_job(wid, now)) for wid in due),
            return_exceptions=True,
        )
        settled = 0
        for withdrawal_id, outcome in zip(due, outcomes, strict=True):
            if isinstance(outcome, Exception):
                logger.error(
                    "settling withdrawal %s failed; left pending", withdrawal_id, exc_info=outcome
                )
            elif isinstance(outcome, BaseException):
                raise outcome
            elif outcome:
                settled += 1
        return settled

    def _settle_job(self, withdrawal_id: str, now: float) -> Callable[[Connection], bool]:
        return lambda conn: org_funds.settle(conn, self._ledger, withdrawal_id, now=now)
