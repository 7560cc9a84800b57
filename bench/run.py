"""Benchmark pesabox on this machine: `python -m bench.run [--quick] [--workers W]`.

Sets up a fresh durable SQLite database, starts a callback receiver and the server, and runs
three phases against 127.0.0.1 (see docs/benchmark.md):

A. `GET /healthz` closed loop: the ceiling of the HTTP stack on this box, the yardstick;
B. STK push accept path (customer never answers): closed-loop max rate, then latency at a fixed
   half of that rate;
C. end to end (customer answers at once): payments completed per second as seen by the
   merchant's callback receiver, with lost and duplicated callbacks counted;
D. C2B with validation on: customer payments whose validation request the receiver answers
   and whose confirmation it receives, per second, with lost and duplicated ones counted;
E. B2C: payouts from the B2C shortcode to customers, per second from request to Result
   received, with lost and duplicated Results counted.
F. the inspector's recording: phase B's closed loop with recording off and on.
G. over TLS: C's STK load on the sandbox's https listener, and E's payouts from a production
   business over mutual TLS; each as a ratio to C and E (`--tls-only`: C, E and G alone).

Every child process runs in its own session and is killed on exit, error or Ctrl-C; every wait
is bounded. The result goes to bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from bench import tls_phase
from bench.loadgen import machine_busy_s, tree_cpu_s

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
HOST = "127.0.0.1"
# Stay well clear of the sandbox's own seeded customers; our MSISDNs are 2547200xxxxx.
MAX_CUSTOMERS = 100_000

TARGETS = {
    "accepted_pushes_per_s": 3000.0,
    "completed_payments_per_s": 1600.0,
    "p99_accept_ms_at_half_load": 50.0,
    "pushes_per_healthz": 0.25,
    "c2b_payments_per_s": 500.0,
    "c2b_per_e2e": 0.5,
    "b2c_payouts_per_s": 800.0,
    "b2c_per_e2e": 0.6,
    **tls_phase.HTTPS_TARGETS,
}
C2B_SHORTCODE = "600000"
# The sandbox's seeded initiator and its published password (README): phase E encrypts it
# once, with the certificate in its database copy, and sends that one credential throughout.
B2C_INITIATOR = "testapi"
B2C_INITIATOR_PASSWORD = "Safaricom999!*!"
# Phase F: the inspector's request recording off and on, alternated so that a machine
# getting busier during the phase weighs on both alike.
RECORDING_RUNS = ("off-1", "on-1", "off-2", "on-2")


@dataclass(frozen=True)
class Profile:
    """Sizes and durations of one run; `quick` is a smoke test, `full` the real measurement."""

    customers: int
    healthz_concurrency: int
    healthz_warmup_s: float
    healthz_duration_s: float
    push_concurrency: int
    accept_warmup_s: float
    accept_duration_s: float
    # Fraction of the MSISDNs the closed loop may use; the open loop gets the rest.
    accept_closed_share: float
    open_fraction: float
    open_duration_s: float
    open_max_outstanding: int
    open_connections: int
    e2e_concurrency: int
    e2e_pool: int
    e2e_warmup_s: float
    e2e_duration_s: float
    e2e_drain_s: float
    e2e_settle_s: float
    e2e_poll_interval_s: float
    c2b_concurrency: int
    c2b_max_in_flight: int
    c2b_warmup_s: float
    c2b_duration_s: float
    b2c_concurrency: int
    b2c_max_in_flight: int
    b2c_warmup_s: float
    b2c_duration_s: float


FULL = Profile(
    customers=60_000,
    healthz_concurrency=64,
    healthz_warmup_s=1.0,
    healthz_duration_s=8.0,
    push_concurrency=128,
    accept_warmup_s=1.0,
    accept_duration_s=8.0,
    accept_closed_share=0.65,
    open_fraction=0.5,
    open_duration_s=8.0,
    open_max_outstanding=2048,
    open_connections=256,
    e2e_concurrency=128,
    e2e_pool=8_000,
    e2e_warmup_s=2.0,
    e2e_duration_s=10.0,
    e2e_drain_s=20.0,
    e2e_settle_s=1.0,
    e2e_poll_interval_s=0.01,
    c2b_concurrency=128,
    c2b_max_in_flight=1024,
    c2b_warmup_s=2.0,
    c2b_duration_s=10.0,
    b2c_concurrency=128,
    b2c_max_in_flight=1024,
    b2c_warmup_s=2.0,
    b2c_duration_s=10.0,
)

QUICK = Profile(
    customers=25_000,
    healthz_concurrency=64,
    healthz_warmup_s=0.5,
    healthz_duration_s=3.0,
    push_concurrency=128,
    accept_warmup_s=0.5,
    accept_duration_s=3.0,
    accept_closed_share=0.65,
    open_fraction=0.5,
    open_duration_s=3.0,
    open_max_outstanding=2048,
    open_connections=256,
    e2e_concurrency=128,
    e2e_pool=5_000,
    e2e_warmup_s=1.0,
    e2e_duration_s=4.0,
    e2e_drain_s=10.0,
    e2e_settle_s=0.5,
    e2e_poll_interval_s=0.01,
    c2b_concurrency=128,
    c2b_max_in_flight=1024,
    c2b_warmup_s=1.0,
    c2b_duration_s=4.0,
    b2c_concurrency=128,
    b2c_max_in_flight=1024,
    b2c_warmup_s=1.0,
    b2c_duration_s=4.0,
)


class BenchError(RuntimeError):
    """A step of the benchmark could not be done; the message says which and why."""


# ---------------------------------------------------------------------------------------------
# Child processes


class Children:
    """Every process we start, so that all of them can be stopped on the way out.

    Each child gets its own session (process group): stopping one kills exactly its group,
    which also takes out server workers, and a Ctrl-C in the terminal reaches only us, so
    shutdown happens in one place and in order.
    """

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, argv: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(argv, env=env, start_new_session=True, **kwargs)
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], grace_s: float = 10.0) -> int | None:
        """SIGTERM, wait up to `grace_s`, then SIGKILL the whole group."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                pass
        # Leftover workers of a supervisor that has exited still belong to its group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        if proc in self.procs:
            self.procs.remove(proc)
        return proc.returncode

    def stop_all(self) -> None:
        for proc in reversed(list(self.procs)):
            self.stop(proc, grace_s=5.0)


def _raise_on_sigterm(_signum: int, _frame: object) -> None:
    # Turn SIGTERM into the same unwinding as Ctrl-C, so `finally` blocks clean up children.
    raise KeyboardInterrupt


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def find_cli(explicit: str | None) -> str:
    if explicit:
        return explicit
    beside_python = Path(sys.executable).parent / "pesabox"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("pesabox")
    if found is None:
        raise BenchError("the pesabox CLI is not installed (run `make install`)")
    return found


def run_cli(cli: str, args: list[str], env: dict[str, str], timeout_s: float) -> str:
    try:
        done = subprocess.run(
            [cli, *args], env=env, capture_output=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise BenchError(f"`pesabox {' '.join(args)}` took over {timeout_s:.0f}s") from error
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace")[-2000:]
        raise BenchError(f"`pesabox {' '.join(args)}` exited {done.returncode}:\n{tail}")
    return done.stdout.decode()


def http_get(
    url: str, timeout_s: float = 2.0, context: ssl.SSLContext | None = None
) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s, context=context) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


# ---------------------------------------------------------------------------------------------
# Setup


