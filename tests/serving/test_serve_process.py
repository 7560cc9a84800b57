"""`pesabox serve` as a process: the sandbox alone as before issue 6, worker processes
sharing the listeners, and a clean stop on Ctrl-C."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.serving.served import serving, serving_env, tls_client
from tests.serving.world import World

SHUTDOWN = "Application shutdown complete."


def test_the_sandbox_alone(sqlite_world: World, tmp_path: Path) -> None:
    only_http = {"PESABOX_ENVIRONMENTS": "sandbox", "PESABOX_HTTPS_PORT": "off"}
    with serving(sqlite_world, tmp_path, only_http, listeners=1) as server:
        assert list(server.urls) == [("sandbox", "http")]
        with httpx.Client(timeout=10.0) as client:
            assert client.get(f"{server.url('sandbox', 'http')}/healthz").status_code == 200
        assert server.stop() == 0
    assert server.log().count(SHUTDOWN) == 1


def test_worker_processes_share_every_listener(sqlite_world: World, tmp_path: Path) -> None:
    with serving(sqlite_world, tmp_path, {"PESABOX_WORKERS": "2"}) as server:
        with tls_client(sqlite_world, sqlite_world.organisation_certificate) as client:
            for url in server.urls.values():
                for _ in range(4):
                    assert client.get(f"{url}/healthz").status_code == 200
        assert server.stop() == 0
    # Each worker started and stopped both environments' Platforms.
    assert server.log().count(SHUTDOWN) == 4


def test_ctrl_c_stops_both_environments_cleanly(sqlite_world: World, tmp_path: Path) -> None:
    with serving(sqlite_world, tmp_path) as server:
        assert server.stop(signal.SIGINT) == 0
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
