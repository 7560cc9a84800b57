"""`pesabox serve` as a process: the sandbox alone as before issue 6, worker processes
sharing the listeners, and a clean stop on Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.serving.served import serving, serving_env, tls_client, wait_for_log
from tests.serving.world import World, balance_body
from tests.support import basic_auth

SHUTDOWN = "Application shutdown complete."
STARTUP = "Application startup complete."


def test_the_sandbox_alone(sqlite_world: World, tmp_path: Path) -> None:
    only_http = {"PESABOX_ENVIRONMENTS": "sandbox", "PESABOX_HTTPS_PORT": "off"}
    with serving(sqlite_world, tmp_path, only_http, listeners=1) as server:
        assert list(server.urls) == [("sandbox", "http")]
        with httpx.Client(timeout=10.0) as client:
            assert client.get(f"{server.url('sandbox', 'http')}/healthz").status_code == 200
        assert server.stop() == 0, server.log()
    assert server.log().count(SHUTDOWN) == 1


def test_worker_processes_share_every_listener(sqlite_world: World, tmp_path: Path) -> None:
    with serving(sqlite_world, tmp_path, {"PESABOX_WORKERS": "2"}) as server:
        # Both workers up (one may answer every request before the other is).
        wait_for_log(server, STARTUP, count=4)
        with tls_client(sqlite_world, sqlite_world.organisation_certificate) as client:
            for url in server.urls.values():
                for _ in range(4):
                    assert client.get(f"{url}/healthz").status_code == 200
        assert server.stop() == 0, server.log()
    # Each worker started and stopped both environments' Platforms.
    assert server.log().count(SHUTDOWN) == 4


def test_ctrl_c_stops_both_environments_cleanly(sqlite_world: World, tmp_path: Path) -> None:
    with serving(sqlite_world, tmp_path) as server:
        assert server.stop(signal.SIGINT) == 0, server.log()
    assert server.log().count(SHUTDOWN) == 2
    assert "Traceback" not in server.log()


def test_a_port_in_use_fails_the_start_with_the_port_named(
    sqlite_world: World, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "pesabox", "serve"],
            env=serving_env(sqlite_world, {"PESABOX_PRODUCTION_MTLS_PORT": str(port)}),
            capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    assert done.returncode == 1
    assert f"cannot listen on https://127.0.0.1:{port} for production" in done.stderr
    assert "Traceback" not in done.stderr


def _workers_of(pid: int) -> list[int]:
    """The spawned worker processes among `pid`'s children (not multiprocessing's tracker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    found = []
    for child in map(int, children):
        with contextlib.suppress(FileNotFoundError):
            command = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"spawn_main" in command:
                found.append(child)
    return found


def test_a_worker_that_dies_stops_the_server(sqlite_world: World, tmp_path: Path) -> None:
    with serving(sqlite_world, tmp_path, {"PESABOX_WORKERS": "2"}) as server:
        wait_for_log(server, STARTUP, count=4)
        workers = _workers_of(server.process.pid)
        assert len(workers) == 2
        os.kill(workers[0], signal.SIGKILL)
        # Bounded by the wait, not timed: the parent notices, stops the other, exits 1.
        assert server.process.wait(60) == 1
        assert not Path(f"/proc/{workers[1]}").exists()
    assert "a worker process ended on its own" in server.log()


def test_both_environments_on_each_database(world: World, tmp_path: Path) -> None:
    with serving(world, tmp_path) as server:
        base = server.url("production", "mtls")
        with tls_client(world, world.organisation_certificate) as client:
            reply = client.get(
                f"{base}/oauth/v1/generate",
                params={"grant_type": "client_credentials"},
                headers={"Authorization": basic_auth(world.production_app.key,
                                                     world.production_app.secret)},
            )  # fmt: skip
            assert reply.status_code == 200, reply.text
            token = reply.json()["access_token"]
            reply = client.post(
                f"{base}/mpesa/accountbalance/v1/query",
                json=balance_body(world),
                headers={"Authorization": f"Bearer {token}"},
            )
        assert reply.status_code == 200, reply.text
        assert server.stop() == 0, server.log()


def test_production_alone_listens_on_no_plain_port(sqlite_world: World, tmp_path: Path) -> None:
    # `serve` announces every listener it binds, so the announcements are the whole list:
    # production alone has its two TLS listeners and no plain http one.
    only_production = {"PESABOX_ENVIRONMENTS": "production"}
    with serving(sqlite_world, tmp_path, only_production, listeners=2) as server:
        assert sorted(server.urls) == [("production", "https"), ("production", "mtls")]
        assert all(url.startswith("https://") for url in server.urls.values())
        assert server.stop() == 0, server.log()
    assert "serving sandbox" not in server.log()