def last_json_object(text: str) -> dict[str, Any]:
    """The last line of `text` that parses as a JSON object (CLIs may log before it)."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            with contextlib.suppress(json.JSONDecodeError):
                found = json.loads(line)
                if isinstance(found, dict):
                    return found
    # Pretty-printed output spans lines; try the whole text from its first brace.
    start = text.find("{")
    if start >= 0:
        with contextlib.suppress(json.JSONDecodeError):
            found = json.loads(text[start:])
            if isinstance(found, dict):
                return found
    raise BenchError(f"no JSON object in CLI output: {text[-500:]!r}")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def copy_sqlite(source: Path, target: Path) -> None:
    # Safe only because nothing has the database open: the CLI processes have exited.
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{source}{suffix}")
        if src.exists():
            shutil.copyfile(src, f"{target}{suffix}")


def prepare_database(
    cli: str, base_env: dict[str, str], workdir: Path, customers: int
) -> dict[str, Any]:
    """Migrate, seed and create an app in a fresh SQLite file; copy it for phases C, D and E.

    Phases C, D and E get their own copies so that phase B's thousands of still-pending
    prompts (the customer there never answers) can neither expire into their callbacks nor
    hold locks; D's copy has C2B validation switched on for its shortcode, and E's has the
    initiator certificates made, with the SecurityCredential phase E sends.
    """
    db_accept = workdir / "accept.db"
    env = {**base_env, "PESABOX_DATABASE_URL": sqlite_url(db_accept)}
    timings: dict[str, float] = {}

    started = time.monotonic()
    run_cli(cli, ["migrate"], env, timeout_s=120)
    timings["migrate_s"] = round(time.monotonic() - started, 3)

    started = time.monotonic()
    run_cli(cli, ["seed", "--customers", str(customers)], env, timeout_s=600)
    timings["seed_s"] = round(time.monotonic() - started, 3)

    started = time.monotonic()
    app = last_json_object(run_cli(cli, ["apps", "create", "--name", "bench", "--json"], env, 60))
    timings["apps_create_s"] = round(time.monotonic() - started, 3)
    for key in ("consumer_key", "consumer_secret"):
        if not app.get(key):
            raise BenchError(f"`apps create --json` gave no {key}: {app}")

    db_e2e = workdir / "e2e.db"
    copy_sqlite(db_accept, db_e2e)
    db_c2b = workdir / "c2b.db"
    copy_sqlite(db_accept, db_c2b)
    # Before the server starts, so that no worker has the shortcode cached without it.
    run_cli(
        cli,
        ["shortcodes", "validation", C2B_SHORTCODE, "on", "--database-url", sqlite_url(db_c2b)],
        env,
        timeout_s=60,
    )
    db_b2c = workdir / "b2c.db"
    copy_sqlite(db_accept, db_b2c)
    # Makes the certificates in E's copy on first use (before its server starts), then
    # encrypts the initiator's password with the sandbox one, as `make run` tells users to.
    credential = (
        run_cli(
            cli,
            [
                "credential",
                "encrypt",
                "--password",
                B2C_INITIATOR_PASSWORD,
                "--environment",
                "sandbox",
                "--database-url",
                sqlite_url(db_b2c),
            ],
            env,
            timeout_s=120,
        )
        .strip()
        .splitlines()
    )
    if not credential or len(credential[-1]) < 300:
        raise BenchError(f"`pesabox credential encrypt` gave no credential: {credential!r}")
    # Phase F's runs, recording off and on in turn, each from its own clean copy.
    recording_dbs: dict[str, Path] = {}
    for run in RECORDING_RUNS:
        recording_dbs[run] = workdir / f"recording-{run}.db"
        copy_sqlite(db_accept, recording_dbs[run])
    return {
        "accept_db": db_accept,
        "e2e_db": db_e2e,
        "c2b_db": db_c2b,
        "b2c_db": db_b2c,
        "recording_dbs": recording_dbs,
        "security_credential": credential[-1],
        "consumer_key": app["consumer_key"],
        "consumer_secret": app["consumer_secret"],
        "timings": timings,
        "customers": customers,
        "db_bytes": db_accept.stat().st_size,
    }


def prepare_tls_databases(
    env: dict[str, str], workdir: Path, accept_db: Path, payees: int
) -> dict[str, Any]:
    """Phase G's databases: for B2C a platform database (a copy of the clean one) with the
    CA and the business's client certificate, and production's beside it with the business
    (bench/production_fixture.py); for STK a copy of that platform database, so both
    listeners present certificates of the one CA in the trust bundle."""
    platform_db = workdir / "tls-platform.db"
    copy_sqlite(accept_db, platform_db)
    production_db = workdir / "tls-production.db"
    argv = [
        sys.executable, "-m", "bench.production_fixture",
        "--platform-db", sqlite_url(platform_db),
        "--production-db", sqlite_url(production_db),
        "--customers", str(payees),
        "--out-dir", str(workdir / "tls"),
    ]  # fmt: skip
    try:
        done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, timeout=300)
    except subprocess.TimeoutExpired as error:
        raise BenchError("bench.production_fixture took over 300s") from error
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace")[-2000:]
        raise BenchError(f"bench.production_fixture exited {done.returncode}:\n{tail}")
    stk_db = workdir / "tls-stk.db"
    copy_sqlite(platform_db, stk_db)
    return {
        "platform_db": platform_db,
        "production_db": production_db,
        "stk_db": stk_db,
        "payees": payees,
        "business": last_json_object(done.stdout.decode()),
    }


def start_receiver(
    children: Children, env: dict[str, str], log: IO[bytes], extra_args: tuple[str, ...] = ()
) -> tuple[int, str]:
    """Start bench.receiver; returns (pid, base URL) once it listens."""
    pid, ports = start_receiver_ports(children, env, log, extra_args)
    return pid, f"http://{HOST}:{ports[0]}"


def start_receiver_ports(
    children: Children, env: dict[str, str], log: IO[bytes], extra_args: tuple[str, ...] = ()
) -> tuple[int, list[int]]:
    """Start bench.receiver; returns (pid, its ports: http, then https if asked for)."""
    proc = children.start(
        [sys.executable, "-m", "bench.receiver", "--host", HOST, "--port", "0", *extra_args],
        env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
    )
    assert proc.stdout is not None
    # Wait with select so a receiver that hangs without printing cannot hang us.
    deadline = time.monotonic() + 20
    line = b""
    while time.monotonic() < deadline and proc.poll() is None:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            break
    if not line.startswith(b"READY "):
        raise BenchError(f"callback receiver did not start (got {line!r})")
    return proc.pid, [int(port) for port in line.split()[1:]]


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    started_s: float
    idle_cpu_share: float = 0.0


def idle_cpu_share(pid: int, settle_s: float = 8.0, threshold: float = 0.15) -> float:
    """Share of one CPU the server tree burns with no requests: its background loops' cost.

    Sampled a second at a time until it drops under `threshold` (or `settle_s` passes): the
    first worker answers /healthz while the others may still be importing, and load must not
    start before they are all up. The last sample is what the background loops cost.
    """
    deadline = time.monotonic() + settle_s
    while True:
        before = tree_cpu_s(pid)
        time.sleep(1.0)
        share = tree_cpu_s(pid) - before
        if share < threshold or time.monotonic() >= deadline:
            return round(share, 3)


def start_server(
    children: Children,
    cli: str,
    env: dict[str, str],
    workers: int,
    log_path: Path,
    timeout_s: float = 60.0,
    health_url: str | None = None,
    health_tls: ssl.SSLContext | None = None,
) -> Server:
    """Start `pesabox serve` and wait until /healthz answers: on the sandbox's plain http
    port, or at `health_url` (production has no plain listener), verified with `health_tls`."""
    port = free_port()
    started = time.monotonic()
    with open(log_path, "wb") as log:
        proc = children.start(
            [cli, "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)],
            env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://{HOST}:{port}"
    health = health_url or f"{base}/healthz"
    deadline = started + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"server exited with {proc.returncode}:\n{log_tail(log_path)}")
        with contextlib.suppress(OSError):
            status, _ = http_get(health, timeout_s=1.0, context=health_tls)
            if status == 200:
                return Server(proc, base, log_path, round(time.monotonic() - started, 3))
        time.sleep(0.1)
    raise BenchError(f"server not healthy after {timeout_s:.0f}s:\n{log_tail(log_path)}")


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def log_problems(path: Path, limit: int = 10) -> dict[str, Any]:
    """Error-looking lines in a server log, so the report can flag server-side trouble."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return {"count": 0, "samples": []}
    markers = ("Traceback", "ERROR", "Error", "CRITICAL", "Exception", "database is locked")
    hits = [line for line in text.splitlines() if any(m in line for m in markers)]
    return {"count": len(hits), "samples": hits[:limit], "log_bytes": len(text)}


