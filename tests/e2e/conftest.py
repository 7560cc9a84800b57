"""Fixtures for the end-to-end suite: a seeded database, a real callback receiver, and
real `pesabox serve` processes against that database.

Every test here runs once per database: the `database_url` fixture of tests/conftest.py is
parametrised over a fresh SQLite file and a fresh PostgreSQL schema.

Teardown order matters and follows from the fixture graph: servers (which depend on
`database_url` and `receiver`) stop first, then the receiver, then the PostgreSQL schema is
dropped, which would otherwise wait on the live server's connections.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.e2e import LaunchServer, PesaboxServer, Sandbox, forward_to, prepare_sandbox
from tests.e2e.receiver import CallbackReceiver


@pytest.fixture
def sandbox(database_url: str) -> Sandbox:
    """The database seeded by `pesabox seed`, plus an app from `pesabox apps create`."""
    return prepare_sandbox(database_url)


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as running:
        yield running


@pytest.fixture
def launch_server(
    database_url: str, receiver: CallbackReceiver, tmp_path: Path
) -> Iterator[LaunchServer]:
    """Start `pesabox serve` processes; all of them are stopped at teardown, even if the
    test failed halfway or already killed them."""
    servers: list[PesaboxServer] = []

    def launch(
        sandbox: Sandbox, env: Mapping[str, str] | None = None, *, port: int | None = None
    ) -> PesaboxServer:
        log_dir = tmp_path / f"server-{len(servers) + 1}"
        log_dir.mkdir()
        server = PesaboxServer(sandbox, log_dir, env)
        servers.append(server)
        server.start(port=port)
        return server

    try:
        yield launch
    finally:
        for server in servers:
            server.close()
        # Captured output is shown only for failing tests: there, the servers' own account
        # of what happened is the first thing one wants to read.
        for server in servers:
            for path in server.log_paths():
                sys.stderr.write(f"--- {path} ---\n{path.read_text(errors='replace')[-6000:]}\n")


@pytest.fixture
def server(
    sandbox: Sandbox, receiver: CallbackReceiver, launch_server: LaunchServer
) -> PesaboxServer:
    """A running server whose https://shop.example callbacks reach `receiver`."""
    return launch_server(sandbox, forward_to(receiver.base_url))
