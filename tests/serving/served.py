"""A real `pesabox serve` process serving both environments on free ports, and TLS clients
for it (the platform CA trusted, a client certificate presented or not)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from pesabox.security.tls_contexts import client_context
from tests.serving.world import ClientCertificate, World

_START_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 20.0
_ANNOUNCED = re.compile(r"pesabox serving (\w+) (\w+): (\S+)")
# Every port left to the system: tests may run beside other servers.
FREE_PORTS = {
    "PESABOX_PORT": "0",
    "PESABOX_HTTPS_PORT": "0",
    "PESABOX_PRODUCTION_PORT": "0",
    "PESABOX_PRODUCTION_MTLS_PORT": "0",
}


@dataclass
class ServeProcess:
    process: subprocess.Popen[bytes]
    log_path: Path
    # (environment, kind) -> base URL, as announced.
    urls: dict[tuple[str, str], str] = field(default_factory=dict)

    def url(self, environment: str, kind: str) -> str:
        return self.urls[(environment, kind)]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, signum: signal.Signals = signal.SIGTERM) -> int:
        """Signal the process group (as a terminal's Ctrl-C or a supervisor would); the exit
        code (after SIGKILL, if it does not stop)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signum)
            try:
                return self.process.wait(_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(_STOP_TIMEOUT_S)
                raise
        return self.process.returncode


def serving_env(world: World, extra: Mapping[str, str]) -> dict[str, str]:
    """A clean environment (none of the caller's PESABOX_*) for serving `world` on free ports."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PESABOX_")}
    env.update(
        {
            "PESABOX_DATABASE_URL": world.settings.database_url,
            "PESABOX_ENVIRONMENTS": "sandbox,production",
            "PESABOX_LOG_LEVEL": "info",
            "PESABOX_POLL_INTERVAL_S": "0.05",
            **FREE_PORTS,
            **extra,
        }
    )
    return env


def _wait_announced(served: ServeProcess, count: int) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise AssertionError(f"pesabox serve exited early:\n{served.log()}")
        found = _ANNOUNCED.findall(served.log())
        if len(found) >= count:
            served.urls = {(env, kind): url for env, kind, url in found}
            return
        time.sleep(0.05)
    raise AssertionError(f"listeners not announced:\n{served.log()}")


def wait_for_log(served: ServeProcess, line: str, *, count: int) -> None:
    """Until `line` appears `count` times in the server's log (bounded)."""
    deadline = time.monotonic() + _START_TIMEOUT_S
    while served.log().count(line) < count:
        if time.monotonic() > deadline or served.process.poll() is not None:
            raise AssertionError(f"{count} x {line!r} not logged:\n{served.log()}")
        time.sleep(0.05)


def _wait_healthy(served: ServeProcess, world: World) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    with tls_client(world, None) as client:
        for url in served.urls.values():
            while True:
                if served.process.poll() is not None:
                    raise AssertionError(f"pesabox serve exited:\n{served.log()}")
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"{url}/healthz").status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise AssertionError(f"{url} not healthy:\n{served.log()}")
                time.sleep(0.05)


@contextlib.contextmanager
def serving(
    world: World, log_dir: Path, extra_env: Mapping[str, str] | None = None, *, listeners: int = 4
) -> Iterator[ServeProcess]:
    log_path = log_dir / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "pesabox", "serve"],
            env=serving_env(world, extra_env or {}),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    served = ServeProcess(process, log_path)
    try:
        _wait_announced(served, listeners)
        _wait_healthy(served, world)
        yield served
    finally:
        if served.stop() not in (0, -signal.SIGTERM):
            sys.stderr.write(served.log()[-6000:])


def tls_context(world: World, presented: ClientCertificate | None) -> ssl.SSLContext:
    if presented is None:
        return client_context(ca_pem=world.ca_pem)
    return client_context(ca_pem=world.ca_pem, cert_pem=presented.cert_pem,
                          key_pem=presented.key_pem)  # fmt: skip


def tls_client(world: World, presented: ClientCertificate | None) -> httpx.Client:
    return httpx.Client(verify=tls_context(world, presented), timeout=10.0)


def exchange(url: str, context: ssl.SSLContext) -> str:
    """Connect and ask for /healthz: "answered" (an HTTP 200), or "refused" when the
    connection ended without an answer (asyncio's TLS server closes the connection on a
    failed handshake; under TLS 1.3 the client learns it on its first read)."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as raw:
        try:
            with context.wrap_socket(raw, server_hostname=parts.hostname) as tls:
                tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                answer = tls.recv(4096)
        except (ssl.SSLError, ConnectionResetError):
            return "refused"
    if not answer:
        return "refused"
    return "answered" if answer.startswith(b"HTTP/1.1 200") else answer.decode(errors="replace")