def run_loadgen(
    children: Children, env: dict[str, str], job: dict[str, Any], timeout_s: float, log: IO[bytes]
) -> dict[str, Any]:
    proc = children.start(
        [sys.executable, "-m", "bench.loadgen"],
        env,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
    )
    try:
        out, _ = proc.communicate(json.dumps(job).encode(), timeout=timeout_s)
    except subprocess.TimeoutExpired as error:
        children.stop(proc, grace_s=1.0)
        raise BenchError(f"load generator ({job['mode']}) ran over {timeout_s:.0f}s") from error
    except BaseException:
        # Interrupted: stop the load first, so the server is not shut down under load.
        children.stop(proc, grace_s=0.5)
        raise
    children.stop(proc, grace_s=1.0)
    log.flush()
    if proc.returncode != 0:
        tail = log_tail(Path(log.name), 15)
        raise BenchError(f"load generator ({job['mode']}) exited {proc.returncode}:\n{tail}")
    return last_json_object(out.decode())


# ---------------------------------------------------------------------------------------------
# Phases


@dataclass
class Context:
    cli: str
    children: Children
    env: dict[str, str]
    workdir: Path
    workers: int
    profile: Profile
    db: dict[str, Any]
    receiver_pid: int
    receiver_url: str
    log: IO[bytes]
    client: str
    wait_idle_s: float
    open_rate: float | None
    quiet: dict[str, dict[str, float]]


def wait_for_quiet(max_wait_s: float, threshold: float = 0.15) -> dict[str, float]:
    """Wait, at most `max_wait_s`, until the machine is mostly idle; report what was seen.

    Called before each phase's server starts, when none of our processes is busy, so any
    CPU in use belongs to someone else (a test suite, a build) and would skew the numbers.
    """
    cpus = os.cpu_count() or 1
    started = time.monotonic()
    share = 0.0
    while True:
        before = machine_busy_s()
        time.sleep(0.5)
        share = (machine_busy_s() - before) / (0.5 * cpus)
        if share < threshold or time.monotonic() - started >= max_wait_s:
            break
    return {"waited_s": round(time.monotonic() - started, 1), "busy_share": round(share, 3)}


@contextlib.contextmanager
def server_for(
    ctx: Context,
    phase: str,
    db_path: Path,
    delay_s: float,
    extra_env: dict[str, str] | None = None,
    **start: Any,
) -> Iterator[Server]:
    ctx.quiet[phase] = wait_for_quiet(ctx.wait_idle_s)
    env = {
        **ctx.env,
        "PESABOX_DATABASE_URL": sqlite_url(db_path),
        "PESABOX_CUSTOMER_DELAY_S": str(delay_s),
        **(extra_env or {}),
    }
    server = start_server(
        ctx.children, ctx.cli, env, ctx.workers, ctx.workdir / f"{phase}.log", **start
    )
    server.idle_cpu_share = idle_cpu_share(server.proc.pid)
    try:
        yield server
    finally:
        ctx.children.stop(server.proc)


def phase_healthz(ctx: Context) -> dict[str, Any]:
    p = ctx.profile
    with server_for(ctx, "phase-a", ctx.db["accept_db"], delay_s=3600) as server:
        job = {
            "mode": "healthz",
            "client": ctx.client,
            "base_url": server.base_url,
            "server_pid": server.proc.pid,
            "concurrency": p.healthz_concurrency,
            "warmup_s": p.healthz_warmup_s,
            "duration_s": p.healthz_duration_s,
        }
        result = run_loadgen(
            ctx.children, ctx.env, job, p.healthz_warmup_s + p.healthz_duration_s + 60, ctx.log
        )
        result["server_start_s"] = server.started_s
        result["server_idle_cpu_share"] = server.idle_cpu_share
    result["server_log"] = log_problems(server.log_path)
    return result


def phase_accept(ctx: Context) -> dict[str, Any]:
    p = ctx.profile
    # The customer "answers" after an hour: every push stays pending, nothing is paid,
    # so this measures only validating, locking, persisting and answering a push.
    with server_for(ctx, "phase-b", ctx.db["accept_db"], delay_s=3600) as server:
        job = {
            "mode": "accept",
            "client": ctx.client,
            "base_url": server.base_url,
            "server_pid": server.proc.pid,
            "callback_url": f"{ctx.receiver_url}/cb/accept",
            "consumer_key": ctx.db["consumer_key"],
            "consumer_secret": ctx.db["consumer_secret"],
            "concurrency": p.push_concurrency,
            "warmup_s": p.accept_warmup_s,
            "duration_s": p.accept_duration_s,
            "closed_share": p.accept_closed_share,
            "open_fraction": p.open_fraction,
            "open_duration_s": p.open_duration_s,
            "max_outstanding": p.open_max_outstanding,
            "open_connections": p.open_connections,
            "open_rate_per_s": ctx.open_rate,
            # Phase C's pool is the top of the range, in its own database copy; phase B
            # may use everything below it.
            "msisdn_first": 0,
            "msisdn_stop": ctx.db["customers"] - p.e2e_pool,
        }
        timeout = p.accept_warmup_s + p.accept_duration_s + p.open_duration_s + 120
        result = run_loadgen(ctx.children, ctx.env, job, timeout, ctx.log)
        result["server_start_s"] = server.started_s
        result["server_idle_cpu_share"] = server.idle_cpu_share
    result["server_log"] = log_problems(server.log_path)
    return result


def e2e_job(ctx: Context, server: Server) -> dict[str, Any]:
    """Phase C's load generator job (phase G sends the same over https)."""
    p = ctx.profile
    return {
        "mode": "e2e",
        "client": ctx.client,
        "base_url": server.base_url,
        "server_pid": server.proc.pid,
        "receiver_pid": ctx.receiver_pid,
        "receiver_url": ctx.receiver_url,
        "bucket": "e2e",
        "callback_url": f"{ctx.receiver_url}/cb/e2e",
        "consumer_key": ctx.db["consumer_key"],
        "consumer_secret": ctx.db["consumer_secret"],
        "concurrency": p.e2e_concurrency,
        "warmup_s": p.e2e_warmup_s,
        "duration_s": p.e2e_duration_s,
        "drain_s": p.e2e_drain_s,
        "settle_s": p.e2e_settle_s,
        "poll_interval_s": p.e2e_poll_interval_s,
        "msisdn_first": ctx.db["customers"] - p.e2e_pool,
        "msisdn_stop": ctx.db["customers"],
    }


def phase_e2e(ctx: Context) -> dict[str, Any]:
    p = ctx.profile
    with server_for(ctx, "phase-c", ctx.db["e2e_db"], delay_s=0) as server:
        job = e2e_job(ctx, server)
        timeout = p.e2e_warmup_s + p.e2e_duration_s + p.e2e_drain_s + p.e2e_settle_s + 120
        result = run_loadgen(ctx.children, ctx.env, job, timeout, ctx.log)
        result["server_start_s"] = server.started_s
        result["server_idle_cpu_share"] = server.idle_cpu_share
    result["server_log"] = log_problems(server.log_path)
    return result


