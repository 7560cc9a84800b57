"""Recording inbound API requests for the inspector, at the ASGI edge.

The fast path hands `record` what it already holds (its status, the body it read, the reply
it encoded); Litestar's routes are wrapped by `serve`, which keeps a copy of the bodies as
they pass. Either way the request path only appends to the process's `RequestLog`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from pesabox.clock import Clock
from pesabox.core.request_log import RequestLog

if TYPE_CHECKING:
    from pesabox.core.platform import Platform

# Daraja's APIs and the sandbox's control API; pages (/ui), docs and health checks are not
# API requests, and the inspector's own page polling would drown the log.
RECORDED_PREFIXES = ("/oauth/", "/mpesa/", "/sandbox/")


class RequestRecorder:
    def __init__(self, *, request_log: RequestLog, clock: Clock, max_body_bytes: int) -> None:
        self.request_log = request_log
        self._clock = clock
        self._max_body_bytes = max_body_bytes

    def record(
        self,
        scope: dict[str, Any],
        *,
        started: float,
        status: int,
        request_body: bytes,
        response_body: bytes,
    ) -> None:
        finished = time.perf_counter()
        authorization = None
        # ASGI servers give header names in lower case.
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
                break
        self.request_log.capture(
            (
                self._clock.now(),
                scope["method"],
                scope["path"],
                authorization,
                status,
                (finished - started) * 1000.0,
                request_body,
                response_body,
            )
        )

    async def serve(self, app: Any, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Run `app` for this request, recording it when it is an API request."""
        if scope["type"] != "http" or not scope["path"].startswith(RECORDED_PREFIXES):
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        limit = self._max_body_bytes
        request_chunks: list[bytes] = []
        response_chunks: list[bytes] = []
        sizes = [0, 0]
        status = [500]

        async def receive_copy() -> Any:
            message = await receive()
            if message["type"] == "http.request" and sizes[0] <= limit:
                chunk = message.get("body", b"")
                sizes[0] += len(chunk)
                request_chunks.append(chunk)
            return message

        async def send_copy(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "http.response.body" and sizes[1] <= limit:
                chunk = message.get("body", b"")
                sizes[1] += len(chunk)
                response_chunks.append(chunk)
            await send(message)

        try:
            await app(scope, receive_copy, send_copy)
        finally:
            self.record(
                scope,
                started=started,
                status=status[0],
                request_body=b"".join(request_chunks),
                response_body=b"".join(response_chunks),
            )


def recorder_for(platform: Platform) -> RequestRecorder | None:
    """The process's recorder, or None when PESABOX_INSPECTOR_RECORD is off."""
    if not platform.settings.records_requests:
        return None
    return RequestRecorder(
        request_log=platform.request_log,
        clock=platform.clock,
        max_body_bytes=platform.settings.max_body_bytes,
    )
