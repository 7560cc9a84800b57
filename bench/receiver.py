"""The merchant's side of the benchmark: an HTTP server that takes Daraja callbacks.

It answers every callback the way a well-behaved merchant does and counts them by
CheckoutRequestID, so the harness can tell a delivered payment from a lost or duplicated one.
Callbacks land in a named *bucket* (`POST /cb/<bucket>`) so that phases sharing one receiver
never mix their counts.

It is also the business of a C2B payment, counted by TransID:

- `POST /c2b/<bucket>/validate`: the validation request; answered
  `{"ResultCode":"0","ResultDesc":"Accepted"}` (accept the payment) and counted in the bucket
  `<bucket>.validate`;
- `POST /c2b/<bucket>/confirm`: the confirmation, counted in `<bucket>` (its "result code" is
  0: a confirmation is only sent for a completed payment).

And the business paying out by B2C, whose Results are counted by OriginatorConversationID
(the caller's own id, so the load generator knows it before the request goes out):

- `POST /b2c/<bucket>/result`: the Result at the ResultURL, counted in `<bucket>` with its
  ResultCode;
- `POST /b2c/<bucket>/timeout`: the QueueTimeOutURL's payload, counted in `<bucket>.timeout`
  (a payout that waited too long in the queue: in a benchmark, a failure).

Run it as its own process (`python -m bench.receiver --port 0`): it prints `READY <port>` on
stdout once it listens. With `--tls-cert` and `--tls-key` it also listens for https on a
free port (`READY <port> <https port>`), for production, whose callback URLs must be https;
both listeners count into the same buckets. The load generator reads what arrived from

- `GET /stats/<bucket>`: totals (received, unique, duplicates, malformed, result codes);
- `GET /events/<bucket>?after=N`: first-seen callbacks from position N on, as
  `[[checkout_request_id, monotonic_arrival_s, result_code], ...]`. Arrival times come from
  `time.monotonic()`, which on Linux is one system-wide clock, so another process on the
  same host can subtract its own monotonic send times from them.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import ssl
import sys
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from aiohttp import web

T = TypeVar("T")

# Pre-encoded: the reply is the same for every callback, so don't serialise it each time.
ACCEPTED_BODY = orjson.dumps({"ResultCode": 0, "ResultDesc": "Accepted"})
# Daraja's validation answer carries ResultCode as a string; "0" accepts the payment.
VALIDATION_ACCEPTED_BODY = orjson.dumps({"ResultCode": "0", "ResultDesc": "Accepted"})
VALIDATION_SUFFIX = ".validate"
TIMEOUT_SUFFIX = ".timeout"
# Enough events per poll to keep up with thousands of callbacks/s at a 10 ms poll interval,
# while keeping one response small.
MAX_EVENTS_PER_POLL = 20_000


@dataclass
class Bucket:
    """What one bucket has seen; `order` keeps first arrivals in arrival order for /events."""

    seen: dict[str, int] = field(default_factory=dict)
    order: list[tuple[str, float, int | None]] = field(default_factory=list)
    received: int = 0
    duplicates: int = 0
    malformed: int = 0
    result_codes: Counter[str] = field(default_factory=Counter)
    first_at: float | None = None
    last_at: float | None = None


class CallbackTally:
    """Counts callbacks per bucket; pure bookkeeping, no I/O, so it is easy to test."""

    def __init__(self) -> None:
        self.buckets: dict[str, Bucket] = {}

    def bucket(self, name: str) -> Bucket:
        found = self.buckets.get(name)
        if found is None:
            found = self.buckets[name] = Bucket()
        return found

    def record(self, name: str, checkout_id: str, result_code: int | None, at: float) -> bool:
        """Count one callback; returns True the first time this CheckoutRequestID is seen."""
        bucket = self.bucket(name)
        bucket.received += 1
        bucket.last_at = at
        if bucket.first_at is None:
            bucket.first_at = at
        times = bucket.seen.get(checkout_id, 0)
        bucket.seen[checkout_id] = times + 1
        if times:
            bucket.duplicates += 1
            return False
        bucket.result_codes[str(result_code)] += 1
        bucket.order.append((checkout_id, at, result_code))
        return True

    def record_malformed(self, name: str) -> None:
        bucket = self.bucket(name)
        bucket.received += 1
        bucket.malformed += 1

    def stats(self, name: str) -> dict[str, Any]:
        bucket = self.bucket(name)
        return {
            "received": bucket.received,
            "unique": len(bucket.seen),
            "duplicates": bucket.duplicates,
            "duplicated_ids": sum(1 for n in bucket.seen.values() if n > 1),
            "malformed": bucket.malformed,
            "result_codes": dict(bucket.result_codes),
            "first_at": bucket.first_at,
            "last_at": bucket.last_at,
        }

    def events(self, name: str, after: int) -> list[tuple[str, float, int | None]]:
        order = self.bucket(name).order
        return order[after : after + MAX_EVENTS_PER_POLL]


def parse_callback(body: bytes) -> tuple[str, int | None] | None:
    """(CheckoutRequestID, ResultCode) of an STK callback body, or None if it is not one."""
    try:
        doc = orjson.loads(body)
        callback = doc["Body"]["stkCallback"]
        checkout_id = callback["CheckoutRequestID"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    if not isinstance(checkout_id, str) or not checkout_id:
        return None
    code = callback.get("ResultCode")
    return checkout_id, code if isinstance(code, int) else None


def parse_c2b(body: bytes) -> str | None:
    """TransID of a C2B validation or confirmation body, or None if it is not one."""
    try:
        trans_id = orjson.loads(body)["TransID"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    return trans_id if isinstance(trans_id, str) and trans_id else None


def parse_b2c_result(body: bytes) -> tuple[str, int | None] | None:
    """(OriginatorConversationID, ResultCode) of a B2C Result or queue-timeout body, or None."""
    try:
        result = orjson.loads(body)["Result"]
        originator_id = result["OriginatorConversationID"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    if not isinstance(originator_id, str) or not originator_id:
        return None
    code = result.get("ResultCode")
    return originator_id, code if isinstance(code, int) else None


TALLY = web.AppKey("tally", CallbackTally)


def make_app(tally: CallbackTally | None = None) -> web.Application:
    app = web.Application()
    app[TALLY] = tally if tally is not None else CallbackTally()
    app.router.add_post("/cb/{bucket}", _callback)
    app.router.add_post("/c2b/{bucket}/validate", _c2b_validation)
    app.router.add_post("/c2b/{bucket}/confirm", _c2b_confirmation)
    app.router.add_post("/b2c/{bucket}/result", _b2c_result)
    app.router.add_post("/b2c/{bucket}/timeout", _b2c_timeout)
    app.router.add_get("/stats/{bucket}", _stats)
    app.router.add_get("/events/{bucket}", _events)
    app.router.add_get("/healthz", _healthz)
    return app


async def _callback(request: web.Request) -> web.Response:
    tally = request.app[TALLY]
    name = request.match_info["bucket"]
    parsed = parse_callback(await request.read())
    if parsed is None:
        tally.record_malformed(name)
    else:
        tally.record(name, parsed[0], parsed[1], time.monotonic())
    # A merchant acknowledges even what it cannot parse: a non-200 would only make the
    # server retry, which would show up as duplicates rather than as the real fault.
    return web.Response(body=ACCEPTED_BODY, content_type="application/json")


def _record_c2b(request: web.Request, name: str, body: bytes) -> None:
    tally = request.app[TALLY]
    trans_id = parse_c2b(body)
    if trans_id is None:
        tally.record_malformed(name)
    else:
        tally.record(name, trans_id, 0, time.monotonic())


async def _c2b_validation(request: web.Request) -> web.Response:
    name = request.match_info["bucket"] + VALIDATION_SUFFIX
    _record_c2b(request, name, await request.read())
    return web.Response(body=VALIDATION_ACCEPTED_BODY, content_type="application/json")


async def _c2b_confirmation(request: web.Request) -> web.Response:
    _record_c2b(request, request.match_info["bucket"], await request.read())
    return web.Response(body=ACCEPTED_BODY, content_type="application/json")


def _record_b2c(request: web.Request, name: str, body: bytes) -> None:
    tally = request.app[TALLY]
    parsed = parse_b2c_result(body)
    if parsed is None:
        tally.record_malformed(name)
    else:
        tally.record(name, parsed[0], parsed[1], time.monotonic())


async def _b2c_result(request: web.Request) -> web.Response:
    _record_b2c(request, request.match_info["bucket"], await request.read())
    return web.Response(body=ACCEPTED_BODY, content_type="application/json")


async def _b2c_timeout(request: web.Request) -> web.Response:
    name = request.match_info["bucket"] + TIMEOUT_SUFFIX
    _record_b2c(request, name, await request.read())
    return web.Response(body=ACCEPTED_BODY, content_type="application/json")


async def _stats(request: web.Request) -> web.Response:
    tally = request.app[TALLY]
    body = orjson.dumps(tally.stats(request.match_info["bucket"]))
    return web.Response(body=body, content_type="application/json")


async def _events(request: web.Request) -> web.Response:
    tally = request.app[TALLY]
    after = int(request.query.get("after", "0"))
    body = orjson.dumps(tally.events(request.match_info["bucket"], after))
    return web.Response(body=body, content_type="application/json")


async def _healthz(_request: web.Request) -> web.Response:
    return web.Response(body=b'{"status":"ok"}', content_type="application/json")


def tls_context(cert_file: str, key_file: str) -> ssl.SSLContext:
    """The https listener's context: the business's certificate, no client certificate
    asked for (pesabox's callbacks would present their broker's; nothing here checks it)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    return context


async def serve(host: str, port: int, tls: ssl.SSLContext | None = None) -> None:
    """Listen on `port`, and with `tls` also on a free https port sharing the same counts;
    prints `READY <port>` or `READY <port> <https port>`."""
    runner = web.AppRunner(make_app(), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=4096)
    await site.start()
    bound = [runner.addresses[0][1]]
    if tls is not None:
        secure = web.TCPSite(runner, host, 0, backlog=4096, ssl_context=tls)
        await secure.start()
        bound.append(runner.addresses[1][1])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Handlers go in before READY: whoever waits for READY may send SIGTERM right after it.
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("READY " + " ".join(str(port) for port in bound), flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def run_fast(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run on uvloop when it is installed: it cuts aiohttp's per-request overhead."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Callback receiver for the pesabox benchmark")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--tls-cert", help="also serve https (on a free port) with this PEM")
    parser.add_argument("--tls-key", help="the --tls-cert's private key (PEM)")
    args = parser.parse_args(argv)
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("give --tls-cert and --tls-key together")
    tls = tls_context(args.tls_cert, args.tls_key) if args.tls_cert else None
    run_fast(serve(args.host, args.port, tls))
    return 0


if __name__ == "__main__":
    sys.exit(main())