def phase_c2b(ctx: Context) -> dict[str, Any]:
    p = ctx.profile
    with server_for(ctx, "phase-d", ctx.db["c2b_db"], delay_s=0) as server:
        job = {
            "mode": "c2b",
            "client": ctx.client,
            "base_url": server.base_url,
            "server_pid": server.proc.pid,
            "receiver_pid": ctx.receiver_pid,
            "receiver_url": ctx.receiver_url,
            "bucket": "pay",
            "consumer_key": ctx.db["consumer_key"],
            "consumer_secret": ctx.db["consumer_secret"],
            "concurrency": p.c2b_concurrency,
            "max_in_flight": p.c2b_max_in_flight,
            "warmup_s": p.c2b_warmup_s,
            "duration_s": p.c2b_duration_s,
            "drain_s": p.e2e_drain_s,
            "settle_s": p.e2e_settle_s,
            "poll_interval_s": p.e2e_poll_interval_s,
            # Its own database copy: the same MSISDNs as phase C, starting from full wallets.
            "msisdn_first": ctx.db["customers"] - p.e2e_pool,
            "msisdn_stop": ctx.db["customers"],
        }
        timeout = p.c2b_warmup_s + p.c2b_duration_s + p.e2e_drain_s + p.e2e_settle_s + 120
        result = run_loadgen(ctx.children, ctx.env, job, timeout, ctx.log)
        result["server_start_s"] = server.started_s
        result["server_idle_cpu_share"] = server.idle_cpu_share
    result["server_log"] = log_problems(server.log_path)
    return result


def b2c_job(ctx: Context, server: Server) -> dict[str, Any]:
    """Phase E's load generator job (phase G sends the same over mutual TLS)."""
    p = ctx.profile
    return {
        "mode": "b2c",
        "client": ctx.client,
        "base_url": server.base_url,
        "server_pid": server.proc.pid,
        "receiver_pid": ctx.receiver_pid,
        "receiver_url": ctx.receiver_url,
        "bucket": "payout",
        "consumer_key": ctx.db["consumer_key"],
        "consumer_secret": ctx.db["consumer_secret"],
        "initiator": B2C_INITIATOR,
        "security_credential": ctx.db["security_credential"],
        "concurrency": p.b2c_concurrency,
        "max_in_flight": p.b2c_max_in_flight,
        "warmup_s": p.b2c_warmup_s,
        "duration_s": p.b2c_duration_s,
        "drain_s": p.e2e_drain_s,
        "settle_s": p.e2e_settle_s,
        "poll_interval_s": p.e2e_poll_interval_s,
        # Its own database copy: the same customers as C and D, paid from 600996.
        "msisdn_first": ctx.db["customers"] - p.e2e_pool,
        "msisdn_stop": ctx.db["customers"],
    }


def phase_b2c(ctx: Context) -> dict[str, Any]:
    p = ctx.profile
    with server_for(ctx, "phase-e", ctx.db["b2c_db"], delay_s=0) as server:
        job = b2c_job(ctx, server)
        timeout = p.b2c_warmup_s + p.b2c_duration_s + p.e2e_drain_s + p.e2e_settle_s + 120
        result = run_loadgen(ctx.children, ctx.env, job, timeout, ctx.log)
        result["server_start_s"] = server.started_s
        result["server_idle_cpu_share"] = server.idle_cpu_share
    result["server_log"] = log_problems(server.log_path)
    return result


def phase_tls_stk(ctx: Context) -> dict[str, Any]:
    """Phase G's first half: C over the sandbox's https listener."""
    p = ctx.profile
    tls = ctx.db["tls"]
    https_port = free_port()
    with server_for(
        ctx, "phase-g-stk", tls["stk_db"], delay_s=0,
        extra_env=tls_phase.stk_server_env(https_port),
    ) as server:  # fmt: skip
        job = tls_phase.stk_job(
            e2e_job(ctx, server),
            f"https://{HOST}:{https_port}",
            tls["business"]["trust_bundle_file"],
        )
        timeout = p.e2e_warmup_s + p.e2e_duration_s + p.e2e_drain_s + p.e2e_settle_s + 120
        stk = run_loadgen(ctx.children, ctx.env, job, timeout, ctx.log)
        stk["server_start_s"] = server.started_s
        stk["server_idle_cpu_share"] = server.idle_cpu_share
    stk["server_log"] = log_problems(server.log_path)
    return stk


def phase_tls_b2c(ctx: Context) -> dict[str, Any]:
    """Phase G's second half: E from a production business over mutual TLS."""
    p = ctx.profile
    tls = ctx.db["tls"]
    business = tls["business"]
    # Production's Results go to an https receiver serving the organisation's certificate.
    receiver_pid, ports = start_receiver_ports(
        ctx.children, ctx.env, ctx.log,
        ("--tls-cert", business["cert_file"], "--tls-key", business["key_file"]),
    )  # fmt: skip
    tls_port, mtls_port = free_port(), free_port()
    trust = ssl.create_default_context(cafile=business["trust_bundle_file"])
    try:
        with server_for(
            ctx, "phase-g-b2c", tls["platform_db"], delay_s=0,
            extra_env=tls_phase.b2c_server_env(
                sqlite_url(tls["production_db"]), tls_port, mtls_port
            ),
            health_url=f"https://{HOST}:{tls_port}/healthz",
            health_tls=trust,
        ) as server:  # fmt: skip
            job = tls_phase.b2c_job(
                b2c_job(ctx, server),
                base_url=f"https://{HOST}:{mtls_port}",
                business=business,
                receiver_pid=receiver_pid,
                receiver_url=f"http://{HOST}:{ports[0]}",
                receiver_https_url=f"https://{HOST}:{ports[1]}",
                payees=tls["payees"],
            )
            timeout = p.b2c_warmup_s + p.b2c_duration_s + p.e2e_drain_s + p.e2e_settle_s + 120
            mtls = run_loadgen(ctx.children, ctx.env, job, timeout, ctx.log)
            mtls["server_start_s"] = server.started_s
            mtls["server_idle_cpu_share"] = server.idle_cpu_share
        mtls["server_log"] = log_problems(server.log_path)
    finally:
        receiver = next((proc for proc in ctx.children.procs if proc.pid == receiver_pid), None)
        if receiver is not None:
            ctx.children.stop(receiver)
    return mtls


# ---------------------------------------------------------------------------------------------
# Report


def phase_recording(ctx: Context) -> dict[str, Any]:
    """Phase B's closed loop again, with the inspector's request recording off and on."""
    p = ctx.profile
    runs: dict[str, Any] = {}
    for run in RECORDING_RUNS:
        record = "true" if run.startswith("on") else "false"
        with server_for(
            ctx,
            f"phase-f-{run}",
            ctx.db["recording_dbs"][run],
            delay_s=3600,
            extra_env={"PESABOX_INSPECTOR_RECORD": record},
        ) as server:
            job = {
                "mode": "accept",
                "client": ctx.client,
                "base_url": server.base_url,
                "server_pid": server.proc.pid,
                "callback_url": f"{ctx.receiver_url}/cb/accept",
                "consumer_key": ctx.db["consumer_key"],
                "consumer_secret": ctx.db["consumer_secret"],
                "concurrency": p.push_concurrency,
                "warmup_s": p.accept_warmup_s,
                "duration_s": p.accept_duration_s,
                # Closed loop only: every MSISDN of phase B's range, no open loop after it.
                "closed_share": 1.0,
                "open_fraction": 0.0,
                "open_duration_s": 0.0,
                "max_outstanding": p.open_max_outstanding,
                "open_connections": p.open_connections,
                "msisdn_first": 0,
                "msisdn_stop": ctx.db["customers"] - p.e2e_pool,
            }
            timeout = p.accept_warmup_s + p.accept_duration_s + 120
            runs[run] = run_loadgen(ctx.children, ctx.env, job, timeout, ctx.log)["closed"]
    return {"runs": runs}


