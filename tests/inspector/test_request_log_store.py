"""Flushing and retention of the request log, on each database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from pesabox.core.request_log import PENDING_MAX, CapturedRequest, RequestLog
from pesabox.storage.db import read_transaction
from pesabox.storage.inspector_db import SUFFIX, open_log_engine
from pesabox.storage.inspector_store import REQUEST_COLUMNS
from pesabox.storage.tables import inspector_requests


def captured(number: int) -> CapturedRequest:
    return (
        1_764_300_000.0 + number,
        "POST",
        f"/mpesa/stkpush/v1/processrequest?n={number}",
        None,
        200,
        1.5,
        b'{"PhoneNumber": "254708374149"}',
        b'{"ResponseCode": "0"}',
    )


@pytest.fixture
def log_engine(engine: Engine) -> Iterator[Engine]:
    """The log's engine as a server opens it: its own file beside a SQLite database."""
    log = open_log_engine(engine)
    yield log
    if log is not engine:
        log.dispose()


def stored_paths(engine: Engine) -> list[str]:
    with read_transaction(engine) as conn:
        query = select(inspector_requests.c.path).order_by(inspector_requests.c.id)
        return list(conn.execute(query).scalars())


async def test_flush_writes_every_waiting_row_once(engine: Engine, log_engine: Engine) -> None:
    request_log = RequestLog(engine=engine, log_engine=log_engine, retention=100)
    for number in range(3):
        request_log.capture(captured(number))

    assert await request_log.flush() == 3
    assert await request_log.flush() == 0
    assert len(stored_paths(log_engine)) == 3


async def test_retention_keeps_the_newest_rows(engine: Engine, log_engine: Engine) -> None:
    request_log = RequestLog(engine=engine, log_engine=log_engine, retention=4)
    for number in range(10):
        request_log.capture(captured(number))
        if number % 3 == 0:
            await request_log.flush()
    await request_log.flush()

    assert stored_paths(log_engine) == [captured(n)[2] for n in range(6, 10)]


def test_a_full_buffer_drops_new_requests_and_counts_them(
    engine: Engine, log_engine: Engine
) -> None:
    request_log = RequestLog(engine=engine, log_engine=log_engine, retention=100)
    for number in range(PENDING_MAX + 5):
        request_log.capture(captured(number))

    assert request_log.dropped == 5


async def test_stop_writes_what_is_still_buffered(engine: Engine, log_engine: Engine) -> None:
    request_log = RequestLog(engine=engine, log_engine=log_engine, retention=100)
    await request_log.start()
    request_log.capture(captured(1))

    await request_log.stop()

    assert stored_paths(log_engine) == [captured(1)[2]]


def test_row_columns_are_the_tables_own() -> None:
    assert set(REQUEST_COLUMNS) == {c.name for c in inspector_requests.columns} - {"id"}
    assert len(REQUEST_COLUMNS) == len(set(REQUEST_COLUMNS))


async def test_on_sqlite_the_log_has_a_file_of_its_own(engine: Engine, log_engine: Engine) -> None:
    """Beside the ledger's file, never in it (its WAL and write lock are the payments'); on
    PostgreSQL the main database's table (migration 0009)."""
    request_log = RequestLog(engine=engine, log_engine=log_engine, retention=100)
    request_log.capture(captured(1))
    await request_log.flush()

    with read_transaction(engine) as conn:
        in_main = conn.execute(select(func.count()).select_from(inspector_requests)).scalar()
    if engine.dialect.name == "sqlite":
        assert log_engine.url.database == f"{Path(str(engine.url.database)).resolve()}{SUFFIX}"
        assert in_main == 0
        with log_engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    else:
        assert log_engine is engine
        assert in_main == 1
    assert stored_paths(log_engine) == [captured(1)[2]]


async def test_two_logs_on_one_file_share_it(engine: Engine) -> None:
    """Two workers: each opens the log's file, the table is made once, both write to it."""
    first, second = open_log_engine(engine), open_log_engine(engine)
    try:
        for number, log in enumerate((first, second)):
            request_log = RequestLog(engine=engine, log_engine=log, retention=100)
            request_log.capture(captured(number))
            await request_log.flush()
        assert stored_paths(first) == stored_paths(second) == [captured(n)[2] for n in (0, 1)]
    finally:
        for log in (first, second):
            if log is not engine:
                log.dispose()
