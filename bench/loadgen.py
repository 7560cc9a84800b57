"""Load generator for the pesabox benchmark, run as its own process by `bench.run`.

`python -m bench.loadgen` reads one JSON job on stdin and prints one JSON result on stdout.
Jobs (the `mode` key):

- `healthz`: closed loop on `GET /healthz`;
- `accept`:  closed loop of STK pushes, each MSISDN used once, then an open loop at a fraction
  of the closed-loop rate with latency measured from the *scheduled* send time;
- `e2e`:     STK pushes over a pool of MSISDNs, each reused only after its callback arrived
  at the receiver; counts completed payments per second, lost and duplicated callbacks.
- `c2b`:     registers the receiver as a shortcode's validation and confirmation URLs, then
  C2B simulates with at most `max_in_flight` payments unconfirmed; counts confirmations per
  second, and validations and confirmations against accepted simulates.
- `b2c`:     B2C v3 payouts from the B2C shortcode to the bulk customers, with one
  SecurityCredential for the whole run and at most `max_in_flight` payouts without a
  Result; counts Results per second by OriginatorConversationID, lost and duplicated ones.

A job whose `base_url` is https carries `tls` (`ca_file`, and for mutual TLS `cert_file` and
`key_file`); connections are still opened before the window and kept alive, so a TLS
handshake is paid once per connection, as a real client with a connection pool pays it.

It runs apart from the orchestrator so that the process making requests does nothing else:
on a 2-core box the client's own CPU cost is part of what limits the numbers. For the same
reason the hot path uses `RawClient`, a minimal keep-alive HTTP/1.1 client (aiohttp costs
several times more CPU per request; `"client": "aiohttp"` in the job switches to it), and
request bodies are built from pre-encoded byte templates, not serialised per request.

It also samples the CPU time of the server's process tree (from /proc, no psutil) exactly at
the edges of each measurement window, so the report can show server CPU per request.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import ssl
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

import aiohttp
import orjson

from bench.receiver import run_fast

SHORTCODE = "174379"
C2B_SHORTCODE = "600000"
B2C_SHORTCODE = "600996"
PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
# Daraja timestamps are Kenyan local time.
EAT = timezone(timedelta(hours=3), "EAT")
MSISDN_PREFIX = "2547200"
LOCK_ERROR = "500.001.1001"
# A request that takes longer than this is a failure, and it bounds every await on the server.
REQUEST_TIMEOUT_S = 30.0


# ---------------------------------------------------------------------------------------------
# Process CPU accounting from /proc


def _proc_stat(pid: int) -> tuple[int, int] | None:
    """(ppid, utime+stime+cutime+cstime in clock ticks) of one process, or None if gone.

    Counting reaped children's time (cutime/cstime) keeps a tree's sum continuous when a
    worker process exits between two samples: its time moves into its parent's counters.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    # The command name may contain spaces and parentheses; the fields after the last ')' don't.
    fields = raw[raw.rindex(b")") + 2 :].split()
    ppid = int(fields[1])
    ticks = int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    return ppid, ticks


def _all_processes() -> Iterator[int]:
    for name in os.listdir("/proc"):
        if name.isdigit():
            yield int(name)


def tree_cpu_s(root: int) -> float:
    """CPU seconds (user+system) used so far by `root` and all its living descendants."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for pid in _all_processes():
        stat = _proc_stat(pid)
        if stat is not None:
            parents[pid], ticks[pid] = stat
    members = {root} if root in ticks else set()
    # A few passes reach any depth that a server's process tree has in practice.
    for _ in range(8):
        grown = {pid for pid, ppid in parents.items() if ppid in members} - members
        if not grown:
            break
        members |= grown
    return sum(ticks[pid] for pid in members) / os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> float:
    """CPU seconds all processes on the machine spent busy (summed over CPUs), from /proc/stat.

    Subtracting the parties we measure leaves what *other* processes took during a window:
    on a shared 2-core box that is the first thing to check when numbers look low.
    """
    try:
        with open("/proc/stat", "rb") as handle:
            fields = handle.readline().split()
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def self_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


@dataclass
class CpuProbe:
    """Samples server, receiver and load-generator CPU at the edges of a window."""

    server_pid: int | None
    receiver_pid: int | None
    start: dict[str, float] = field(default_factory=dict)

    def _sample(self) -> dict[str, float]:
        sample = {"loadgen": self_cpu_s(), "machine": machine_busy_s(), "wall": time.monotonic()}
        if self.server_pid:
            sample["server"] = tree_cpu_s(self.server_pid)
        if self.receiver_pid:
            sample["receiver"] = tree_cpu_s(self.receiver_pid)
        return sample

    def begin(self) -> None:
        self.start = self._sample()

    def end(self) -> dict[str, float]:
        """CPU seconds each party used since `begin`, plus `other`: everyone else's."""
        now = self._sample()
        used = {key: round(now[key] - self.start.get(key, 0.0), 4) for key in now}
        ours = sum(used.get(key, 0.0) for key in ("loadgen", "server", "receiver"))
        used["other"] = round(max(0.0, used["machine"] - ours), 4)
        return used


# ---------------------------------------------------------------------------------------------
# Latency bookkeeping


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    rank = max(0, min(len(sorted_values) - 1, int(round(fraction * len(sorted_values))) - 1))
    return sorted_values[rank]


def latency_summary(latencies_s: list[float]) -> dict[str, Any]:
    values = sorted(latencies_s)

    def ms(fraction: float) -> float | None:
        found = percentile(values, fraction)
        return None if found is None else round(found * 1000, 3)

    return {
        "count": len(values),
        "p50_ms": ms(0.50),
        "p90_ms": ms(0.90),
        "p99_ms": ms(0.99),
        "p999_ms": ms(0.999),
        "max_ms": round(values[-1] * 1000, 3) if values else None,
    }


@dataclass
class Tally:
    """Outcome counts of one loop; `errors` keys are HTTP statuses or Daraja error codes."""

    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)

    def error(self, key: str) -> None:
        self.errors[key] += 1


# ---------------------------------------------------------------------------------------------
# Request bodies