def recording_figures(recording: dict[str, Any], healthz: float) -> dict[str, Any]:
    """Pushes/s with recording off and on (mean of each side's runs) and what it costs."""
    runs = recording["runs"]

    def mean(side: str, key: str) -> float | None:
        values = [r[key] for name, r in runs.items() if name.startswith(side)]
        values = [v for v in values if v is not None]
        return round(sum(values) / len(values), 1) if values else None

    def cpu_us(side: str) -> float | None:
        picked = [r for name, r in runs.items() if name.startswith(side)]
        cpu = sum(r["cpu_s"].get("server") or 0.0 for r in picked)
        return per_request_us(cpu, sum(r["ok"] for r in picked))

    off, on = mean("off", "rate_per_s"), mean("on", "rate_per_s")
    return {
        "pushes_per_s_recording_off": off,
        "pushes_per_s_recording_on": on,
        "pushes_per_healthz_recording_off": round(off / healthz, 3) if off and healthz else None,
        "pushes_per_healthz_recording_on": round(on / healthz, 3) if on and healthz else None,
        "recording_cost_share": round(1 - on / off, 3) if on and off else None,
        "server_cpu_us_per_push_recording_off": cpu_us("off"),
        "server_cpu_us_per_push_recording_on": cpu_us("on"),
    }


def per_request_us(cpu_s: float | None, requests: float) -> float | None:
    if cpu_s is None or requests <= 0:
        return None
    return round(cpu_s / requests * 1e6, 1)


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers, ratios and target verdicts."""
    a, b, c, d = results["healthz"], results["accept"], results["e2e"], results["c2b"]
    e = results["b2c"]
    healthz = a["rate_per_s"]
    pushes = b["closed"]["rate_per_s"]
    opened = b["open"]
    p99_half = (opened.get("latency_from_schedule") or {}).get("p99_ms")
    completed = c["completed_per_s"]
    c2b = d["completed_per_s"]
    c2b_clean = (
        d["lost"] == 0
        and d["confirmation_duplicates"] == 0
        and d["validation_duplicates"] == 0
        and d["unknown_confirmations"] == 0
        # Every confirmed payment was validated first: validation really was on.
        and d["validations_unique"] == d["confirmations_unique"] == d["accepted"]
    )
    b2c = e["completed_per_s"]
    b2c_clean = tls_phase.b2c_clean(e)
    figures = {
        "healthz_per_s": healthz,
        "accepted_pushes_per_s": pushes,
        "accept_p50_ms_closed": b["closed"]["latency"]["p50_ms"],
        "accept_p99_ms_closed": b["closed"]["latency"]["p99_ms"],
        "half_load_rate_per_s": opened.get("achieved_rate_per_s"),
        "accept_p50_ms_at_half_load": (opened.get("latency_from_schedule") or {}).get("p50_ms"),
        "accept_p99_ms_at_half_load": p99_half,
        "completed_payments_per_s": completed,
        "e2e_accepted": c["accepted"],
        "e2e_callbacks_unique": c["callbacks_unique"],
        "e2e_lost": c["lost"],
        "e2e_duplicates": c["duplicates"],
        "c2b_payments_per_s": c2b,
        "c2b_accepted": d["accepted"],
        "c2b_validations_unique": d["validations_unique"],
        "c2b_confirmations_unique": d["confirmations_unique"],
        "c2b_lost": d["lost"],
        "c2b_duplicates": d["confirmation_duplicates"] + d["validation_duplicates"],
        "c2b_per_e2e": round(c2b / completed, 3) if completed else None,
        "c2b_per_healthz": round(c2b / healthz, 3) if healthz else None,
        "b2c_payouts_per_s": b2c,
        "b2c_accepted": e["accepted"],
        "b2c_results_unique": e["results_unique"],
        "b2c_lost": e["lost"],
        "b2c_duplicates": e["duplicates"],
        "b2c_per_e2e": round(b2c / completed, 3) if completed else None,
        "b2c_per_healthz": round(b2c / healthz, 3) if healthz else None,
        "pushes_per_healthz": round(pushes / healthz, 3) if healthz else None,
        "completed_per_healthz": round(completed / healthz, 3) if healthz else None,
        "server_cpu_us_per_healthz": per_request_us(a["cpu_s"].get("server"), a["ok"]),
        "server_cpu_us_per_push": per_request_us(
            b["closed"]["cpu_s"].get("server"), b["closed"]["ok"]
        ),
        "server_cpu_us_per_payment": per_request_us(
            c["cpu_s"].get("server"), c["completed_in_window"]
        ),
        "server_cpu_us_per_c2b_payment": per_request_us(
            d["cpu_s"].get("server"), d["completed_in_window"]
        ),
        "server_cpu_us_per_b2c_payout": per_request_us(
            e["cpu_s"].get("server"), e["completed_in_window"]
        ),
        **recording_figures(results["recording"], healthz),
        **tls_phase.tls_figures(c, e, results["tls"]),
    }
    verdicts = {
        "accepted_pushes_per_s": pushes >= TARGETS["accepted_pushes_per_s"],
        "completed_payments_per_s": completed >= TARGETS["completed_payments_per_s"]
        and c["lost"] == 0
        and c["duplicates"] == 0,
        "p99_accept_ms_at_half_load": p99_half is not None
        and p99_half <= TARGETS["p99_accept_ms_at_half_load"],
        "pushes_per_healthz": figures["pushes_per_healthz"] is not None
        and figures["pushes_per_healthz"] >= TARGETS["pushes_per_healthz"],
        "c2b_payments_per_s": c2b >= TARGETS["c2b_payments_per_s"] and c2b_clean,
        "c2b_per_e2e": figures["c2b_per_e2e"] is not None
        and figures["c2b_per_e2e"] >= TARGETS["c2b_per_e2e"],
        "b2c_payouts_per_s": b2c >= TARGETS["b2c_payouts_per_s"] and b2c_clean,
        "b2c_per_e2e": figures["b2c_per_e2e"] is not None
        and figures["b2c_per_e2e"] >= TARGETS["b2c_per_e2e"],
        **tls_phase.tls_verdicts(figures, results["tls"]),
    }
    return {"figures": figures, "targets": TARGETS, "pass": verdicts}


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def other_share(cpu: dict[str, float], cpus: int) -> float | None:
    """Share of the machine that processes other than ours used during a window."""
    wall = cpu.get("wall")
    if not wall or "other" not in cpu:
        return None
    return cpu["other"] / (wall * cpus)


def _row(
    label: str, throughput: str, latency: dict[str, Any], cpu: dict[str, float], ops: float
) -> tuple[str, ...]:
    share = other_share(cpu, os.cpu_count() or 1)
    return (
        label,
        throughput,
        _fmt(latency.get("p50_ms"), 2),
        _fmt(latency.get("p99_ms"), 2),
        _fmt(per_request_us(cpu.get("server"), ops), 0),
        _fmt(per_request_us(cpu.get("loadgen"), ops), 0),
        "-" if share is None else f"{share:.0%}",
    )


def _open_label(report: dict[str, Any]) -> str:
    if report.get("open_rate"):
        return f"{report['open_rate']:g}/s"
    return f"{report['profile']['open_fraction']:.0%}"


def _e2e_row(c: dict[str, Any], label: str = "C end-to-end") -> tuple[str, ...]:
    return _row(
        f"{label} c={c['concurrency']} pool={c['pool']}",
        f"{_fmt(c['completed_per_s'])} paid/s",
        c["e2e_latency"],
        c["cpu_s"],
        c["completed_in_window"],
    )


def _b2c_row(e: dict[str, Any], label: str = "E B2C payouts") -> tuple[str, ...]:
    return _row(
        f"{label} c={e['concurrency']} in-flight<={e['max_in_flight']}",
        f"{_fmt(e['completed_per_s'])} paid/s",
        e["e2e_latency"],
        e["cpu_s"],
        e["completed_in_window"],
    )


def _tls_rows(tls: dict[str, Any]) -> list[tuple[str, ...]]:
    return [
        _e2e_row(tls["stk_https"], "G STK https"),
        _b2c_row(tls["b2c_mtls"], "G B2C mTLS"),
    ]


def _print_table(report: dict[str, Any], rows: list[tuple[str, ...]]) -> None:
    header = ("phase", "throughput", "p50 ms", "p99 ms", "srv µs/op", "gen µs/op", "other")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest])

    print()
    print(
        f"pesabox benchmark ({report['mode']}, workers={report['workers']}, "
        f"{report['environment']['cpus']} CPUs, SQLite)"
    )
    print(line(header))
    print(line(tuple("-" * w for w in widths)))
    for row in rows:
        print(line(row))
    print(
        "  srv/gen µs/op: CPU of the server tree / load generator per request (C, D, E, G: per "
        "payment);"
        "\n  other: share of the machine used by unrelated processes during the window."
    )
    noisy = [row[0] for row in rows if row[-1].endswith("%") and float(row[-1][:-1]) > 10]
    if noisy:
        print(f"  WARNING: other processes were busy during {', '.join(noisy)}; rerun when idle.")
    print()


def _tls_checks(f: dict[str, Any], verdict: dict[str, bool]) -> list[tuple[str, str, str, bool]]:
    return [
        (
            "STK https / plain (G / C)",
            f"{_fmt(f['stk_https_per_plain'], 3)} ({f['stk_https_lost']} lost, "
            f"{f['stk_https_duplicates']} dup)",
            ">= 0.7",
            verdict["stk_https_per_plain"],
        ),
        (
            "B2C mTLS / plain (G / E)",
            f"{_fmt(f['b2c_mtls_per_plain'], 3)} ({f['b2c_mtls_lost']} lost, "
            f"{f['b2c_mtls_duplicates']} dup)",
            ">= 0.7",
            verdict["b2c_mtls_per_plain"],
        ),
    ]


def _print_checks(checks: list[tuple[str, str, str, bool]]) -> None:
    name_w = max(len(c[0]) for c in checks)
    value_w = max(len(c[1]) for c in checks)
    for name, value, target, ok in checks:
        print(
            f"target  {name.ljust(name_w)}  {value.rjust(value_w)}  {target:>9}  "
            f"{'PASS' if ok else 'MISS'}"
        )


def _tls_ratio_line(f: dict[str, Any]) -> str:
    return (
        f"G over TLS: STK https {_fmt(f['stk_https_payments_per_s'])} paid/s, "
        f"https/plain = {_fmt(f['stk_https_per_plain'], 3)}; B2C mTLS "
        f"{_fmt(f['b2c_mtls_payouts_per_s'])} paid/s, mTLS/plain = "
        f"{_fmt(f['b2c_mtls_per_plain'], 3)};\n            server µs a payment plain "
        f"{_fmt(f['server_cpu_us_per_plain_payment'])}, https "
        f"{_fmt(f['server_cpu_us_per_https_payment'])}; a payout plain "
        f"{_fmt(f['server_cpu_us_per_plain_payout'])}, mTLS "
        f"{_fmt(f['server_cpu_us_per_mtls_payout'])}"
    )


def print_tls_report(report: dict[str, Any]) -> None:
    """`--tls-only`: C, E and G, and G's two ratios."""
    r = report["results"]
    rows = [_e2e_row(r["e2e"]), _b2c_row(r["b2c"]), *_tls_rows(r["tls"])]
    _print_table(report, rows)
    for detail in tls_phase.detail_lines(r["tls"]):
        print(detail)
    f = report["summary"]["figures"]
    print()
    print(_tls_ratio_line(f))
    print()
    _print_checks(_tls_checks(f, report["summary"]["pass"]))


