"""A real https callback receiver on loopback that may require a client certificate, and
records which certificate each caller presented."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web


@dataclass(frozen=True)
class TlsReceived:
    path: str
    body: str
    # The presented certificate's subject common name (None when none was presented).
    peer_common_name: str | None


@dataclass
class TlsReceiver:
    port: int = 0
    received: list[TlsReceived] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        ssl_object = request.transport.get_extra_info("ssl_object") if request.transport else None
        peer = ssl_object.getpeercert() if ssl_object is not None else None
        self.received.append(TlsReceived(request.path, body, _common_name(peer)))
        return web.json_response({"ResultCode": 0, "ResultDesc": "Accepted"})


def _common_name(peer: object) -> str | None:
    # getpeercert() gives the verified certificate as nested tuples of (name, value) pairs.
    if not isinstance(peer, dict):
        return None
    for relative_name in peer.get("subject", ()):
        for key, value in relative_name:
            if key == "commonName":
                return str(value)
    return None


@asynccontextmanager
async def running_tls_receiver(context: ssl.SSLContext) -> AsyncIterator[TlsReceiver]:
    receiver = TlsReceiver()
    app = web.Application()
    app.router.add_post("/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    receiver.port = int(runner.addresses[0][1])
    try:
        yield receiver
    finally:
        await runner.cleanup()


@contextlib.contextmanager
def threaded_tls_receiver(context: ssl.SSLContext) -> Iterator[TlsReceiver]:
    """`running_tls_receiver` on a loop of its own thread, for a receiver that must answer
    (a C2B validation) while the test's loop is held by the test client's call."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    running = running_tls_receiver(context)
    try:
        receiver = asyncio.run_coroutine_threadsafe(running.__aenter__(), loop).result(10)
        try:
            yield receiver
        finally:
            asyncio.run_coroutine_threadsafe(running.__aexit__(None, None, None), loop).result(10)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
