"""A real callback receiver: an aiohttp server on 127.0.0.1, in a thread of its own.

It runs its own event loop in a background thread, so it keeps answering while a test
blocks (a synchronous SDK call, `subprocess.run`, a sleep) and works the same from sync and
async tests. Every POST is recorded *on arrival*, before the answer, so "the receiver saw
it" holds even when the sender is killed while waiting for the reply.

    with CallbackReceiver() as receiver:
        url = receiver.url("/cb")
        ...
        received = receiver.wait_for(checkout_id, timeout_s=10)          # sync tests
        received = await receiver.wait_for_async(checkout_id, timeout_s=10)  # async tests

Answers are 200 with Daraja's usual acknowledgement unless a test scripts otherwise
(`reply` for per-path status sequences, `answer` for a per-path JSON body such as a C2B
business's validation answer, `stall` to hold every answer back).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

ACK_BODY = '{"ResultCode": 0, "ResultDesc": "Accepted"}'
_START_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 10.0
# How long aiohttp waits for in-flight handlers on shutdown before cancelling them; a
# stalled handler must not hold a test's teardown for aiohttp's default minute.
_SHUTDOWN_TIMEOUT_S = 1.0
_POLL_S = 0.02


@dataclass(frozen=True, slots=True)
class Received:
    """One POST as it arrived."""

    path: str
    body: str
    content_type: str
    at_s: float  # time.monotonic() on arrival

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def checkout_request_id(self) -> str | None:
        """The STK callback's CheckoutRequestID, or None for any other body."""
        try:
            value = self.json()["Body"]["stkCallback"]["CheckoutRequestID"]
        except (ValueError, KeyError, TypeError):
            return None
        return value if isinstance(value, str) else None


class CallbackReceiver:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self._received: list[Received] = []
        self._statuses: dict[str, list[int]] = {}
        self._bodies: dict[str, str] = {}
        self._stall_s = 0.0
        # Guards everything above; the condition wakes synchronous waiters on each arrival.
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None

    # --- lifecycle ----------------------------------------------------------------------

    def __enter__(self) -> CallbackReceiver:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the receiver is already started")
        self._thread = threading.Thread(target=self._serve, name="callback-receiver", daemon=True)
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT_S):
            raise TimeoutError("the callback receiver did not start")
        if self._start_error is not None:
            raise RuntimeError("the callback receiver failed to start") from self._start_error

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
        thread.join(_STOP_TIMEOUT_S)
        if thread.is_alive():
            raise RuntimeError("the callback receiver thread did not stop")
        self._thread = None

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            try:
                loop.run_until_complete(self._open())
            except BaseException as error:  # reported to start() in the caller's thread
                self._start_error = error
            finally:
                self._ready.set()
            if self._start_error is None:
                loop.run_forever()
            # stop() only ends run_forever; close the server and every connection here, in
            # the loop's own thread, so nothing is left for the garbage collector to warn on.
            if self._runner is not None:
                loop.run_until_complete(self._runner.cleanup())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()

    async def _open(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT_S)
        await runner.setup()
        self._runner = runner
        site = web.TCPSite(runner, self.host, 0)
        await site.start()
        self.port = int(runner.addresses[0][1])

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        item = Received(request.path, body, request.content_type, time.monotonic())
        with self._arrived:
            self._received.append(item)
            script = self._statuses.get(request.path)
            status = script.pop(0) if script else 200
            text = self._bodies.get(request.path, ACK_BODY)
            stall_s = self._stall_s
            self._arrived.notify_all()
        if stall_s > 0:
            await asyncio.sleep(stall_s)
        return web.Response(status=status, text=text, content_type="application/json")

    # --- scripting ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/cb") -> str:
        return self.base_url + path

    def reply(self, path: str, *statuses: int) -> None:
        """Answer the next POSTs to `path` with these statuses, in order, then 200 again."""
        with self._lock:
            self._statuses[path] = list(statuses)

    def answer(self, path: str, body: Mapping[str, Any]) -> None:
        """Answer every POST to `path` with this JSON body from now on (instead of the
        acknowledgement), e.g. a business's C2B validation answer."""
        with self._lock:
            self._bodies[path] = json.dumps(dict(body))

    def stall(self, seconds: float) -> None:
        """Hold every answer back this long (the POST is still recorded on arrival)."""
        with self._lock:
            self._stall_s = seconds

    # --- reading ------------------------------------------------------------------------

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def on(self, path: str) -> list[Received]:
        return [item for item in self.received if item.path == path]

    def for_checkout(self, checkout_request_id: str) -> list[Received]:
        return [r for r in self.received if r.checkout_request_id == checkout_request_id]

    def by_checkout(self) -> dict[str, list[Received]]:
        """Every STK callback seen, grouped by CheckoutRequestID, in arrival order."""
        grouped: dict[str, list[Received]] = {}
        for item in self.received:
            key = item.checkout_request_id
            if key is not None:
                grouped.setdefault(key, []).append(item)
        return grouped

    def wait_until(
        self, predicate: Callable[[list[Received]], bool], *, timeout_s: float, what: str
    ) -> list[Received]:
        """Block until `predicate(received)` holds; TimeoutError naming `what` otherwise."""
        deadline = time.monotonic() + timeout_s
        with self._arrived:
            while not predicate(self._received):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"timed out after {timeout_s:g} s waiting for {what}; "
                        f"{len(self._received)} POSTs received"
                    )
                self._arrived.wait(left)
            return list(self._received)

    def wait_for(self, checkout_request_id: str, *, timeout_s: float = 10.0) -> Received:
        """The first callback for this CheckoutRequestID, waiting for it if need be."""
        self.wait_until(
            lambda items: any(r.checkout_request_id == checkout_request_id for r in items),
            timeout_s=timeout_s,
            what=f"the callback for {checkout_request_id}",
        )
        return self.for_checkout(checkout_request_id)[0]

    async def wait_for_async(
        self, checkout_request_id: str, *, timeout_s: float = 10.0
    ) -> Received:
        """`wait_for` for async tests: polls, so the test's own event loop keeps running."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = self.for_checkout(checkout_request_id)
            if found:
                return found[0]
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"timed out after {timeout_s:g} s waiting for the callback for "
                    f"{checkout_request_id}; {len(self.received)} POSTs received"
                )
            await asyncio.sleep(_POLL_S)