def print_report(report: dict[str, Any]) -> None:
    r = report["results"]
    a, b, c, d, e = r["healthz"], r["accept"], r["e2e"], r["c2b"], r["b2c"]
    s = report["summary"]
    f = s["figures"]
    opened = b["open"]
    closed = b["closed"]
    rows = [
        _row(
            f"A healthz closed c={a['concurrency']}",
            f"{_fmt(a['rate_per_s'])} req/s",
            a["latency"],
            a["cpu_s"],
            a["ok"],
        ),
        _row(
            f"B push accept closed c={closed['concurrency']}",
            f"{_fmt(closed['rate_per_s'])} push/s",
            closed["latency"],
            closed["cpu_s"],
            closed["ok"],
        ),
        _row(
            f"B push accept open @{_open_label(report)}",
            f"{_fmt(opened.get('achieved_rate_per_s'))} push/s",
            opened.get("latency_from_schedule") or {},
            opened.get("cpu_s") or {},
            opened.get("ok", 0),
        ),
        _e2e_row(c),
        _row(
            f"D C2B validated c={d['concurrency']} in-flight<={d['max_in_flight']}",
            f"{_fmt(d['completed_per_s'])} paid/s",
            {},
            d["cpu_s"],
            d["completed_in_window"],
        ),
        _b2c_row(e),
        *_tls_rows(r["tls"]),
    ]
    _print_table(report, rows)
    for detail in tls_phase.detail_lines(r["tls"]):
        print(detail)
    print(
        f"C detail: accepted {c['accepted']:,}, callbacks {c['callbacks_unique']:,}, "
        f"lost {c['lost']:,}, duplicated {c['duplicates']:,}, unknown "
        f"{c['unknown_callbacks']:,}, result codes {c['result_codes']}, "
        f"push errors {c['push_errors'] or 'none'}, drain {c['drain_s']}s"
    )
    print(
        "  (C latency is push sent -> callback received; B-open latency is from the "
        "scheduled send time)"
    )
    print(
        f"D detail: accepted {d['accepted']:,}, validations {d['validations_unique']:,} "
        f"(dup {d['validation_duplicates']:,}), confirmations {d['confirmations_unique']:,} "
        f"(dup {d['confirmation_duplicates']:,}), lost {d['lost']:,}, unknown "
        f"{d['unknown_confirmations']:,}, simulate errors {d['simulate_errors'] or 'none'}, "
        f"drain {d['drain_s']}s"
    )
    print(
        f"E detail: accepted {e['accepted']:,}, Results {e['results_unique']:,}, "
        f"lost {e['lost']:,}, duplicated {e['duplicates']:,}, unknown "
        f"{e['unknown_results']:,}, queue timeouts {e['queue_timeouts']:,}, result codes "
        f"{e['result_codes']}, payout errors {e['payout_errors'] or 'none'}, "
        f"drain {e['drain_s']}s"
    )
    print("  (E latency is payout request sent -> Result received)")
    print(
        f"B detail: closed errors {b['closed']['errors'] or 'none'}, open errors "
        f"{opened.get('errors') or 'none'}, open dropped {opened.get('dropped', 0)}, "
        f"MSISDNs used {b['msisdns_used']:,}"
    )
    idle = [
        f"{k} {v.get('server_idle_cpu_share', 0):.0%}"
        for k, v in (("A", a), ("B", b), ("C", c), ("D", d), ("E", e))
    ]
    print(f"Server CPU when idle, before load (share of one core): {', '.join(idle)}")
    setup = report["setup"]
    print(
        f"Setup: seed {setup['customers']:,} customers in {setup['timings']['seed_s']:.1f}s, "
        f"migrate {setup['timings']['migrate_s']:.1f}s, db {setup['db_bytes'] / 1e6:.1f} MB"
    )
    print()
    print(
        f"ratios: pushes/healthz = {_fmt(f['pushes_per_healthz'], 3)}, "
        f"completed/healthz = {_fmt(f['completed_per_healthz'], 3)}, "
        f"C2B/end-to-end = {_fmt(f['c2b_per_e2e'], 3)}, "
        f"C2B/healthz = {_fmt(f['c2b_per_healthz'], 3)},\n        "
        f"B2C/end-to-end = {_fmt(f['b2c_per_e2e'], 3)}, "
        f"B2C/healthz = {_fmt(f['b2c_per_healthz'], 3)}"
    )
    print(
        f"F inspector recording: pushes/s off {_fmt(f['pushes_per_s_recording_off'])}, "
        f"on {_fmt(f['pushes_per_s_recording_on'])}; pushes/healthz off "
        f"{_fmt(f['pushes_per_healthz_recording_off'], 3)}, on "
        f"{_fmt(f['pushes_per_healthz_recording_on'], 3)}; cost "
        f"{_fmt((f['recording_cost_share'] or 0) * 100, 1)}% of push throughput; server "
        f"µs/push off {_fmt(f['server_cpu_us_per_push_recording_off'])}, on "
        f"{_fmt(f['server_cpu_us_per_push_recording_on'])}"
    )
    print(_tls_ratio_line(f))
    print()
    verdict = s["pass"]
    checks = [
        (
            "accepted pushes/s",
            f"{_fmt(f['accepted_pushes_per_s'])}",
            ">= 3,000",
            verdict["accepted_pushes_per_s"],
        ),
        (
            "completed payments/s, 0 lost, 0 dup",
            f"{_fmt(f['completed_payments_per_s'])} ({f['e2e_lost']} lost, "
            f"{f['e2e_duplicates']} dup)",
            ">= 1,600",
            verdict["completed_payments_per_s"],
        ),
        (
            "p99 accept ms at half max load",
            _fmt(f["accept_p99_ms_at_half_load"], 2),
            "<= 50",
            verdict["p99_accept_ms_at_half_load"],
        ),
        (
            "pushes/healthz",
            _fmt(f["pushes_per_healthz"], 3),
            ">= 0.25",
            verdict["pushes_per_healthz"],
        ),
        (
            "C2B validated payments/s, 0 lost, 0 dup",
            f"{_fmt(f['c2b_payments_per_s'])} ({f['c2b_lost']} lost, {f['c2b_duplicates']} dup)",
            ">= 500",
            verdict["c2b_payments_per_s"],
        ),
        (
            "C2B / end-to-end STK",
            _fmt(f["c2b_per_e2e"], 3),
            ">= 0.5",
            verdict["c2b_per_e2e"],
        ),
        (
            "B2C payouts/s, 0 lost, 0 dup",
            f"{_fmt(f['b2c_payouts_per_s'])} ({f['b2c_lost']} lost, {f['b2c_duplicates']} dup)",
            ">= 800",
            verdict["b2c_payouts_per_s"],
        ),
        (
            "B2C / end-to-end STK",
            _fmt(f["b2c_per_e2e"], 3),
            ">= 0.6",
            verdict["b2c_per_e2e"],
        ),
        *_tls_checks(f, verdict),
    ]
    _print_checks(checks)
    phases = (
        ("A", a), ("B", b), ("C", c), ("D", d), ("E", e),
        ("G-STK", r["tls"]["stk_https"]), ("G-B2C", r["tls"]["b2c_mtls"]),
    )  # fmt: skip
    problems = {k: v["server_log"]["count"] for k, v in phases}
    if any(problems.values()):
        print(f"\nserver log lines that look like errors, per phase: {problems}")
        for key, phase in phases:
            for sample in phase["server_log"]["samples"][:3]:
                print(f"  {key}: {sample[:200]}")


