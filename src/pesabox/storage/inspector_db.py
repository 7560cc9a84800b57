"""Where the inspector's request log lives: beside the ledger on SQLite, inside it on PostgreSQL.

On SQLite the log gets a database file of its own (`<main file>.inspector.db`, or
`PESABOX_INSPECTOR_DATABASE_URL`). In the ledger's file, its rows went into the ledger's WAL:
about as many bytes a request as the push itself, fsynced with `synchronous=FULL`, copied
again by the checkpointer, and written under the same write lock the ledger writer takes
turns on. Measured in a running server (docs/benchmark.md, phase F), that doubled what a
recorded row cost. Its own file has its own WAL and its own write lock, and runs with
`synchronous=NORMAL`: a commit no longer waits for an fsync, so a power cut may lose the
last moments of the log. That is the right trade for diagnostic rows; payments stay in the
ledger's file with `synchronous=FULL`.

The table is made on each new connection to that file (`CREATE TABLE IF NOT EXISTS`, from
the same `tables.inspector_requests` that migration 0009 mirrors), so a fresh main database,
a copied test database or a second worker finds it without a migration step.

On PostgreSQL the table stays in the main database (migration 0009); the flush turns off
`synchronous_commit` for its own transactions instead (see `core.request_log`).
"""

from __future__ import annotations

import os

from sqlalchemy import Engine, create_engine
from sqlalchemy.schema import CreateTable

from pesabox.storage.db import sqlite_engine
from pesabox.storage.tables import inspector_requests

SUFFIX = ".inspector.db"

_CREATE_TABLE = str(
    CreateTable(inspector_requests, if_not_exists=True).compile(
        dialect=create_engine("sqlite://").dialect
    )
)


def log_database_url(main: Engine, configured: str | None = None) -> str | None:
    """The log's own SQLite URL, or None when the log shares the main database."""
    if main.dialect.name != "sqlite":
        return None
    if configured:
        return configured
    database = main.url.database
    if not database or database == ":memory:":
        return None
    return f"sqlite:///{os.path.abspath(database)}{SUFFIX}"


def open_log_engine(main: Engine, configured: str | None = None) -> Engine:
    """The engine the request log is written and read through (`main` on PostgreSQL)."""
    url = log_database_url(main, configured)
    if url is None:
        return main
    if not url.startswith("sqlite"):
        raise ValueError("PESABOX_INSPECTOR_DATABASE_URL must be a SQLite URL")
    # The main engine's transactions (see `sqlite_engine`), with the log's own pragmas.
    return sqlite_engine(
        url,
        setup=[
            "PRAGMA journal_mode=WAL",
            # Diagnostic rows, not money: no fsync per commit (see the module docstring).
            "PRAGMA synchronous=NORMAL",
            "PRAGMA busy_timeout=30000",
            _CREATE_TABLE,
        ],
    )
