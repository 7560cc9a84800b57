"""Engines for the two supported databases, with one code path above them.

SQLite (the embedded default) runs in WAL mode with foreign keys on and `synchronous=FULL`,
because a payment acknowledged to a merchant must survive a power cut. Writes open with
`BEGIN IMMEDIATE` so that two processes never deadlock upgrading a read lock to a write lock;
reads open a deferred transaction and never block the writer.

Processes that share one SQLite file queue for the write lock on an `flock` of a file beside
it before `BEGIN IMMEDIATE`. SQLite's own busy handler polls with sleeps that grow to 100 ms,
which under steady contention between two gateway workers put hundreds of milliseconds on a
payment's latency; a blocked `flock` wakes as soon as the lock is free.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

IMMEDIATE = "pesabox_immediate"
# One advisory lock key for all of pesabox's write transactions on a PostgreSQL database.
_PG_WRITER_LOCK = "SELECT pg_advisory_xact_lock(7405160321)"


def make_engine(url: str, *, pool_size: int = 8, checkpoint_in_background: bool = False) -> Engine:
    """`checkpoint_in_background`: this engine's commits never checkpoint the SQLite WAL;
    the owner runs `checkpoint_wal` on a timer instead (see `Checkpointer`)."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, autocheckpoint=not checkpoint_in_background)
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
    )


def _sqlite_engine(url: str, *, autocheckpoint: bool) -> Engine:
    setup = [
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=FULL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA busy_timeout=30000",
    ]
    if not autocheckpoint:
        setup.append("PRAGMA wal_autocheckpoint=0")
    return sqlite_engine(url, setup=setup)


def sqlite_engine(url: str, *, setup: Sequence[str]) -> Engine:
    """A SQLite engine whose transactions pesabox begins itself: `write_transaction` asks for
    BEGIN IMMEDIATE, so two writers queue for the write lock instead of deadlocking on an
    upgrade; anything else opens a deferred BEGIN. Each new connection runs `setup` (its
    pragmas, in order) first."""
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Hand transaction control to the "begin" hook below instead of the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for statement in setup:
            cursor.execute(statement)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class _WriterLock:
    """Mutual exclusion between the writers of one SQLite file: threads and processes."""

    def __init__(self, path: str) -> None:
        self._thread_lock = threading.Lock()
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._thread_lock:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


_writer_locks: dict[str, _WriterLock] = {}
_writer_locks_guard = threading.Lock()


def _writer_lock(engine: Engine) -> _WriterLock | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    path = os.path.abspath(database) + "-writer.lock"
    with _writer_locks_guard:
        lock = _writer_locks.get(path)
        if lock is None:
            lock = _writer_locks[path] = _WriterLock(path)
        return lock


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One db transaction that intends to write: committed on success, rolled back on error."""
    lock = _writer_lock(engine)
    with engine.connect() as connection:
        connection = connection.execution_options(**{IMMEDIATE: True})
        if lock is None:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    # PostgreSQL's counterpart of the SQLite flock: writers take turns, so two
                    # processes never settle one request at once nor deadlock over accounts
                    # updated in different orders; each still commits a whole batch at once.
                    connection.exec_driver_sql(_PG_WRITER_LOCK)
                yield connection
            return
        with lock.held(), connection.begin():
            yield connection


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection, connection.begin():
        yield connection


def checkpoint_wal(engine: Engine) -> None:
    """Copy committed WAL pages into the database file without waiting for anyone.

    By default SQLite checkpoints inside whichever commit pushes the WAL past 1,000 pages, and
    that commit then waits for the database file's fsync while holding the write lock: a
    latency spike for every payment queued behind it. A PASSIVE checkpoint on its own
    connection takes no write lock, so writers carry on meanwhile.
    """
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