def environment() -> dict[str, Any]:
    commit = (
        subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, check=False
        )
        .stdout.decode()
        .strip()
    )
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": os.getloadavg(),
        "git_commit": commit or None,
    }


def write_results(report: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2, default=str)
    out.write_text(text + "\n")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out.parent / f"run-{stamp}.json").write_text(text + "\n")


def keep_logs(workdir: Path) -> None:
    """Copy server and helper logs next to the results, for looking into a bad run."""
    target = RESULTS_DIR / "logs"
    target.mkdir(parents=True, exist_ok=True)
    for log in workdir.glob("*.log"):
        shutil.copyfile(log, target / log.name)


# ---------------------------------------------------------------------------------------------
# Main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="~30 s smoke run")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--customers", type=int, help="funded MSISDNs to seed")
    parser.add_argument("--push-concurrency", type=int, help="closed-loop STK push clients")
    parser.add_argument("--e2e-concurrency", type=int, help="phase C push clients")
    parser.add_argument(
        "--client", choices=("raw", "aiohttp"), default="raw", help="load generator HTTP client"
    )
    parser.add_argument(
        "--open-rate", type=float, help="phase B open-loop rate (default: half the max)"
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        help="seconds to wait for other processes to go quiet before each phase "
        "(default 15, 0 with --quick)",
    )
    parser.add_argument("--pesabox", help="path of the pesabox CLI (default: the venv's)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "latest.json")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (db, logs)")
    parser.add_argument(
        "--tls-only",
        action="store_true",
        help="phases C, E and G only: STK over https and B2C over mutual TLS against plain",
    )
    parser.add_argument(
        "--recording-only",
        action="store_true",
        help="phases A and F only: what the inspector's recording costs (no targets checked)",
    )
    return parser.parse_args(argv)


def choose_profile(args: argparse.Namespace) -> Profile:
    profile = QUICK if args.quick else FULL
    overrides: dict[str, Any] = {}
    if args.customers:
        overrides["customers"] = args.customers
    if args.push_concurrency:
        overrides["push_concurrency"] = args.push_concurrency
    if args.e2e_concurrency:
        overrides["e2e_concurrency"] = args.e2e_concurrency
    profile = Profile(**{**asdict(profile), **overrides})
    if profile.customers > MAX_CUSTOMERS:
        raise BenchError(f"--customers is at most {MAX_CUSTOMERS} (5-digit MSISDN suffix)")
    if profile.customers < profile.e2e_pool * 2:
        raise BenchError(f"--customers must be at least {profile.e2e_pool * 2}")
    return profile


