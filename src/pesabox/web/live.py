"""Live updates over Server-Sent Events.

A page subscribes to a stream that polls what it shows and sends an event when that changed.
Polling the database, rather than passing messages inside one process, is deliberate: with
several gateway processes (`--workers`, or a separate `pesabox worker`) the change a page is
waiting for is often made by another process, and the database is what they all share.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable

from litestar.response import ServerSentEvent
from litestar.response.sse import ServerSentEventMessage

# Short enough that a prompt appears "at once"; each poll is one small indexed read.
POLL_INTERVAL_S = 0.4
# A stream ends after this long and the browser reconnects on its own: a server that is
# stopping never waits on a page someone left open for its graceful-shutdown timeout.
STREAM_LIFETIME_S = 25.0
RECONNECT_MS = 300


def watch(
    read: Callable[[], Awaitable[Hashable]],
    *,
    interval_s: float = POLL_INTERVAL_S,
    lifetime_s: float = STREAM_LIFETIME_S,
) -> ServerSentEvent:
    """A stream with one `change` event at connect and one each time `read()`'s value
    changes. The event's data is a counter; the page fetches what changed itself."""

    async def events() -> AsyncIterator[ServerSentEventMessage]:
        loop = asyncio.get_running_loop()
        ends_at = loop.time() + lifetime_s
        last: Hashable = object()
        sent = 0
        while loop.time() < ends_at:
            current = await read()
            if current != last:
                last = current
                sent += 1
                yield ServerSentEventMessage(data=str(sent), event="change", retry=RECONNECT_MS)
            await asyncio.sleep(interval_s)

    return ServerSentEvent(events(), headers={"cache-control": "no-store"})