def msisdn(index: int) -> str:
    return f"{MSISDN_PREFIX}{index:05d}"


class PushBodies:
    """STK push bodies from a pre-encoded template; only MSISDN and timestamp vary.

    The timestamp (and so the password) is refreshed when the wall-clock second changes, so a
    long run never sends a stale one, at the cost of one base64 per second rather than per call.
    """

    def __init__(self, callback_url: str) -> None:
        self.callback_url = callback_url
        self._second = -1
        self._head = b""
        self._middle = b""
        self._tail = b""

    def _rebuild(self, second: int) -> None:
        timestamp = datetime.fromtimestamp(second, tz=UTC).astimezone(EAT).strftime("%Y%m%d%H%M%S")
        password = base64.b64encode(f"{SHORTCODE}{PASSKEY}{timestamp}".encode()).decode()
        marker = "@@MSISDN@@"
        doc = {
            "BusinessShortCode": int(SHORTCODE),
            "Password": password,
            "Timestamp": timestamp,
            "TransactionType": "CustomerPayBillOnline",
            "Amount": 1,
            "PartyA": marker,
            "PartyB": SHORTCODE,
            "PhoneNumber": marker,
            "CallBackURL": self.callback_url,
            "AccountReference": "bench",
            "TransactionDesc": "bench",
        }
        # MSISDNs go in as JSON strings, which is what Daraja clients most often send.
        self._head, self._middle, self._tail = orjson.dumps(doc).split(marker.encode())
        self._second = second

    def body(self, number: str) -> bytes:
        second = int(time.time())
        if second != self._second:
            self._rebuild(second)
        encoded = number.encode()
        return self._head + encoded + self._middle + encoded + self._tail


# ---------------------------------------------------------------------------------------------
# Loops


class RequestFailed(Exception):
    """The request got no HTTP response: connection refused or reset, or it timed out."""


