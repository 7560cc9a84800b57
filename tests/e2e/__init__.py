"""End-to-end helpers: real `pesabox` processes on 127.0.0.1, driven over HTTP and the CLI.

Nothing here imports the server into the test process: the server runs as `python -m pesabox
serve` in a process group of its own, and the CLI commands run as subprocesses, so a test
sees exactly what an integrator (or an operator) sees. Every wait is bounded.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import httpx
from sqlalchemy import Engine

from pesabox.sandbox.fixtures import SANDBOX_PASSKEY, TEST_PIN
from pesabox.storage.db import make_engine

PESABOX = (sys.executable, "-m", "pesabox")
SHORTCODE = "174379"
PASSKEY = SANDBOX_PASSKEY
PIN = TEST_PIN
CUSTOMER = "254708374149"
# Merchants' callback URLs in these tests use this host; the server rewrites it to the
# receiver (PESABOX_CALLBACK_REWRITE), the way `stripe listen --forward-to` works.
SHOP = "https://shop.example"

CLI_TIMEOUT_S = 120.0
SERVER_START_TIMEOUT_S = 30.0
# uvicorn's own graceful shutdown is capped at 10 s (`serve` sets it); allow a little more.
SERVER_STOP_TIMEOUT_S = 15.0
HTTP_TIMEOUT_S = 10.0
_PORT_ATTEMPTS = 3
# uvicorn (>= 0.29) re-raises a captured SIGTERM after its graceful shutdown, so a clean
# stop ends "killed by SIGTERM"; the log line below tells it from a hard kill.
GRACEFUL_EXIT_CODES = (0, -signal.SIGTERM)
SHUTDOWN_COMPLETE = "Application shutdown complete."

# Quick polling and retries, so a test waits milliseconds, not the production defaults.
FAST_SERVER_ENV: Mapping[str, str] = {
    # info: uvicorn's startup and shutdown lines, and every refused request, in the log.
    "PESABOX_LOG_LEVEL": "info",
    "PESABOX_POLL_INTERVAL_S": "0.05",
    "PESABOX_CALLBACK_BACKOFF_BASE_S": "0.05",
    "PESABOX_CALLBACK_BACKOFF_CAP_S": "0.5",
    "PESABOX_CALLBACK_TIMEOUT_S": "5",
    "PESABOX_CUSTOMER_DELAY_S": "0",
    # Any free port for the sandbox's https listener: servers of tests running side by side
    # must not all take 8443.
    "PESABOX_HTTPS_PORT": "0",
}


# --- ports, environment, CLI --------------------------------------------------------------


def free_port() -> int:
    """A loopback port that was free a moment ago (bound to 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pesabox_env(database_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The parent's environment without its PESABOX_* values (a developer's shell must not
    leak into a test), plus the database and `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PESABOX_")}
    env["PESABOX_DATABASE_URL"] = database_url
    env.update(extra or {})
    return env


def run_cli(
    args: Sequence[str], database_url: str, *, timeout_s: float = CLI_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    """Run `pesabox <args>` against `database_url`; the caller checks the exit code."""
    return subprocess.run(
        [*PESABOX, *args],
        env=pesabox_env(database_url),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def run_cli_ok(args: Sequence[str], database_url: str, *, timeout_s: float = CLI_TIMEOUT_S) -> str:
    """Run `pesabox <args>`, insist on exit 0, return stdout."""
    done = run_cli(args, database_url, timeout_s=timeout_s)
    assert done.returncode == 0, (
        f"`pesabox {' '.join(args)}` exited {done.returncode}\n"
        f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    )
    return done.stdout


@dataclass(frozen=True, slots=True)
class Sandbox:
    """A seeded database and the credentials of an app made with `pesabox apps create`."""

    database_url: str
    consumer_key: str
    consumer_secret: str


def prepare_sandbox(database_url: str, *, customers: int = 0, app_name: str = "e2e") -> Sandbox:
    """`pesabox seed` (which also migrates), then `pesabox apps create --json`."""
    seed_args = ["seed"] + (["--customers", str(customers)] if customers else [])
    run_cli_ok(seed_args, database_url)
    created = json.loads(run_cli_ok(["apps", "create", "--name", app_name, "--json"], database_url))
    assert "mpesa_express" in created["products"]
    return Sandbox(database_url, created["consumer_key"], created["consumer_secret"])


@contextlib.contextmanager
def database(url: str) -> Iterator[Engine]:
    """A small engine for a test's own reads of the server's database."""
    engine = make_engine(url, pool_size=2)
    try:
        yield engine
    finally:
        engine.dispose()


def forward_to(base_url: str) -> dict[str, str]:
    """Server settings that forward the merchant's https://shop.example/... callbacks to
    `base_url` (a local receiver), keeping the path."""
    return {"PESABOX_CALLBACK_REWRITE": f"{SHOP}=>{base_url}"}


# --- the server process -------------------------------------------------------------------


class ServerStartError(RuntimeError):
    pass


class PesaboxServer:
    """One `pesabox serve` process (group) on 127.0.0.1 and a free port.

    The process starts in a new session, so `kill` reaches uvicorn and anything it spawns
    (`--workers N` forks children) with one signal, and a test's Ctrl-C does not.
    """

    def __init__(self, sandbox: Sandbox, log_dir: Path, env: Mapping[str, str] | None = None):
        self.sandbox = sandbox
        self._log_dir = log_dir
        self._env = pesabox_env(sandbox.database_url, {**FAST_SERVER_ENV, **(env or {})})
        self._process: subprocess.Popen[bytes] | None = None
        self._starts = 0
        self.port = 0
        self.log_path = log_dir / "server.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the server is not running")
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, *, port: int | None = None, timeout_s: float = SERVER_START_TIMEOUT_S) -> None:
        """Start and wait for /healthz; a lost race for a free port is retried elsewhere."""
        for attempt in range(_PORT_ATTEMPTS):
            self._spawn(port if port is not None and attempt == 0 else free_port())
            try:
                self._wait_healthy(timeout_s)
                return
            except ServerStartError:
                self.close()
                if attempt + 1 == _PORT_ATTEMPTS or "address already in use" not in self.log():
                    raise
        raise AssertionError("unreachable")

    def _spawn(self, port: int) -> None:
        if self.running:
            raise RuntimeError("the server is already running")
        self._starts += 1
        self.port = port
        self.log_path = self._log_dir / f"server-{self._starts}.log"
        args = [*PESABOX, "serve", "--host", "127.0.0.1", "--port", str(port)]
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                args,
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if not self.running:
                    raise ServerStartError(f"pesabox serve exited early:\n{self.log()}")
                try:
                    if client.get(f"{self.base_url}/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass  # not listening yet
                time.sleep(0.05)
        raise ServerStartError(f"/healthz not ready after {timeout_s:g} s:\n{self.log()}")

    def terminate(self, *, timeout_s: float = SERVER_STOP_TIMEOUT_S) -> int:
        """SIGTERM the group and wait; returns the exit code (SIGKILL after `timeout_s`)."""
        process = self._require_process()
        if process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                return process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                process.wait(timeout_s)
                raise
        return process.returncode

    def kill(self) -> None:
        """SIGKILL the whole process group at once: a crash, with no chance to clean up."""
        process = self._require_process()
        if process.poll() is None:
            self._signal_group(signal.SIGKILL)
        process.wait(SERVER_STOP_TIMEOUT_S)

    def close(self) -> None:
        """Teardown: make sure nothing of this server is left running, whatever happened."""
        if self._process is None or self._process.poll() is not None:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.terminate()
        self.kill()

    def log_paths(self) -> list[Path]:
        """One log per start, oldest first (a restarted server keeps the dead one's log)."""
        return sorted(self._log_dir.glob("server-*.log"), key=lambda p: p.stat().st_mtime)

    def log(self, *, tail_chars: int = 6000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail_chars:]
        except FileNotFoundError:
            return "(no log)"

    def _require_process(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            raise RuntimeError("the server was never started")
        return self._process

    def _signal_group(self, signum: signal.Signals) -> None:
        # Only called while the leader is not yet reaped: until then its pid, which is the
        # group id, cannot be reused, so the signal reaches our processes and no others.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._require_process().pid, signum)


class LaunchServer(Protocol):
    """What the `launch_server` fixture returns: start a server with extra settings."""

    def __call__(
        self, sandbox: Sandbox, env: Mapping[str, str] | None = None, *, port: int | None = None
    ) -> PesaboxServer: ...


# --- Daraja requests ----------------------------------------------------------------------


def daraja_timestamp() -> str:
    # Host-local time, as most SDKs send it; the server checks only the format and Password.
    return datetime.now().strftime("%Y%m%d%H%M%S")


def stk_password(timestamp: str, *, shortcode: str = SHORTCODE, passkey: str = PASSKEY) -> str:
    return base64.b64encode(f"{shortcode}{passkey}{timestamp}".encode()).decode()


def push_body(
    *,
    phone: str = CUSTOMER,
    amount: int = 1,
    callback_url: str = f"{SHOP}/cb",
    reference: str = "e2e",
    timestamp: str | None = None,
) -> dict[str, Any]:
    stamp = timestamp or daraja_timestamp()
    return {
        "BusinessShortCode": int(SHORTCODE),
        "Password": stk_password(stamp),
        "Timestamp": stamp,
        "TransactionType": "CustomerPayBillOnline",
        "Amount": amount,
        "PartyA": phone,
        "PartyB": SHORTCODE,
        "PhoneNumber": phone,
        "CallBackURL": callback_url,
        "AccountReference": reference,
        "TransactionDesc": "e2e test",
    }


def query_body(checkout_request_id: str) -> dict[str, Any]:
    stamp = daraja_timestamp()
    return {
        "BusinessShortCode": SHORTCODE,
        "Password": stk_password(stamp),
        "Timestamp": stamp,
        "CheckoutRequestID": checkout_request_id,
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def fetch_token(client: httpx.Client, base_url: str, sandbox: Sandbox) -> str:
    response = client.get(
        f"{base_url}/oauth/v1/generate",
        params={"grant_type": "client_credentials"},
        auth=(sandbox.consumer_key, sandbox.consumer_secret),
    )
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert isinstance(token, str) and token
    return token


def callback_items(payload: Mapping[str, Any]) -> dict[str, Any]:
    """CallbackMetadata items by Name (Daraja's order is not a contract)."""
    metadata = payload["Body"]["stkCallback"].get("CallbackMetadata") or {}
    return {item["Name"]: item.get("Value") for item in metadata.get("Item", [])}
