"""The sandbox control API's services: scenarios, the clock, and the callback inspector."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from pesabox.callbacks import queries as callback_queries
from pesabox.clock import daraja_timestamp
from pesabox.errors import SandboxError
from pesabox.sandbox.scenarios import Scenario
from pesabox.storage import sandbox_store
from pesabox.storage.db import read_transaction
from pesabox.storage.types import Connection

if TYPE_CHECKING:
    from pesabox.core.platform import Platform

MAX_CLOCK_JUMP_S = 366 * 24 * 3600
# Ids are database integers; anything past this cannot be one, and must not reach the driver.
_MAX_ID = 2**62


def _not_found(what: str) -> SandboxError:
    return SandboxError(f"no such {what}", error_code="404.001.01", http_status=404)


class SandboxService:
    def __init__(self, *, platform: Platform) -> None:
        self._platform = platform

    def _require_sandbox(self) -> None:
        if self._platform.settings.environment != "sandbox":
            raise SandboxError(
                "the sandbox control API is off in production",
                error_code="404.001.01",
                http_status=404,
            )

    # --- scenarios --------------------------------------------------------------------

    async def list_scenarios(self) -> list[Scenario]:
        self._require_sandbox()
        await asyncio.to_thread(self._platform.refresh)
        return list(self._platform.runtime.scenarios)

    async def add_scenario(self, scenario: Scenario) -> Scenario:
        self._require_sandbox()
        try:
            scenario.check()
        except ValueError as error:
            raise SandboxError(str(error)) from None
        now = self._platform.clock.now()

        def job(conn: Connection) -> int:
            return sandbox_store.insert_scenario(conn, scenario, now=now)

        scenario_id = await self._platform.writer.submit(job)
        await asyncio.to_thread(self._platform.refresh)
        return next(s for s in self._platform.runtime.scenarios if s.id == scenario_id)

    async def delete_scenario(self, scenario_id: int) -> None:
        self._require_sandbox()
        if not 0 < scenario_id < _MAX_ID:
            raise _not_found("scenario")

        def job(conn: Connection) -> bool:
            return sandbox_store.delete_scenario(conn, scenario_id)

        if not await self._platform.writer.submit(job):
            raise _not_found("scenario")
        await asyncio.to_thread(self._platform.refresh)

    # --- clock ------------------------------------------------------------------------

    def clock_view(self) -> dict[str, Any]:
        now = self._platform.clock.now()
        return {
            "now": now,
            "timestamp": daraja_timestamp(now),
            "offset_s": self._platform.clock.offset_s,
        }

    async def advance_clock(self, seconds: float) -> dict[str, Any]:
        self._require_sandbox()
        if not 0 <= seconds <= MAX_CLOCK_JUMP_S:
            raise SandboxError("advance_s must be between 0 and one year")
        offset = self._platform.clock.offset_s + seconds

        def job(conn: Connection) -> None:
            sandbox_store.write_state(conn, sandbox_store.CLOCK_OFFSET_KEY, repr(offset))

        await self._platform.writer.submit(job)
        self._platform.clock.offset_s = offset
        # Fire whatever the jump made due now, instead of at the next tick.
        await self._platform.sweep_once(grace_s=0.0)
        await self._platform.stk.drain()
        return self.clock_view()

    # --- callbacks --------------------------------------------------------------------

    async def list_callbacks(self, **filters: Any) -> list[dict[str, Any]]:
        self._require_sandbox()

        def read() -> list[dict[str, Any]]:
            with read_transaction(self._platform.engine) as conn:
                return callback_queries.list_callbacks(conn, **filters)

        return await asyncio.to_thread(read)

    async def resend_callback(self, callback_id: int) -> None:
        self._require_sandbox()
        if not 0 < callback_id < _MAX_ID:
            raise _not_found("callback")
        now = self._platform.clock.now()

        def job(conn: Connection) -> bool:
            return callback_queries.schedule_resend(conn, callback_id, now)

        if not await self._platform.writer.submit(job):
            raise _not_found("resendable callback")
        self._platform.dispatcher.notify()
