"""Flushing and retention of the request log, on each database."""

from __future__ import annotations

from sqlalchemy import Engine, select

from pesabox.core.request_log import PENDING_MAX, CapturedRequest, RequestLog
from pesabox.storage.db import read_transaction
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


def stored_paths(engine: Engine) -> list[str]:
    with read_transaction(engine) as conn:
        query = select(inspector_requests.c.path).order_by(inspector_requests.c.id)
        return list(conn.execute(query).scalars())


async def test_flush_writes_every_waiting_row_once(engine: Engine) -> None:
    request_log = RequestLog(engine=engine, retention=100)
    for number in range(3):
        request_log.capture(captured(number))

    assert await request_log.flush() == 3
    assert await request_log.flush() == 0
    assert len(stored_paths(engine)) == 3


async def test_retention_keeps_the_newest_rows(engine: Engine) -> None:
    request_log = RequestLog(engine=engine, retention=4)
    for number in range(10):
        request_log.capture(captured(number))
        if number % 3 == 0:
            await request_log.flush()
    await request_log.flush()

    assert stored_paths(engine) == [captured(n)[2] for n in range(6, 10)]


def test_a_full_buffer_drops_new_requests_and_counts_them(engine: Engine) -> None:
    request_log = RequestLog(engine=engine, retention=100)
    for number in range(PENDING_MAX + 5):
        request_log.capture(captured(number))

    assert request_log.dropped == 5


async def test_stop_writes_what_is_still_buffered(engine: Engine) -> None:
    request_log = RequestLog(engine=engine, retention=100)
    await request_log.start()
    request_log.capture(captured(1))

    await request_log.stop()

    assert stored_paths(engine) == [captured(1)[2]]


def test_row_columns_are_the_tables_own() -> None:
    assert set(REQUEST_COLUMNS) == {c.name for c in inspector_requests.columns} - {"id"}
    assert len(REQUEST_COLUMNS) == len(set(REQUEST_COLUMNS))
