"""Shared pieces for the callback tests: a real loopback receiver and small db helpers.

The receiver is a real aiohttp server on 127.0.0.1 with a random port, so the dispatcher's
own HTTP client, pooling and timeouts are exercised exactly as in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web
from sqlalchemy import Engine, update

from pesabox.callbacks.outbox import enqueue
from pesabox.callbacks.queries import get_callback
from pesabox.callbacks.worker import CallbackDispatcher
from pesabox.clock import Clock, SystemClock
from pesabox.settings import Settings
from pesabox.storage.db import read_transaction, write_transaction
from pesabox.storage.tables import callbacks
from pesabox.storage.writer import LedgerWriter


@dataclass
class Received:
    path: str
    body: str
    content_type: str
    at_s: float

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Receiver:
    """Answers POSTs with scripted statuses per path (200 once the script runs out)."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    _statuses: dict[str, list[int]] = field(default_factory=dict)
    _bodies: dict[str, str] = field(default_factory=dict)
    # Paths whose handler sleeps this long before answering (cut short at shutdown).
    _stalls_s: dict[str, float] = field(default_factory=dict)
    _closing: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def reply(self, path: str, *statuses: int, body: str | None = None) -> None:
        self._statuses[path] = list(statuses)
        if body is not None:
            self._bodies[path] = body

    def stall(self, path: str, seconds: float) -> None:
        self._stalls_s[path] = seconds

    def on(self, path: str) -> list[Received]:
        return [item for item in self.received if item.path == path]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        self.received.append(Received(request.path, body, request.content_type, time.monotonic()))
        stall_s = self._stalls_s.get(request.path, 0.0)
        if stall_s:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), stall_s)
        script = self._statuses.get(request.path)
        status = script.pop(0) if script else 200
        default = '{"ResultCode": 0, "ResultDesc": "Accepted"}'
        text = self._bodies.get(request.path, default)
        return web.Response(status=status, text=text, content_type="application/json")


@asynccontextmanager
async def running_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    receiver.port = int(runner.addresses[0][1])
    try:
        yield receiver
    finally:
        receiver._closing.set()
        await runner.cleanup()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released), for connection refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fast_settings(engine: Engine, **overrides: Any) -> Settings:
    """Settings with tiny backoff and polling, so retries happen within milliseconds."""
    values: dict[str, Any] = {
        "database_url": engine.url.render_as_string(hide_password=False),
        "callback_backoff_base_s": 0.01,
        "callback_backoff_cap_s": 0.04,
        "callback_timeout_s": 2.0,
        "callback_concurrency": 16,
        "callback_max_attempts": 3,
        "poll_interval_s": 0.02,
    }
    values.update(overrides)
    return Settings(**values)


def add_callback(
    engine: Engine,
    url: str,
    *,
    now: float | None = None,
    transaction_id: str = "ws_CO_1",
    max_attempts: int = 3,
    **options: Any,
) -> int:
    payload = orjson.dumps({"Body": {"stkCallback": {"CheckoutRequestID": transaction_id}}})
    with write_transaction(engine) as conn:
        return enqueue(
            conn,
            transaction_id=transaction_id,
            kind="stk",
            url=url,
            payload=payload.decode(),
            now=time.time() if now is None else now,
            max_attempts=max_attempts,
            **options,
        )


def set_claimed_until(engine: Engine, callback_id: int, claimed_until: float) -> None:
    with write_transaction(engine) as conn:
        conn.execute(
            update(callbacks)
            .where(callbacks.c.id == callback_id)
            .values(claimed_until=claimed_until)
        )


def load(engine: Engine, callback_id: int) -> dict[str, Any]:
    with read_transaction(engine) as conn:
        found = get_callback(conn, callback_id)
    assert found is not None
    return found


async def eventually(check: Callable[[], bool], *, timeout_s: float = 3.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def settled(engine: Engine, callback_id: int, *, timeout_s: float = 3.0) -> dict[str, Any]:
    """The callback once it is delivered or failed."""
    await eventually(
        lambda: load(engine, callback_id)["status"] in ("delivered", "failed"),
        timeout_s=timeout_s,
    )
    return load(engine, callback_id)


@asynccontextmanager
async def running_dispatcher(
    engine: Engine,
    settings: Settings,
    *,
    clock: Clock | None = None,
    **options: Any,
) -> AsyncIterator[CallbackDispatcher]:
    writer = LedgerWriter(engine)
    dispatcher = CallbackDispatcher(
        engine=engine, writer=writer, settings=settings, clock=clock or SystemClock(), **options
    )
    await dispatcher.start()
    try:
        yield dispatcher
    finally:
        await dispatcher.stop()
        await writer.close()
