"""One process's pesabox: the engine, the ledger writer, the services and the background
loops, built from settings and shared by the HTTP app, the worker and the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

from pesabox.callbacks.queries import ClaimedCallback
from pesabox.callbacks.worker import CallbackDispatcher
from pesabox.clock import SystemClock
from pesabox.core.bonga import BongaService
from pesabox.core.c2b import C2bService
from pesabox.core.customer_admin import CustomerAdminService
from pesabox.core.customer_menu import CustomerMenuService
from pesabox.core.handset import HandsetService
from pesabox.core.initiator import InitiatorService
from pesabox.core.org_portal import OrgPortalService
from pesabox.core.pin_check import PinCheck
from pesabox.core.request_log import RequestLog
from pesabox.core.sandbox import SandboxService
from pesabox.core.settlement import SettlementJob
from pesabox.core.stk import StkService
from pesabox.domain.services.stk_settle import Settlement
from pesabox.sandbox.runtime import SandboxRuntime
from pesabox.security.certificates import ENVIRONMENTS
from pesabox.security.oauth import AccessTokens
from pesabox.security.web_sessions import PortalSessions
from pesabox.settings import Settings
from pesabox.storage import apps_store, certificates_store, parties_store
from pesabox.storage.db import checkpoint_wal, make_engine, read_transaction
from pesabox.storage.inspector_db import open_log_engine
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.types import Connection, Engine
from pesabox.storage.writer import LedgerWriter

log = logging.getLogger(__name__)
T = TypeVar("T")
# Requests another process should have settled are left to it for this long first.
_ORPHAN_GRACE_S = 1.0
# Often enough that the WAL stays small (a second of payments), rarely enough to cost nothing.
_CHECKPOINT_INTERVAL_S = 1.0
_TOKEN_PURGE_INTERVAL_S = 300.0
# Expired tokens are kept a while, so an "Invalid Access Token" can still be told apart
# from an unknown one when someone looks at the database.
_TOKEN_RETENTION_S = 3600.0


class Platform:
    """`callback_tls` is the TLS context every outgoing POST to a business (callbacks, C2B
    validation) uses for https URLs: the serving code builds it from the platform CA with the
    broker certificate of this Platform's environment (`testbroker` or `prodbroker`) as the
    client certificate. None keeps the system's CAs and presents no certificate."""

    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine | None = None,
        callback_tls: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.database_url, checkpoint_in_background=True)
        self.clock = SystemClock()
        self.runtime = SandboxRuntime(self.clock)
        self.ledger = LedgerStore()
        self.writer = LedgerWriter(
            self.engine, batch_max=settings.writer_batch_max, on_rollback=self.ledger.forget
        )
        self.tokens = AccessTokens(
            engine=self.engine,
            writer=self.writer,
            clock=self.clock,
            lifetime_s=settings.access_token_lifetime_s,
        )
        self.dispatcher = CallbackDispatcher(
            engine=self.engine,
            writer=self.writer,
            settings=settings,
            clock=self.clock,
            client_tls=callback_tls,
        )
        # One per process, so a shortcode changed here is seen at once by every service.
        self.shortcodes = parties_store.ShortcodeCache()
        self.stk = StkService(
            engine=self.engine,
            writer=self.writer,
            ledger=self.ledger,
            clock=self.clock,
            runtime=self.runtime,
            settings=settings,
            shortcodes=self.shortcodes,
            on_settled=self._deliver,
        )
        self.c2b = C2bService(
            engine=self.engine,
            writer=self.writer,
            ledger=self.ledger,
            clock=self.clock,
            runtime=self.runtime,
            settings=settings,
            shortcodes=self.shortcodes,
            on_confirmation=self._deliver_callback,
            callback_tls=callback_tls,
        )
        self.initiator = InitiatorService(
            engine=self.engine,
            writer=self.writer,
            ledger=self.ledger,
            clock=self.clock,
            runtime=self.runtime,
            settings=settings,
            on_callback=self._deliver_callback,
        )
        # Every PIN typed on the simulated handset is checked (and counted) here.
        self.pins = PinCheck(
            engine=self.engine, writer=self.writer, clock=self.clock,
            lockout_threshold=settings.mpesa_pin_lockout_threshold,
        )  # fmt: skip
        self.handsets = HandsetService(
            engine=self.engine, stk=self.stk, c2b=self.c2b, clock=self.clock, pins=self.pins
        )
        # Test customers, and their own menus on the handset (issue 5): Send Money, Airtime,
        # Bonga.
        self.customers = CustomerAdminService(
            engine=self.engine, writer=self.writer, ledger=self.ledger, clock=self.clock
        )
        self.customer_menu = CustomerMenuService(
            engine=self.engine, writer=self.writer, ledger=self.ledger, clock=self.clock,
            settings=settings, pins=self.pins,
        )  # fmt: skip
        self.bonga = BongaService(
            engine=self.engine, writer=self.writer, ledger=self.ledger, menu=self.customer_menu,
            customers=self.customers, pins=self.pins,
        )  # fmt: skip
        self.sandbox = SandboxService(platform=self)
        # The org portal (issue 5): its sign-in, its use cases, and bank settlement.
        self.portal_sessions = PortalSessions(
            engine=self.engine,
            writer=self.writer,
            settings=settings,
            platform_clock=self.clock,
            lifetime_s=settings.portal_session_lifetime_s,
        )
        self.org_portal = OrgPortalService(
            engine=self.engine, writer=self.writer, ledger=self.ledger, clock=self.clock,
            settings=settings, shortcodes=self.shortcodes,
        )  # fmt: skip
        self.settlement = SettlementJob(
            engine=self.engine, writer=self.writer, ledger=self.ledger, clock=self.clock
        )
        self.inspector_engine = open_log_engine(self.engine, settings.inspector_database_url)
        self.request_log = RequestLog(
            engine=self.engine,
            log_engine=self.inspector_engine,
            retention=settings.inspector_retention,
        )
        self._sweeper: asyncio.Task[None] | None = None
        self._checkpointer: asyncio.Task[None] | None = None

    async def start(self, *, background: bool) -> None:
        await asyncio.to_thread(self.refresh)
        await self._ensure_certificates()
        await self.initiator.start()
        await self.c2b.start()
        if background:
            await self.dispatcher.start()
            self.stk.deliver_from_here(self.dispatcher.lease_s)
            self.c2b.deliver_from_here(self.dispatcher.lease_s)
            self.initiator.deliver_from_here(self.dispatcher.lease_s)
        # Every process follows the shared clock and scenario table; only a process that runs
        # the background work also settles requests that fell due.
        self._sweeper = asyncio.create_task(
            self._sweep_forever(settle=background), name="stk-sweeper"
        )
        self._checkpointer = asyncio.create_task(self._checkpoint_forever(), name="checkpointer")
        if self.settings.records_requests:
            await self.request_log.start()

    async def _ensure_certificates(self) -> None:
        # Issue 4: each environment's initiator-encryption pair exists from the first start
        # on. Read first, so later starts of every process skip the write db transaction.
        present = await asyncio.to_thread(self._certificate_count)
        if present < len(ENVIRONMENTS):
            # Wall time, not the sandbox clock: clients' clocks read the validity dates.
            now = time.time()
            await self.writer.submit(lambda conn: certificates_store.ensure_certificates(conn, now))

    def _certificate_count(self) -> int:
        with read_transaction(self.engine) as conn:
            return len(certificates_store.get_all(conn))

    async def stop(self) -> None:
        for task in (self._sweeper, self._checkpointer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.stk.drain()
        await self.c2b.stop()
        await self.initiator.stop()
        await self.dispatcher.stop()
        await self.request_log.stop()
        await self.writer.close()
        if self.inspector_engine is not self.engine:
            self.inspector_engine.dispose()
        self.engine.dispose()

    def _deliver(self, settlement: Settlement) -> None:
        self._deliver_callback(settlement.callback)

    def _deliver_callback(self, callback: ClaimedCallback | None) -> None:
        if callback is not None and self.dispatcher.running:
            self.dispatcher.hand_over(callback)
        else:
            self.dispatcher.notify()

    def refresh(self) -> None:
        with read_transaction(self.engine) as conn:
            self.runtime.refresh(conn)

    async def sweep_once(self, *, grace_s: float = _ORPHAN_GRACE_S) -> int:
        await asyncio.to_thread(self.refresh)
        started = await self.stk.settle_due(grace_s=grace_s)
        started += await self.initiator.time_out_queued()
        started += await self.settlement.settle_due()
        return started + await self.c2b.settle_overdue(grace_s=grace_s)

    async def _checkpoint_forever(self) -> None:
        while True:
            await asyncio.sleep(_CHECKPOINT_INTERVAL_S)
            try:
                await asyncio.to_thread(checkpoint_wal, self.engine)
            except Exception:
                log.exception("WAL checkpoint failed; trying again later")

    async def _purge_tokens(self) -> None:
        # Many SDKs fetch a token per call; expired ones would otherwise pile up for ever.
        cutoff = self.clock.now() - _TOKEN_RETENTION_S

        def job(conn: Connection) -> int:
            return apps_store.purge_expired_tokens(conn, expired_before=cutoff)

        await self.writer.submit(job)

    async def _sweep_forever(self, *, settle: bool) -> None:
        last_purge = 0.0
        while True:
            try:
                if settle:
                    await _finished_before_cancel(self.sweep_once())
                    if self.clock.now() - last_purge > _TOKEN_PURGE_INTERVAL_S:
                        last_purge = self.clock.now()
                        await self._purge_tokens()
                else:
                    await _finished_before_cancel(asyncio.to_thread(self.refresh))
            except Exception:
                log.exception("sweep failed; trying again at the next tick")
            await asyncio.sleep(self.settings.poll_interval_s)


async def _finished_before_cancel(work: Coroutine[Any, Any, T]) -> T:
    """Run `work`; if cancelled meanwhile (the platform is stopping), let it finish first.

    A sweep reads on worker threads, and cancelling the coroutine does not stop a thread:
    one still reading when `stop` disposes the engine would hand its pooled connection back
    to a pool nobody closes, and the database keeps that connection open.
    """
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await task
        raise
