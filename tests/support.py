"""Shared helpers for tests: a real callback receiver, seeding, and Daraja request bodies."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from pesabox.clock import daraja_timestamp
from pesabox.sandbox import fixtures
from pesabox.sandbox.seed import SandboxCredentials, seed
from pesabox.security.stk_password import stk_password
from pesabox.storage.db import write_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.types import Engine


def seed_database(engine: Engine) -> SandboxCredentials:
    with write_transaction(engine) as conn:
        return seed(conn, now=time.time(), ledger=LedgerStore())


def basic_auth(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


def stk_body(
    *,
    phone: str = "254708374149",
    amount: Any = 1,
    shortcode: str = "174379",
    party_b: str | None = None,
    callback_url: str = "http://127.0.0.1:9/cb",
    transaction_type: str = "CustomerPayBillOnline",
    passkey: str = fixtures.SANDBOX_PASSKEY,
    reference: str = "INV001",
    **overrides: Any,
) -> dict[str, Any]:
    timestamp = daraja_timestamp(time.time())
    body: dict[str, Any] = {
        "BusinessShortCode": shortcode,
        "Password": stk_password(shortcode, passkey, timestamp),
        "Timestamp": timestamp,
        "TransactionType": transaction_type,
        "Amount": amount,
        "PartyA": phone,
        "PartyB": party_b or shortcode,
        "PhoneNumber": phone,
        "CallBackURL": callback_url,
        "AccountReference": reference,
        "TransactionDesc": "test",
    }
    body.update(overrides)
    return body


@dataclass
class CallbackReceiver:
    """A real HTTP server on loopback that records every callback POSTed to it."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    # Every request as (path, payload), for C2B where the path tells validation apart.
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    status: int = 200
    # How a path ending in /validate answers: the JSON body (None: an empty 200), after a delay.
    validation_answer: dict[str, Any] | None = field(
        default_factory=lambda: {"ResultCode": "0", "ResultDesc": "Accepted"}
    )
    validation_delay_s: float = 0.0
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        # A callback the gateway was still sending when the test ended waits for a body that
        # will never come (the gateway's loop is not running during teardown); stopping gives
        # such a request a moment, not aiohttp's default minute, so teardown cannot hang.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/callback"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        payload = await request.json()
        async with self._arrived:
            self.received.append(payload)
            self.requests.append((request.path, payload))
            self._arrived.notify_all()
        if request.path.endswith("/validate"):
            await asyncio.sleep(self.validation_delay_s)
            if self.validation_answer is None:
                return web.Response(status=200)
            return web.json_response(self.validation_answer)
        return web.json_response({"ResultCode": 0, "ResultDesc": "Accepted"}, status=self.status)

    def posted_to(self, suffix: str) -> list[dict[str, Any]]:
        return [payload for path, payload in self.requests if path.endswith(suffix)]

    async def wait_for_path(
        self, suffix: str, count: int = 1, *, timeout_s: float = 10.0
    ) -> list[dict[str, Any]]:
        # Polls rather than waiting on the condition, so it also works when the receiver
        # runs on another thread's loop (see `threaded`).
        deadline = time.monotonic() + timeout_s
        while len(self.posted_to(suffix)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{count} POSTs to *{suffix} did not arrive")
            await asyncio.sleep(0.01)
        return self.posted_to(suffix)

    def stk_results(self, checkout_id: str) -> list[dict[str, Any]]:
        return [
            p["Body"]["stkCallback"]
            for p in self.received
            if p.get("Body", {}).get("stkCallback", {}).get("CheckoutRequestID") == checkout_id
        ]

    async def wait_for_stk(self, checkout_id: str, *, timeout_s: float = 10.0) -> dict[str, Any]:
        async def arrived() -> dict[str, Any]:
            async with self._arrived:
                await self._arrived.wait_for(lambda: bool(self.stk_results(checkout_id)))
                return self.stk_results(checkout_id)[0]

        return await asyncio.wait_for(arrived(), timeout_s)


@contextlib.contextmanager
def threaded(receiver: CallbackReceiver) -> Iterator[CallbackReceiver]:
    """Run `receiver` on a loop of its own thread: it must answer C2B validation *during* a
    request, while the test client's call holds the test's own loop."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(receiver.start(), loop).result(10)
    try:
        yield receiver
    finally:
        asyncio.run_coroutine_threadsafe(receiver.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def metadata(callback: dict[str, Any]) -> dict[str, Any]:
    return {item["Name"]: item.get("Value") for item in callback["CallbackMetadata"]["Item"]}
