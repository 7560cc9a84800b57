"""Sandbox state every gateway process shares through the database: the clock offset and
the scenario table. Each process keeps a copy and refreshes it on every poll."""

from __future__ import annotations

from collections.abc import Sequence

from pesabox.clock import SystemClock
from pesabox.sandbox.scenarios import Scenario, match
from pesabox.storage import sandbox_store
from pesabox.storage.types import Connection


class SandboxRuntime:
    def __init__(self, clock: SystemClock) -> None:
        self.clock = clock
        self._scenarios: Sequence[Scenario] = ()
        self._msisdns: set[str] = set()
        self._amounts: set[int] = set()

    def refresh(self, conn: Connection) -> None:
        offset = sandbox_store.read_state(conn, sandbox_store.CLOCK_OFFSET_KEY)
        self.clock.offset_s = float(offset) if offset else 0.0
        self._scenarios = tuple(sandbox_store.load_scenarios(conn))
        # Most pushes match nothing; an index on the two keys answers that without a scan.
        self._msisdns = {s.msisdn for s in self._scenarios if s.msisdn is not None}
        self._amounts = {s.amount_cents for s in self._scenarios if s.amount_cents is not None}

    @property
    def scenarios(self) -> Sequence[Scenario]:
        return self._scenarios

    def match(self, *, msisdn: str, amount_cents: int) -> Scenario | None:
        if msisdn not in self._msisdns and amount_cents not in self._amounts:
            return None
        return match(self._scenarios, msisdn=msisdn, amount_cents=amount_cents)