def benchmark(args: argparse.Namespace, children: Children, workdir: Path) -> dict[str, Any]:
    profile = choose_profile(args)
    cli = find_cli(args.pesabox)
    env = {**os.environ, "PESABOX_LOG_LEVEL": "warning", "PYTHONUNBUFFERED": "1"}
    # The sandbox's plain http listener is what is measured; no https listener beside it.
    env["PESABOX_HTTPS_PORT"] = "off"
    # The harness's own modules must import in its children, wherever it is started from.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    started = time.monotonic()
    report: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "workers": args.workers,
        "client": args.client,
        "open_rate": args.open_rate,
        "started_at": datetime.now(UTC).isoformat(),
        "environment": environment(),
        "profile": asdict(profile),
    }

    print(f"setup: migrate + seed {profile.customers:,} customers ...", flush=True)
    db = prepare_database(cli, env, workdir, profile.customers)
    report["setup"] = {
        k: v for k, v in db.items() if k not in ("consumer_secret", "security_credential")
    }
    print(f"setup: seeded in {db['timings']['seed_s']:.1f}s", flush=True)
    if not args.recording_only:
        print("setup: phase G's production business and certificates ...", flush=True)
        db["tls"] = prepare_tls_databases(env, workdir, db["accept_db"], profile.e2e_pool)
        report["setup"]["tls"] = {k: v for k, v in db["tls"].items() if k not in ("business",)} | {
            "organisation_id": db["tls"]["business"]["organisation_id"]
        }

    with open(workdir / "helpers.log", "wb") as log:
        receiver_pid, receiver_url = start_receiver(children, env, log)
        ctx = Context(
            cli,
            children,
            env,
            workdir,
            args.workers,
            profile,
            db,
            receiver_pid,
            receiver_url,
            log,
            args.client,
            args.wait_idle if args.wait_idle is not None else (0.0 if args.quick else 15.0),
            args.open_rate,
            {},
        )
        results: dict[str, Any] = {}
        if args.tls_only:
            return tls_only(ctx, results, report, started)
        print("phase A: healthz ...", flush=True)
        results["healthz"] = phase_healthz(ctx)
        print(f"phase A: {results['healthz']['rate_per_s']:,.0f} req/s", flush=True)
        if args.recording_only:
            return recording_only(ctx, results, report, started)
        print("phase B: STK push accept ...", flush=True)
        results["accept"] = phase_accept(ctx)
        print(f"phase B: {results['accept']['closed']['rate_per_s']:,.0f} push/s", flush=True)
        print("phase C: end to end ...", flush=True)
        results["e2e"] = phase_e2e(ctx)
        print(f"phase C: {results['e2e']['completed_per_s']:,.0f} paid/s", flush=True)
        print("phase D: C2B with validation ...", flush=True)
        results["c2b"] = phase_c2b(ctx)
        print(f"phase D: {results['c2b']['completed_per_s']:,.0f} paid/s", flush=True)
        print("phase E: B2C payouts ...", flush=True)
        results["b2c"] = phase_b2c(ctx)
        print(f"phase E: {results['b2c']['completed_per_s']:,.0f} paid/s", flush=True)
        print("phase F: STK push accept, inspector recording off and on ...", flush=True)
        results["recording"] = phase_recording(ctx)
        rates = {k: round(v["rate_per_s"]) for k, v in results["recording"]["runs"].items()}
        print(f"phase F: push/s {rates}", flush=True)
        run_tls_stk(ctx, results)
        run_tls_b2c(ctx, results)
    report["results"] = results
    report["machine_before_phases"] = ctx.quiet
    report["summary"] = summarise(results)
    report["elapsed_s"] = round(time.monotonic() - started, 1)
    return report


def run_tls_stk(ctx: Context, results: dict[str, Any]) -> None:
    print("phase G: STK end to end over https ...", flush=True)
    stk = results.setdefault("tls", {})["stk_https"] = phase_tls_stk(ctx)
    print(f"phase G: STK https {stk['completed_per_s']:,.0f} paid/s", flush=True)


def run_tls_b2c(ctx: Context, results: dict[str, Any]) -> None:
    print("phase G: B2C payouts over mutual TLS ...", flush=True)
    mtls = results.setdefault("tls", {})["b2c_mtls"] = phase_tls_b2c(ctx)
    print(f"phase G: B2C mTLS {mtls['completed_per_s']:,.0f} paid/s", flush=True)


def tls_only(
    ctx: Context, results: dict[str, Any], report: dict[str, Any], started: float
) -> dict[str, Any]:
    """`--tls-only`: each of phases C and E (plain http) followed at once by its TLS twin
    from phase G, so that each pair meets much the same machine; and G's figures."""
    print("phase C: end to end ...", flush=True)
    results["e2e"] = phase_e2e(ctx)
    print(f"phase C: {results['e2e']['completed_per_s']:,.0f} paid/s", flush=True)
    run_tls_stk(ctx, results)
    print("phase E: B2C payouts ...", flush=True)
    results["b2c"] = phase_b2c(ctx)
    print(f"phase E: {results['b2c']['completed_per_s']:,.0f} paid/s", flush=True)
    run_tls_b2c(ctx, results)
    report["results"] = results
    report["machine_before_phases"] = ctx.quiet
    figures = {
        "completed_payments_per_s": results["e2e"]["completed_per_s"],
        "b2c_payouts_per_s": results["b2c"]["completed_per_s"],
        **tls_phase.tls_figures(results["e2e"], results["b2c"], results["tls"]),
    }
    report["summary"] = {
        "figures": figures,
        "targets": tls_phase.HTTPS_TARGETS,
        "pass": tls_phase.tls_verdicts(figures, results["tls"]),
    }
    report["elapsed_s"] = round(time.monotonic() - started, 1)
    return report


def recording_only(
    ctx: Context, results: dict[str, Any], report: dict[str, Any], started: float
) -> dict[str, Any]:
    """`--recording-only`: phase F after phase A, and only its figures in the summary."""
    print("phase F: STK push accept, inspector recording off and on ...", flush=True)
    results["recording"] = phase_recording(ctx)
    rates = {k: round(v["rate_per_s"]) for k, v in results["recording"]["runs"].items()}
    print(f"phase F: push/s {rates}", flush=True)
    report["results"] = results
    report["machine_before_phases"] = ctx.quiet
    figures = recording_figures(results["recording"], results["healthz"]["rate_per_s"])
    report["summary"] = {"figures": {"healthz_per_s": results["healthz"]["rate_per_s"], **figures}}
    report["elapsed_s"] = round(time.monotonic() - started, 1)
    return report


def print_recording_report(report: dict[str, Any]) -> None:
    f = report["summary"]["figures"]
    for name, run in report["results"]["recording"]["runs"].items():
        cpu = per_request_us(run["cpu_s"].get("server"), run["ok"])
        print(f"F {name}: {_fmt(run['rate_per_s'])} push/s, server µs/push {_fmt(cpu)}")
    print(
        f"F inspector recording: healthz {_fmt(f['healthz_per_s'])} req/s; pushes/s off "
        f"{_fmt(f['pushes_per_s_recording_off'])}, on {_fmt(f['pushes_per_s_recording_on'])}; "
        f"pushes/healthz off {_fmt(f['pushes_per_healthz_recording_off'], 3)}, on "
        f"{_fmt(f['pushes_per_healthz_recording_on'], 3)}; cost "
        f"{_fmt((f['recording_cost_share'] or 0) * 100, 1)}% of push throughput; server "
        f"µs/push off {_fmt(f['server_cpu_us_per_push_recording_off'])}, on "
        f"{_fmt(f['server_cpu_us_per_push_recording_on'])}"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    # Started in the background by a non-interactive shell, SIGINT arrives ignored; put the
    # normal Ctrl-C behaviour back so an interrupt always unwinds and cleans up.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    children = Children()
    workdir = Path(tempfile.mkdtemp(prefix="pesabox-bench-"))
    try:
        report = benchmark(args, children, workdir)
        write_results(report, args.out)
        if args.recording_only:
            print_recording_report(report)
        elif args.tls_only:
            print_tls_report(report)
        else:
            print_report(report)
        print(f"\nresult written to {args.out} ({report['elapsed_s']}s)")
        return 0
    except BenchError as error:
        print(f"\nbenchmark failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; stopping child processes", file=sys.stderr)
        return 130
    finally:
        children.stop_all()
        with contextlib.suppress(OSError):
            keep_logs(workdir)
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