class Prepared:
    """A request line plus fixed headers, rendered once and reused for every request."""

    def __init__(self, method: str, url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.method = method
        self.url = url
        self.headers = headers
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.head = ("\r\n".join(lines) + "\r\n").encode()


class Client(Protocol):
    async def send(self, prepared: Prepared, body: bytes | None = None) -> tuple[int, bytes]: ...

    async def warm(self, count: int) -> None: ...

    async def close(self) -> None: ...


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection carrying one request at a time.

    It understands exactly what the servers here send: a status line, headers, and a body
    framed by Content-Length or chunked encoding. Anything else fails the request loudly.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.sent_at = 0.0
        self.reusable = True
        # Whether any byte of the current response arrived (decides if a retry is safe).
        self.received = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports don't subclass asyncio.Transport, so no isinstance check here.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.received = True
        self.buffer += data
        if self.waiter is not None and not self.waiter.done():
            try:
                parsed = self._parse()
            except ValueError as error:
                self.reusable = False
                self.waiter.set_exception(RequestFailed(f"bad response: {error}"))
                return
            if parsed is not None:
                self.waiter.set_result(parsed)

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(RequestFailed(f"connection lost: {exc}"))

    def _parse(self) -> tuple[int, bytes] | None:
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return None
        head = bytes(self.buffer[:head_end]).lower()
        status = int(head[9:12])
        body_start = head_end + 4
        length_at = head.find(b"\r\ncontent-length:")
        if length_at >= 0:
            line_end = head.find(b"\r\n", length_at + 2)
            length = int(head[length_at + 17 : line_end if line_end >= 0 else len(head)])
            if len(self.buffer) < body_start + length:
                return None
            body = bytes(self.buffer[body_start : body_start + length])
            del self.buffer[: body_start + length]
        elif b"\r\ntransfer-encoding: chunked" in head:
            found = self._parse_chunked(body_start)
            if found is None:
                return None
            body, consumed = found
            del self.buffer[:consumed]
        elif status in (204, 304) or 100 <= status < 200:
            body = b""
            del self.buffer[:body_start]
        else:
            raise ValueError("response without Content-Length or chunked framing")
        if b"\r\nconnection: close" in head:
            self.reusable = False
        return status, body

    def _parse_chunked(self, at: int) -> tuple[bytes, int] | None:
        chunks: list[bytes] = []
        while True:
            size_end = self.buffer.find(b"\r\n", at)
            if size_end < 0:
                return None
            size = int(bytes(self.buffer[at:size_end]).split(b";")[0], 16)
            data_start = size_end + 2
            if size == 0:
                # No trailers from our servers: the last chunk is followed by one blank line.
                if len(self.buffer) < data_start + 2:
                    return None
                return b"".join(chunks), data_start + 2
            if len(self.buffer) < data_start + size + 2:
                return None
            chunks.append(bytes(self.buffer[data_start : data_start + size]))
            at = data_start + size + 2


class RawClient:
    """A lean HTTP/1.1 client: a pool of keep-alive connections, requests as prebuilt bytes.

    aiohttp spends on the order of 150-200 µs of CPU per request; on a 2-core machine that
    is CPU taken from the server being measured. This client does the same job in a fraction
    of that, by doing far less: no cookies, redirects, compression or header objects.
    """

    def __init__(self, host: str, port: int, limit: int, tls: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.port = port
        self.limit = limit
        # https: every connection makes its TLS handshake once, in `warm` (keep-alive reuse).
        self.tls = tls
        self.idle: list[_Connection] = []
        self.opened = 0
        self.slots = asyncio.Semaphore(limit)
        self.busy: set[_Connection] = set()
        self.watchdog = asyncio.get_running_loop().create_task(self._expire_slow())

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _transport, conn = await loop.create_connection(
                _Connection,
                self.host,
                self.port,
                ssl=self.tls,
                server_hostname=self.host if self.tls is not None else None,
            )
        except (OSError, ssl.SSLError) as error:
            raise RequestFailed(f"connect: {error}") from error
        self.opened += 1
        return conn

    async def warm(self, count: int) -> None:
        """Open `count` connections ahead of time, a few at a time.

        Opening hundreds at once in the middle of a measurement would put connect costs (and,
        past the server's accept backlog, 1 s SYN retransmits) into the latencies.
        """
        for start in range(0, min(count, self.limit), 16):
            batch = min(16, count - start)
            self.idle.extend(await asyncio.gather(*(self._connect() for _ in range(batch))))

    def _take_idle(self) -> _Connection | None:
        while self.idle:
            conn = self.idle.pop()
            # The server may have closed it while idle (uvicorn drops idle keep-alives).
            if conn.reusable and conn.transport is not None and not conn.transport.is_closing():
                return conn
        return None

    async def send(self, prepared: Prepared, body: bytes | None = None) -> tuple[int, bytes]:
        if body is None:
            request = prepared.head + b"\r\n"
        else:
            request = b"%sContent-Length: %d\r\n\r\n%s" % (prepared.head, len(body), body)
        async with self.slots:
            conn = self._take_idle()
            if conn is None:
                return await self._exchange(await self._connect(), request)
            try:
                return await self._exchange(conn, request)
            except RequestFailed:
                # A kept-alive connection can be closed by the server just as we reuse it;
                # that is not the request's fault, so retry once on a fresh connection.
                if conn.received:
                    raise
            return await self._exchange(await self._connect(), request)

    async def _exchange(self, conn: _Connection, request: bytes) -> tuple[int, bytes]:
        conn.waiter = asyncio.get_running_loop().create_future()
        conn.sent_at = time.monotonic()
        conn.received = False
        self.busy.add(conn)
        try:
            assert conn.transport is not None
            conn.transport.write(request)
            return await conn.waiter
        finally:
            self.busy.discard(conn)
            conn.waiter = None
            if conn.reusable and conn.transport is not None and not conn.buffer:
                self.idle.append(conn)
            elif conn.transport is not None:
                conn.transport.close()

    async def _expire_slow(self) -> None:
        # One sweeper instead of a timer per request: fail anything older than the timeout.
        while True:
            await asyncio.sleep(1.0)
            cutoff = time.monotonic() - REQUEST_TIMEOUT_S
            for conn in list(self.busy):
                if conn.sent_at < cutoff and conn.waiter is not None and not conn.waiter.done():
                    conn.reusable = False
                    conn.waiter.set_exception(RequestFailed("timed out"))

    async def close(self) -> None:
        self.watchdog.cancel()
        for conn in self.idle:
            if conn.transport is not None:
                conn.transport.close()
        self.idle.clear()


class AiohttpClient:
    """The same interface over aiohttp, for comparison (`"client": "aiohttp"` in the job)."""

    def __init__(self, limit: int, tls: ssl.SSLContext | None = None) -> None:
        connector = aiohttp.TCPConnector(
            limit=limit, limit_per_host=0, keepalive_timeout=60, ssl=tls if tls else True
        )
        # skip_auto_headers: no User-Agent / Accept-Encoding to build and parse per request.
        self.session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
            skip_auto_headers=("User-Agent", "Accept-Encoding"),
        )

    async def send(self, prepared: Prepared, body: bytes | None = None) -> tuple[int, bytes]:
        try:
            async with self.session.request(
                prepared.method, prepared.url, data=body, headers=prepared.headers
            ) as response:
                return response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise RequestFailed(f"{type(error).__name__}: {error}") from error

    async def warm(self, count: int) -> None:
        """aiohttp opens connections on demand; nothing to do ahead of time."""

    async def close(self) -> None:
        await self.session.close()


def tls_context(tls: dict[str, str]) -> ssl.SSLContext:
    """A client context from the job's `tls`: `ca_file` (the platform's trust bundle) to
    verify the server, and for mutual TLS `cert_file` and `key_file`, presented to it."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=tls["ca_file"])
    if tls.get("cert_file"):
        context.load_cert_chain(tls["cert_file"], tls["key_file"])
    return context


def new_client(kind: str, base_url: str, limit: int, tls: dict[str, str] | None = None) -> Client:
    parts = urlsplit(base_url)
    context = None
    if parts.scheme == "https":
        if tls is None:
            raise ValueError(f"{base_url} is https but the job has no `tls`")
        context = tls_context(tls)
    if kind == "aiohttp":
        return AiohttpClient(limit, context)
    assert parts.hostname is not None and parts.port is not None
    return RawClient(parts.hostname, parts.port, limit, context)


@contextlib.asynccontextmanager
async def client_for(job: dict[str, Any], base_url: str, limit: int) -> AsyncIterator[Client]:
    client = new_client(job.get("client", "raw"), base_url, limit, job.get("tls"))
    try:
        yield client
    finally:
        await client.close()


async def closed_loop(
    concurrency: int,
    warmup_s: float,
    duration_s: float,
    request: Callable[[], Awaitable[bool | None]],
    probe: CpuProbe,
) -> dict[str, Any]:
    """`concurrency` workers each send the next request as soon as the last one answered.

    `request()` returns True on success, False on failure, None when there is nothing left to
    send (the MSISDN budget ran out), which ends the loop early. Requests that finish inside
    the window count (throughput is completions per second); the window shrinks if the loop
    ends early.
    """
    tally = Tally()
    started = time.monotonic()
    window_start = started + warmup_s
    deadline = window_start + duration_s
    ended_at: list[float] = []
    ended = asyncio.Event()

    async def sample_window() -> dict[str, float]:
        # Sample CPU at the window's edges, not when the last straggler returns.
        await asyncio.sleep(warmup_s)
        probe.begin()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ended.wait(), max(0.0, deadline - time.monotonic()))
        return probe.end()

    async def worker() -> None:
        while True:
            sent = time.monotonic()
            if sent >= deadline:
                return
            outcome = await request()
            done = time.monotonic()
            if outcome is None:
                ended_at.append(done)
                ended.set()
                return
            if done < window_start or done > deadline:
                continue
            if outcome:
                tally.ok += 1
                tally.latencies.append(done - sent)
            else:
                tally.error("failed")

    sampler = asyncio.create_task(sample_window())
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    ended.set()
    cpu = await sampler
    finished = min([deadline, *ended_at])
    window = max(finished - window_start, 1e-9)
    return {
        "concurrency": concurrency,
        "warmup_s": warmup_s,
        "window_s": round(window, 3),
        "ok": tally.ok,
        "failed": sum(tally.errors.values()),
        "rate_per_s": round(tally.ok / window, 1),
        "latency": latency_summary(tally.latencies),
        "cpu_s": cpu,
        "ended_early": bool(ended_at) and min(ended_at) < deadline,
    }


async def open_loop(
    rate_per_s: float,
    duration_s: float,
    max_outstanding: int,
    request: Callable[[], Awaitable[bool | None]],
    probe: CpuProbe,
) -> dict[str, Any]:
    """Send at a fixed rate regardless of how fast answers come back.

    Latency runs from the time a request was *scheduled*, not when it went out, so a server
    stall shows up as the queue of requests it delayed (no coordinated omission). A request
    that cannot be launched because `max_outstanding` are already in flight counts as dropped.
    """
    tally = Tally()
    total = int(rate_per_s * duration_s)
    interval = 1.0 / rate_per_s
    outstanding: set[asyncio.Task[None]] = set()
    exhausted = False

    async def one(scheduled: float) -> None:
        nonlocal exhausted
        outcome = await request()
        if outcome is None:
            exhausted = True
        elif outcome:
            tally.ok += 1
            tally.latencies.append(time.monotonic() - scheduled)
        else:
            tally.error("failed")

    probe.begin()
    start = time.monotonic() + 0.01
    sent = dropped = 0
    for i in range(total):
        if exhausted:
            break
        scheduled = start + i * interval
        delay = scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(outstanding) >= max_outstanding:
            dropped += 1
            continue
        task = asyncio.create_task(one(scheduled))
        outstanding.add(task)
        task.add_done_callback(outstanding.discard)
        sent += 1
    if outstanding:
        await asyncio.wait(outstanding, timeout=REQUEST_TIMEOUT_S)
    elapsed = time.monotonic() - start
    cpu = probe.end()
    return {
        "target_rate_per_s": round(rate_per_s, 1),
        "duration_s": duration_s,
        "scheduled": total,
        "sent": sent,
        "dropped": dropped,
        "ok": tally.ok,
        "failed": sum(tally.errors.values()),
        "achieved_rate_per_s": round(tally.ok / duration_s, 1),
        "elapsed_s": round(elapsed, 3),
        "latency_from_schedule": latency_summary(tally.latencies),
        "cpu_s": cpu,
        "ran_out_of_msisdns": exhausted,
    }


# ---------------------------------------------------------------------------------------------
# Jobs


async def get_token(job: dict[str, Any]) -> str:
    basic = base64.b64encode(f"{job['consumer_key']}:{job['consumer_secret']}".encode()).decode()
    url = f"{job['base_url']}/oauth/v1/generate?grant_type=client_credentials"
    async with client_for(job, job["base_url"], 1) as client:
        status, body = await client.send(Prepared("GET", url, {"Authorization": f"Basic {basic}"}))
    if status != 200:
        raise RuntimeError(f"token request failed: HTTP {status} {body[:300]!r}")
    return str(orjson.loads(body)["access_token"])


def push_route(job: dict[str, Any], token: str) -> Prepared:
    return Prepared(
        "POST",
        f"{job['base_url']}/mpesa/stkpush/v1/processrequest",
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


def _error_key(status: int, body: bytes) -> str:
    """A short label for a failed response: the Daraja errorCode when there is one."""
    try:
        code = orjson.loads(body).get("errorCode")
    except (orjson.JSONDecodeError, AttributeError):
        code = None
    return f"{status}:{code}" if code else f"http {status}"


async def run_healthz(job: dict[str, Any]) -> dict[str, Any]:
    probe = CpuProbe(job.get("server_pid"), None)
    errors: Counter[str] = Counter()
    route = Prepared("GET", f"{job['base_url']}/healthz", {})
    async with client_for(job, job["base_url"], job["concurrency"]) as client:
        await client.warm(job["concurrency"])

        async def request() -> bool:
            try:
                status, _ = await client.send(route)
            except RequestFailed as error:
                errors[str(error).split(":")[0]] += 1
                return False
            if status == 200:
                return True
            errors[f"http {status}"] += 1
            return False

        result = await closed_loop(
            job["concurrency"], job["warmup_s"], job["duration_s"], request, probe
        )
    result["errors"] = dict(errors)
    return result


def accepted(status: int, body: bytes) -> bool:
    # A byte search, not a JSON parse: this runs thousands of times a second.
    return status == 200 and b'"ResponseCode":"0"' in body.replace(b" ", b"")


async def run_accept(job: dict[str, Any]) -> dict[str, Any]:
    """Closed loop at high concurrency, then an open loop at `open_fraction` of its rate."""
    bodies = PushBodies(job["callback_url"])
    probe = CpuProbe(job.get("server_pid"), None)
    errors: Counter[str] = Counter()
    first, stop = job["msisdn_first"], job["msisdn_stop"]
    next_index = first
    # The closed loop may spend only part of the MSISDNs so that the open loop has its own.
    limit = first + int((stop - first) * job["closed_share"])
    route = push_route(job, await get_token(job))

    async with client_for(job, job["base_url"], job["concurrency"]) as client:
        await client.warm(job["concurrency"])

        async def request() -> bool | None:
            nonlocal next_index
            if next_index >= limit:
                return None
            number = msisdn(next_index)
            next_index += 1
            try:
                status, body = await client.send(route, bodies.body(number))
            except RequestFailed as error:
                errors[str(error).split(":")[0]] += 1
                return False
            if accepted(status, body):
                return True
            errors[_error_key(status, body)] += 1
            return False

        closed = await closed_loop(
            job["concurrency"], job["warmup_s"], job["duration_s"], request, probe
        )
        closed["errors"] = dict(errors)
        closed["msisdns_used"] = next_index - first
        errors.clear()

    limit = stop
    # Half (open_fraction) of the measured maximum, unless the job pins a rate.
    rate = job.get("open_rate_per_s") or closed["rate_per_s"] * job["open_fraction"]
    # Run for the configured time, or less if the remaining MSISDNs would not last.
    duration = min(job["open_duration_s"], (stop - next_index) / max(rate, 1.0))
    if rate < 1 or duration < 0.5:
        return {
            "closed": closed,
            "open": {"skipped": "closed loop too slow or no MSISDNs left"},
            "msisdns_used": next_index - first,
        }
    # `request` reads `client` and `limit` when called, so it now uses the new pool and the
    # whole remaining MSISDN range.
    # A fresh pool sized for bursts: in an open loop a stall must show up as latency, not
    # be hidden by requests waiting for a free connection before they are even counted.
    async with client_for(job, job["base_url"], job["open_connections"]) as client:
        await client.warm(job["open_connections"])
        opened = await open_loop(rate, duration, job["max_outstanding"], request, probe)
    opened["errors"] = dict(errors)
    return {"closed": closed, "open": opened, "msisdns_used": next_index - first}


class E2ERun:
    """Pushes whose prompts the simulated customer accepts at once; counts callbacks back.

    MSISDNs live in a free queue. A worker takes one, pushes, and parks it under the push's
    CheckoutRequestID; the poller, following the receiver's callbacks, puts it back. So no
    MSISDN gets a second push before the first one's callback arrived.
    """

    def __init__(
        self, job: dict[str, Any], client: Client, receiver: Client, route: Prepared
    ) -> None:
        self.job = job
        self.client = client
        self.receiver = receiver
        self.route = route
        self.bodies = PushBodies(job["callback_url"])
        self.free: asyncio.Queue[str] = asyncio.Queue()
        for index in range(job["msisdn_first"], job["msisdn_stop"]):
            self.free.put_nowait(msisdn(index))
        # CheckoutRequestID -> (MSISDN, monotonic send time) for pushes awaiting a callback.
        self.pending: dict[str, tuple[str, float]] = {}
        # Callbacks that beat their push's HTTP response back to us: id -> arrival time.
        self.early: dict[str, float] = {}
        # (monotonic arrival time, ResultCode) of every first-seen callback.
        self.arrivals: list[tuple[float, int | None]] = []
        self.accepted = 0
        self.matched = 0
        self.accept_latencies: list[float] = []
        self.e2e_latencies: list[float] = []
        self.errors: Counter[str] = Counter()
        self.result_codes: Counter[str] = Counter()
        self.window_start = time.monotonic() + job["warmup_s"]
        self.send_deadline = self.window_start + job["duration_s"]

    def _rest(self, number: str) -> None:
        # After a failed push the subscriber may still be locked: give it a moment.
        asyncio.get_running_loop().call_later(0.5, self.free.put_nowait, number)

    def _settle(self, number: str, sent: float, arrived: float) -> None:
        self.matched += 1
        self.e2e_latencies.append(arrived - sent)
        self.free.put_nowait(number)

    async def push(self, number: str) -> None:
        sent = time.monotonic()
        try:
            status, body = await self.client.send(self.route, self.bodies.body(number))
        except RequestFailed as error:
            self.errors[str(error).split(":")[0]] += 1
            self._rest(number)
            return
        checkout_id = orjson.loads(body).get("CheckoutRequestID") if status == 200 else None
        if not checkout_id:
            self.errors[_error_key(status, body)] += 1
            self._rest(number)
            return
        self.accepted += 1
        done = time.monotonic()
        if self.window_start <= done <= self.send_deadline:
            self.accept_latencies.append(done - sent)
        arrived = self.early.pop(checkout_id, None)
        if arrived is None:
            self.pending[checkout_id] = (number, sent)
        else:
            self._settle(number, sent, arrived)

    async def worker(self) -> None:
        while True:
            remaining = self.send_deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                number = await asyncio.wait_for(self.free.get(), remaining)
            except TimeoutError:
                return
            await self.push(number)

    def on_callbacks(self, events: list[list[Any]]) -> None:
        for checkout_id, arrived, code in events:
            self.arrivals.append((arrived, code))
            self.result_codes[str(code)] += 1
            entry = self.pending.pop(checkout_id, None)
            if entry is None:
                self.early[checkout_id] = arrived
            else:
                self._settle(entry[0], entry[1], arrived)

    async def poll_callbacks(self, stop: asyncio.Event) -> None:
        """Follow the receiver's first-seen callbacks until `stop` and nothing new is left."""
        url = f"{self.job['receiver_url']}/events/{self.job['bucket']}"
        cursor = 0
        while True:
            stopping = stop.is_set()
            status, body = await self.receiver.send(Prepared("GET", f"{url}?after={cursor}", {}))
            if status != 200:
                raise RuntimeError(f"receiver /events answered HTTP {status}")
            events = orjson.loads(body)
            cursor += len(events)
            self.on_callbacks(events)
            if not events:
                if stopping:
                    return
                await asyncio.sleep(self.job["poll_interval_s"])

    async def sample_window(self, probe: CpuProbe) -> dict[str, float]:
        await asyncio.sleep(max(0.0, self.window_start - time.monotonic()))
        probe.begin()
        await asyncio.sleep(max(0.0, self.send_deadline - time.monotonic()))
        return probe.end()

    async def drain(self) -> float:
        """After sending stops, wait (bounded) for outstanding callbacks; returns the wait."""
        started = time.monotonic()
        deadline = started + self.job["drain_s"]
        while self.pending and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return time.monotonic() - started

    async def receiver_stats(self) -> dict[str, Any]:
        url = f"{self.job['receiver_url']}/stats/{self.job['bucket']}"
        status, body = await self.receiver.send(Prepared("GET", url, {}))
        if status != 200:
            raise RuntimeError(f"receiver /stats answered HTTP {status}")
        return dict(orjson.loads(body))

    def summary(
        self, cpu: dict[str, float], drain_s: float, stats: dict[str, Any]
    ) -> dict[str, Any]:
        job = self.job
        window = job["duration_s"]
        in_window = [
            code for at, code in self.arrivals if self.window_start <= at < self.send_deadline
        ]
        # A completed payment is a callback saying it succeeded; other codes are failures.
        completed = sum(1 for code in in_window if code == 0)
        return {
            "concurrency": job["concurrency"],
            "pool": job["msisdn_stop"] - job["msisdn_first"],
            "warmup_s": job["warmup_s"],
            "window_s": window,
            "accepted": self.accepted,
            "accepted_per_s_in_window": round(len(self.accept_latencies) / window, 1),
            "callbacks_in_window": len(in_window),
            "completed_in_window": completed,
            "completed_per_s": round(completed / window, 1),
            "callbacks_unique": stats["unique"],
            "matched": self.matched,
            "lost": len(self.pending),
            "duplicates": stats["duplicates"],
            "unknown_callbacks": len(self.early),
            "malformed_callbacks": stats["malformed"],
            "result_codes": dict(self.result_codes),
            "drain_s": round(drain_s, 3),
            "push_errors": dict(self.errors),
            "accept_latency": latency_summary(self.accept_latencies),
            "e2e_latency": latency_summary(self.e2e_latencies),
            "cpu_s": cpu,
        }


async def run_e2e(job: dict[str, Any]) -> dict[str, Any]:
    probe = CpuProbe(job.get("server_pid"), job.get("receiver_pid"))
    token = await get_token(job)
    async with (
        client_for(job, job["base_url"], job["concurrency"]) as client,
        client_for(job, job["receiver_url"], 1) as receiver,
    ):
        await client.warm(job["concurrency"])
        run = E2ERun(job, client, receiver, push_route(job, token))
        stop_polling = asyncio.Event()
        poller = asyncio.create_task(run.poll_callbacks(stop_polling))
        sampler = asyncio.create_task(run.sample_window(probe))
        await asyncio.gather(*(run.worker() for _ in range(job["concurrency"])))
        cpu = await sampler
        drain_s = await run.drain()
        # Give late duplicates a moment to land before the final count.
        await asyncio.sleep(job["settle_s"])
        stop_polling.set()
        await poller
        stats = await run.receiver_stats()
    return run.summary(cpu, drain_s, stats)


class C2bRun:
    """C2B payments (`CustomerPayBillOnline` simulates) with validation on; counts them back.

    The simulate reply carries no TransID, so payments are not matched one by one: a payment
    takes one of `max_in_flight` slots when its simulate is accepted and the poller frees one
    per confirmation that arrives. That bounds the payments waiting inside the server (so
    they are not pushed past the validation timeout), and throughput is confirmations per
    second in the window; at the end, accepted simulates, validations and confirmations must
    be equal.
    """

    def __init__(self, job: dict[str, Any], client: Client, receiver: Client, token: str) -> None:
        self.job = job
        self.client = client
        self.receiver = receiver
        self.route = Prepared(
            "POST",
            f"{job['base_url']}/mpesa/c2b/v1/simulate",
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        marker = "@@MSISDN@@"
        doc = {
            "ShortCode": C2B_SHORTCODE,
            "CommandID": "CustomerPayBillOnline",
            "Amount": 10,
            "Msisdn": marker,
            "BillRefNumber": "B123",
        }
        self._head, self._tail = orjson.dumps(doc).split(marker.encode())
        self.next_index = job["msisdn_first"]
        self.slots = asyncio.Semaphore(job["max_in_flight"])
        self.accepted = 0
        self.accept_latencies: list[float] = []
        # Monotonic arrival times of first-seen confirmations.
        self.arrivals: list[float] = []
        self.errors: Counter[str] = Counter()
        self.window_start = time.monotonic() + job["warmup_s"]
        self.send_deadline = self.window_start + job["duration_s"]

    def _body(self) -> bytes:
        number = msisdn(self.next_index)
        self.next_index += 1
        if self.next_index >= self.job["msisdn_stop"]:
            self.next_index = self.job["msisdn_first"]
        return self._head + number.encode() + self._tail

    async def pay(self) -> None:
        sent = time.monotonic()
        try:
            status, body = await self.client.send(self.route, self._body())
        except RequestFailed as error:
            self.errors[str(error).split(":")[0]] += 1
            self.slots.release()
            return
        if not accepted(status, body):
            self.errors[_error_key(status, body)] += 1
            self.slots.release()
            return
        self.accepted += 1
        done = time.monotonic()
        if self.window_start <= done <= self.send_deadline:
            self.accept_latencies.append(done - sent)

    async def worker(self) -> None:
        while True:
            remaining = self.send_deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(self.slots.acquire(), remaining)
            except TimeoutError:
                return
            await self.pay()

    async def poll_confirmations(self, stop: asyncio.Event) -> None:
        """Follow the receiver's first-seen confirmations until `stop` and none are new."""
        url = f"{self.job['receiver_url']}/events/{self.job['bucket']}"
        cursor = 0
        while True:
            stopping = stop.is_set()
            status, body = await self.receiver.send(Prepared("GET", f"{url}?after={cursor}", {}))
            if status != 200:
                raise RuntimeError(f"receiver /events answered HTTP {status}")
            events = orjson.loads(body)
            cursor += len(events)
            for _trans_id, arrived, _code in events:
                self.arrivals.append(arrived)
                self.slots.release()
            if not events:
                if stopping:
                    return
                await asyncio.sleep(self.job["poll_interval_s"])

    async def sample_window(self, probe: CpuProbe) -> dict[str, float]:
        await asyncio.sleep(max(0.0, self.window_start - time.monotonic()))
        probe.begin()
        await asyncio.sleep(max(0.0, self.send_deadline - time.monotonic()))
        return probe.end()

    async def drain(self) -> float:
        """After sending stops, wait (bounded) until every accepted payment is confirmed."""
        started = time.monotonic()
        deadline = started + self.job["drain_s"]
        while len(self.arrivals) < self.accepted and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return time.monotonic() - started

    async def stats(self, bucket: str) -> dict[str, Any]:
        status, body = await self.receiver.send(
            Prepared("GET", f"{self.job['receiver_url']}/stats/{bucket}", {})
        )
        if status != 200:
            raise RuntimeError(f"receiver /stats answered HTTP {status}")
        return dict(orjson.loads(body))

    def summary(
        self,
        cpu: dict[str, float],
        drain_s: float,
        confirmations: dict[str, Any],
        validations: dict[str, Any],
    ) -> dict[str, Any]:
        job = self.job
        window = job["duration_s"]
        in_window = sum(1 for at in self.arrivals if self.window_start <= at < self.send_deadline)
        return {
            "concurrency": job["concurrency"],
            "max_in_flight": job["max_in_flight"],
            "pool": job["msisdn_stop"] - job["msisdn_first"],
            "warmup_s": job["warmup_s"],
            "window_s": window,
            "accepted": self.accepted,
            "accepted_per_s_in_window": round(len(self.accept_latencies) / window, 1),
            "completed_in_window": in_window,
            "completed_per_s": round(in_window / window, 1),
            "confirmations_unique": confirmations["unique"],
            "confirmation_duplicates": confirmations["duplicates"],
            "validations_unique": validations["unique"],
            "validation_duplicates": validations["duplicates"],
            "malformed": confirmations["malformed"] + validations["malformed"],
            # Accepted simulates whose confirmation had not come by the end of the drain.
            "lost": max(0, self.accepted - confirmations["unique"]),
            # Confirmations beyond the accepted simulates: payments we never saw accepted.
            "unknown_confirmations": max(0, confirmations["unique"] - self.accepted),
            "drain_s": round(drain_s, 3),
            "simulate_errors": dict(self.errors),
            "accept_latency": latency_summary(self.accept_latencies),
            "cpu_s": cpu,
        }


async def register_c2b_urls(job: dict[str, Any], token: str) -> None:
    base = f"{job['receiver_url']}/c2b/{job['bucket']}"
    body = orjson.dumps(
        {
            "ShortCode": C2B_SHORTCODE,
            "ResponseType": "Completed",
            "ConfirmationURL": f"{base}/confirm",
            "ValidationURL": f"{base}/validate",
        }
    )
    route = Prepared(
        "POST",
        f"{job['base_url']}/mpesa/c2b/v1/registerurl",
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    async with client_for(job, job["base_url"], 1) as client:
        status, reply = await client.send(route, body)
    if status != 200:
        raise RuntimeError(f"registerurl failed: HTTP {status} {reply[:300]!r}")


async def run_c2b(job: dict[str, Any]) -> dict[str, Any]:
    probe = CpuProbe(job.get("server_pid"), job.get("receiver_pid"))
    token = await get_token(job)
    await register_c2b_urls(job, token)
    async with (
        client_for(job, job["base_url"], job["concurrency"]) as client,
        client_for(job, job["receiver_url"], 2) as receiver,
    ):
        await client.warm(job["concurrency"])
        run = C2bRun(job, client, receiver, token)
        stop_polling = asyncio.Event()
        poller = asyncio.create_task(run.poll_confirmations(stop_polling))
        sampler = asyncio.create_task(run.sample_window(probe))
        await asyncio.gather(*(run.worker() for _ in range(job["concurrency"])))
        cpu = await sampler
        drain_s = await run.drain()
        # Give late duplicates a moment to land before the final count.
        await asyncio.sleep(job["settle_s"])
        stop_polling.set()
        await poller
        confirmations = await run.stats(job["bucket"])
        validations = await run.stats(f"{job['bucket']}.validate")
    return run.summary(cpu, drain_s, confirmations, validations)


class B2cRun:
    """B2C v3 payouts (`BusinessPayment`, KES 10) whose Results are counted back.

    Each payout gets an OriginatorConversationID of our own (`bench-<n>`), registered as
    pending *before* it is sent, so a Result that beats its acknowledgement back is still
    matched. A payout takes one of `max_in_flight` slots when it is sent and gives it back
    when its Result arrives (or its request fails): that bounds the payouts queued inside
    the server, so none is pushed past the queue timeout. Throughput is successful Results
    (ResultCode 0) arriving in the window, per second.
    """

    def __init__(self, job: dict[str, Any], client: Client, receiver: Client, token: str) -> None:
        self.job = job
        self.client = client
        self.receiver = receiver
        self.route = Prepared(
            "POST",
            f"{job['base_url']}/mpesa/b2c/v3/paymentrequest",
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        # Production's callback URLs must be https: its receiver has an https listener too.
        results_to = job.get("callback_base_url", job["receiver_url"])
        base = f"{results_to}/b2c/{job['bucket']}"
        id_marker, msisdn_marker = "@@OCID@@", "@@MSISDN@@"
        doc = {
            "OriginatorConversationID": id_marker,
            "InitiatorName": job["initiator"],
            # One credential for the whole run, as a real client reuses its own.
            "SecurityCredential": job["security_credential"],
            "CommandID": "BusinessPayment",
            "Amount": 10,
            "PartyA": job.get("shortcode", B2C_SHORTCODE),
            "PartyB": msisdn_marker,
            "Remarks": "bench payout",
            "QueueTimeOutURL": f"{base}/timeout",
            "ResultURL": f"{base}/result",
            "Occassion": "bench",
        }
        head, rest = orjson.dumps(doc).split(id_marker.encode())
        middle, tail = rest.split(msisdn_marker.encode())
        self._parts = (head, middle, tail)
        self.sequence = 0
        self.next_index = job["msisdn_first"]
        self.slots = asyncio.Semaphore(job["max_in_flight"])
        # OriginatorConversationID -> monotonic send time, for payouts awaiting a Result.
        self.pending: dict[str, float] = {}
        # Results for an id we were not waiting for (never sent, failed, or already matched).
        self.unknown = 0
        self.accepted = 0
        self.matched = 0
        self.accept_latencies: list[float] = []
        self.e2e_latencies: list[float] = []
        # (monotonic arrival time, ResultCode) of every first-seen Result.
        self.arrivals: list[tuple[float, int | None]] = []
        self.result_codes: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.window_start = time.monotonic() + job["warmup_s"]
        self.send_deadline = self.window_start + job["duration_s"]

    def _next(self) -> tuple[str, bytes]:
        self.sequence += 1
        originator_id = f"bench-{self.sequence}"
        number = msisdn(self.next_index)
        self.next_index += 1
        if self.next_index >= self.job["msisdn_stop"]:
            self.next_index = self.job["msisdn_first"]
        head, middle, tail = self._parts
        return originator_id, head + originator_id.encode() + middle + number.encode() + tail

    def _failed(self, originator_id: str, key: str) -> None:
        self.errors[key] += 1
        # Its slot is given back here, unless a Result already came and gave it back.
        if self.pending.pop(originator_id, None) is not None:
            self.slots.release()

    async def pay(self) -> None:
        originator_id, body = self._next()
        sent = time.monotonic()
        self.pending[originator_id] = sent
        try:
            status, reply = await self.client.send(self.route, body)
        except RequestFailed as error:
            self._failed(originator_id, str(error).split(":")[0])
            return
        if not accepted(status, reply):
            self._failed(originator_id, _error_key(status, reply))
            return
        self.accepted += 1
        done = time.monotonic()
        if self.window_start <= done <= self.send_deadline:
            self.accept_latencies.append(done - sent)

    async def worker(self) -> None:
        while True:
            remaining = self.send_deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(self.slots.acquire(), remaining)
            except TimeoutError:
                return
            await self.pay()

    def on_results(self, events: list[list[Any]]) -> None:
        for originator_id, arrived, code in events:
            self.arrivals.append((arrived, code))
            self.result_codes[str(code)] += 1
            sent = self.pending.pop(originator_id, None)
            if sent is None:
                self.unknown += 1
                continue
            self.matched += 1
            self.e2e_latencies.append(arrived - sent)
            self.slots.release()

    async def poll_results(self, stop: asyncio.Event) -> None:
        """Follow the receiver's first-seen Results until `stop` and none are new."""
        url = f"{self.job['receiver_url']}/events/{self.job['bucket']}"
        cursor = 0
        while True:
            stopping = stop.is_set()
            status, body = await self.receiver.send(Prepared("GET", f"{url}?after={cursor}", {}))
            if status != 200:
                raise RuntimeError(f"receiver /events answered HTTP {status}")
            events = orjson.loads(body)
            cursor += len(events)
            self.on_results(events)
            if not events:
                if stopping:
                    return
                await asyncio.sleep(self.job["poll_interval_s"])

    async def sample_window(self, probe: CpuProbe) -> dict[str, float]:
        await asyncio.sleep(max(0.0, self.window_start - time.monotonic()))
        probe.begin()
        await asyncio.sleep(max(0.0, self.send_deadline - time.monotonic()))
        return probe.end()

    async def drain(self) -> float:
        """After sending stops, wait (bounded) for the Results still outstanding."""
        started = time.monotonic()
        deadline = started + self.job["drain_s"]
        while self.pending and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return time.monotonic() - started

    async def stats(self, bucket: str) -> dict[str, Any]:
        status, body = await self.receiver.send(
            Prepared("GET", f"{self.job['receiver_url']}/stats/{bucket}", {})
        )
        if status != 200:
            raise RuntimeError(f"receiver /stats answered HTTP {status}")
        return dict(orjson.loads(body))

    def summary(
        self,
        cpu: dict[str, float],
        drain_s: float,
        results: dict[str, Any],
        timeouts: dict[str, Any],
    ) -> dict[str, Any]:
        job = self.job
        window = job["duration_s"]
        in_window = [
            code for at, code in self.arrivals if self.window_start <= at < self.send_deadline
        ]
        # A completed payout is a Result saying it succeeded; other codes are failures.
        completed = sum(1 for code in in_window if code == 0)
        return {
            "concurrency": job["concurrency"],
            "max_in_flight": job["max_in_flight"],
            "pool": job["msisdn_stop"] - job["msisdn_first"],
            "warmup_s": job["warmup_s"],
            "window_s": window,
            "sent": self.sequence,
            "accepted": self.accepted,
            "accepted_per_s_in_window": round(len(self.accept_latencies) / window, 1),
            "results_in_window": len(in_window),
            "completed_in_window": completed,
            "completed_per_s": round(completed / window, 1),
            "results_unique": results["unique"],
            "matched": self.matched,
            # Accepted payouts with no Result by the end of the drain.
            "lost": len(self.pending),
            "duplicates": results["duplicates"],
            "unknown_results": self.unknown,
            "malformed_results": results["malformed"],
            "queue_timeouts": timeouts["received"],
            "result_codes": dict(self.result_codes),
            "drain_s": round(drain_s, 3),
            "payout_errors": dict(self.errors),
            "accept_latency": latency_summary(self.accept_latencies),
            "e2e_latency": latency_summary(self.e2e_latencies),
            "cpu_s": cpu,
        }


async def run_b2c(job: dict[str, Any]) -> dict[str, Any]:
    probe = CpuProbe(job.get("server_pid"), job.get("receiver_pid"))
    token = await get_token(job)
    async with (
        client_for(job, job["base_url"], job["concurrency"]) as client,
        client_for(job, job["receiver_url"], 2) as receiver,
    ):
        await client.warm(job["concurrency"])
        run = B2cRun(job, client, receiver, token)
        stop_polling = asyncio.Event()
        poller = asyncio.create_task(run.poll_results(stop_polling))
        sampler = asyncio.create_task(run.sample_window(probe))
        await asyncio.gather(*(run.worker() for _ in range(job["concurrency"])))
        cpu = await sampler
        drain_s = await run.drain()
        # Give late duplicates a moment to land before the final count.
        await asyncio.sleep(job["settle_s"])
        stop_polling.set()
        await poller
        results = await run.stats(job["bucket"])
        timeouts = await run.stats(f"{job['bucket']}.timeout")
    return run.summary(cpu, drain_s, results, timeouts)


JOBS: dict[str, Callable[[dict[str, Any]], Coroutine[Any, Any, dict[str, Any]]]] = {
    "healthz": run_healthz,
    "accept": run_accept,
    "e2e": run_e2e,
    "c2b": run_c2b,
    "b2c": run_b2c,
}


def main() -> int:
    job = orjson.loads(sys.stdin.buffer.read())
    result = run_fast(JOBS[job["mode"]](job))
    sys.stdout.buffer.write(orjson.dumps(result) + b"\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
