"""The asynchronous side of M-Pesa Express: push, query and settle through the ledger writer,
and the timers that settle prompts when their planned moment comes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from pesabox.clock import Clock
from pesabox.domain.services import stk_push
from pesabox.domain.services.stk_settle import SettleContext, Settlement, settle_request
from pesabox.ids import checkout_request_id, merchant_request_id
from pesabox.sandbox.runtime import SandboxRuntime
from pesabox.sandbox.scenarios import Action
from pesabox.settings import Settings
from pesabox.storage import parties_store, stk_store
from pesabox.storage.db import read_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.types import Connection, Engine
from pesabox.storage.writer import LedgerWriter

log = logging.getLogger(__name__)
# Timers beyond this are left to the sweeper, which also follows sandbox clock jumps.
_MAX_TIMER_S = 300.0


class StkService:
    def __init__(
        self,
        *,
        engine: Engine,
        writer: LedgerWriter,
        ledger: LedgerStore,
        clock: Clock,
        runtime: SandboxRuntime,
        settings: Settings,
        shortcodes: parties_store.ShortcodeCache,
        on_settled: Callable[[Settlement], None],
    ) -> None:
        self._engine = engine
        self._writer = writer
        self._clock = clock
        self._runtime = runtime
        self._settings = settings
        self._on_settled = on_settled
        self._shortcodes = shortcodes
        self._context = SettleContext(
            ledger,
            settings.callback_max_attempts,
            self._shortcodes,
            bonga_points_per_100_kes=settings.bonga_points_per_100_kes,
        )
        self._inflight: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

    def deliver_from_here(self, lease_s: float) -> None:
        """This process runs a dispatcher: write callbacks leased to it (see SettleContext)."""
        self._context = replace(self._context, claim_lease_s=lease_s)

    # --- push and query ---------------------------------------------------------------

    async def push(self, command: stk_push.StkPushCommand, *, app_id: int) -> tuple[str, str]:
        merchant = stk_push.check_merchant(
            await self._shortcode(command.business_shortcode),
            password=command.password,
            shortcode=command.business_shortcode,
            timestamp=command.timestamp,
        )
        receiver = await self._shortcode(command.party_b)
        now = self._clock.now()
        deliverable = (
            len(command.account_reference) <= stk_push.MAX_ACCOUNT_REFERENCE_CHARS
            and len(stk_push.prompt_text(command, merchant)) <= stk_push.MAX_PROMPT_CHARS
        )
        # Magic values are a sandbox feature: a real customer paying KES 1032 must be paid.
        scenario = (
            self._runtime.match(msisdn=command.phone_number, amount_cents=command.amount_cents)
            if self._settings.environment == "sandbox"
            else None
        )
        plan = stk_push.plan_outcome(
            scenario=scenario,
            default_delay_s=self._settings.customer_delay_s,
            prompt_timeout_s=self._settings.stk_prompt_timeout_s,
            now=now,
            deliverable=deliverable,
            receiver_ok=stk_push.receiver_fits(command, merchant, receiver),
        )
        ids = (merchant_request_id(), checkout_request_id(now, command.phone_number))

        def job(conn: Connection) -> bool:
            return stk_push.record_push(
                conn, command=command, plan=plan, ids=ids, app_id=app_id, now=now
            )

        # The insert itself takes the subscriber lock (ON CONFLICT on the pending-phone index),
        # so a race between processes ends in one insert and one refusal, never an error.
        if not await self._writer.submit(job):
            raise stk_push.unable_to_lock()
        self.schedule(ids[1], plan.due_at)
        return ids

    async def query(self, command: stk_push.StkQueryCommand) -> stk_store.StkRecord:
        stk_push.check_merchant(
            await self._shortcode(command.business_shortcode),
            password=command.password,
            shortcode=command.business_shortcode,
            timestamp=command.timestamp,
        )
        record = await asyncio.to_thread(self._read_request, command.checkout_request_id)
        return stk_push.check_query_result(record, command)

    # --- settling ---------------------------------------------------------------------

    async def settle(self, checkout_id: str, *, action: Action | None = None) -> Settlement | None:
        def job(conn: Connection) -> Settlement | None:
            return settle_request(
                conn,
                self._context,
                checkout_request_id=checkout_id,
                now=self._clock.now(),
                action=action,
            )

        settlement = await self._writer.submit(job)
        if settlement is not None:
            self._on_settled(settlement)
        return settlement

    async def replan(self, checkout_id: str, *, action: Action, due_at: float) -> bool:
        def job(conn: Connection) -> bool:
            return stk_store.replan(conn, checkout_id, action=str(action), due_at=due_at)

        changed = await self._writer.submit(job)
        if changed:
            self.schedule(checkout_id, due_at)
        return changed

    def schedule(self, checkout_id: str, due_at: float) -> None:
        delay_s = due_at - self._clock.now()
        if delay_s <= 0:
            self._start_settling(checkout_id)
        elif delay_s <= _MAX_TIMER_S:
            asyncio.get_running_loop().call_later(delay_s, self._start_settling, checkout_id)

    async def settle_due(self, *, grace_s: float) -> int:
        """Settle every pending request whose moment has come (after a restart, a clock
        jump, or one another process accepted). Returns how many were started."""
        due_by = self._clock.now() - grace_s
        ids = await asyncio.to_thread(self._read_due, due_by)
        started = 0
        for checkout_id in ids:
            if checkout_id not in self._inflight:
                self._start_settling(checkout_id)
                started += 1
        return started

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _start_settling(self, checkout_id: str) -> None:
        if checkout_id in self._inflight:
            return
        self._inflight.add(checkout_id)
        task = asyncio.get_running_loop().create_task(self._settle_quietly(checkout_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _settle_quietly(self, checkout_id: str) -> None:
        try:
            await self.settle(checkout_id)
        except Exception:
            log.exception("settling %s failed; the sweeper will retry", checkout_id)
        finally:
            self._inflight.discard(checkout_id)

    # --- reads ------------------------------------------------------------------------

    async def _shortcode(self, shortcode: str) -> parties_store.ShortcodeRecord | None:
        now = self._clock.now()
        hit, record = self._shortcodes.cached(shortcode, now)
        if hit:
            return record
        return await asyncio.to_thread(self._read_shortcode, shortcode, now)

    def _read_shortcode(self, shortcode: str, now: float) -> parties_store.ShortcodeRecord | None:
        with read_transaction(self._engine) as conn:
            return self._shortcodes.lookup(conn, shortcode, now)

    def _read_request(self, checkout_id: str) -> stk_store.StkRecord | None:
        with read_transaction(self._engine) as conn:
            return stk_store.get_request(conn, checkout_id)

    def _read_due(self, due_by: float) -> list[str]:
        with read_transaction(self._engine) as conn:
            return stk_store.due_request_ids(conn, due_by=due_by, limit=1000)
