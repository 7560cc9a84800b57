"""Outbox SQL on both databases: claiming, recording, listing and resending."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from pesabox.callbacks.outbox import enqueue
from pesabox.callbacks.queries import (
    AttemptRecord,
    claim_due,
    get_callback,
    list_callbacks,
    record_attempts,
    release_claims,
    schedule_resend,
)
from pesabox.storage.db import read_transaction, write_transaction
from pesabox.storage.tables import callbacks
from tests.callbacks import add_callback, load, set_claimed_until

NOW = 1_764_300_000.0


def _claim(engine: Engine, *, now: float = NOW, limit: int = 10) -> list[int]:
    with write_transaction(engine) as conn:
        rows = claim_due(
            conn,
            now=now,
            lease_s=30,
            limit=limit,
            skip_locked=engine.dialect.name == "postgresql",
        )
    return [row.id for row in rows]


def _claimed_until(engine: Engine, callback_id: int) -> float | None:
    with read_transaction(engine) as conn:
        query = select(callbacks.c.claimed_until).where(callbacks.c.id == callback_id)
        value: float | None = conn.execute(query).scalar_one()
    return value


def _record(callback_id: int, attempt: int, outcome: str, status: str) -> AttemptRecord:
    return AttemptRecord(
        callback_id=callback_id,
        attempt=attempt,
        target_url="http://127.0.0.1:1/cb",
        started_at=NOW,
        latency_ms=1.5,
        status_code=500 if outcome == "retry" else 200,
        response_excerpt="{}",
        error="HTTP 500" if outcome == "retry" else None,
        outcome=outcome,
        status=status,
        next_attempt_at=NOW + 5,
        delivered_at=NOW if status == "delivered" else None,
    )


def test_claim_due_takes_due_pending_rows_only(engine: Engine) -> None:
    due_id = add_callback(engine, "http://a/cb", now=NOW)
    add_callback(engine, "http://a/later", now=NOW + 60)
    add_callback(engine, "http://a/never", now=NOW, suppressed=True)
    held_id = add_callback(engine, "http://a/held", now=NOW)
    set_claimed_until(engine, held_id, NOW + 10)
    assert _claim(engine) == [due_id]
    assert _claimed_until(engine, due_id) == NOW + 30
    assert _claim(engine) == []  # already leased


def test_claim_due_lease_covers_row_delay(engine: Engine) -> None:
    callback_id = add_callback(engine, "http://a/cb", now=NOW, delay_s=12.5)
    assert _claim(engine) == [callback_id]
    assert _claimed_until(engine, callback_id) == NOW + 30 + 12.5


def test_claim_due_respects_limit_oldest_first(engine: Engine) -> None:
    ids = [add_callback(engine, "http://a/cb", now=NOW - n) for n in range(5)]
    assert _claim(engine, limit=2) == [ids[4], ids[3]]


def test_claim_due_retakes_lapsed_lease(engine: Engine) -> None:
    callback_id = add_callback(engine, "http://a/cb", now=NOW)
    assert _claim(engine) == [callback_id]
    assert _claim(engine, now=NOW + 29) == []
    assert _claim(engine, now=NOW + 31) == [callback_id]


def test_release_claims_makes_rows_due_again(engine: Engine) -> None:
    callback_id = add_callback(engine, "http://a/cb", now=NOW)
    assert _claim(engine) == [callback_id]
    with write_transaction(engine) as conn:
        release_claims(conn, [callback_id])
    assert _claim(engine) == [callback_id]


def test_record_attempts_moves_callbacks_on(engine: Engine) -> None:
    retry_id = add_callback(engine, "http://a/retry", now=NOW)
    done_id = add_callback(engine, "http://a/done", now=NOW)
    _claim(engine)
    with write_transaction(engine) as conn:
        record_attempts(
            conn,
            [
                _record(retry_id, 1, "retry", "pending"),
                _record(done_id, 1, "delivered", "delivered"),
            ],
        )
    retry, done = load(engine, retry_id), load(engine, done_id)
    assert (retry["status"], retry["attempts"], retry["last_error"]) == ("pending", 1, "HTTP 500")
    assert retry["next_attempt_at"] == NOW + 5
    assert retry["delivered_at"] is None
    assert (done["status"], done["attempts"], done["delivered_at"]) == ("delivered", 1, NOW)
    assert _claimed_until(engine, retry_id) is None


def test_record_attempts_rejects_duplicate_attempt(engine: Engine) -> None:
    callback_id = add_callback(engine, "http://a/cb", now=NOW)
    with write_transaction(engine) as conn:
        record_attempts(conn, [_record(callback_id, 1, "retry", "pending")])
    # A second worker whose lease lapsed reports the same attempt: the database refuses it.
    with pytest.raises(Exception, match="(?i)unique"), write_transaction(engine) as conn:
        record_attempts(conn, [_record(callback_id, 1, "delivered", "delivered")])
    assert load(engine, callback_id)["status"] == "pending"


def test_list_callbacks_newest_first_with_details(engine: Engine) -> None:
    first = add_callback(engine, "http://a/1", now=NOW, transaction_id="tx-a")
    second = add_callback(engine, "http://a/2", now=NOW + 1, transaction_id="tx-b")
    with write_transaction(engine) as conn:
        record_attempts(conn, [_record(first, 1, "retry", "pending")])
        record_attempts(conn, [_record(first, 2, "delivered", "delivered")])
    with read_transaction(engine) as conn:
        listed = list_callbacks(conn)
    assert [item["id"] for item in listed] == [second, first]
    item = listed[1]
    assert item["payload"] == {"Body": {"stkCallback": {"CheckoutRequestID": "tx-a"}}}
    assert [a["attempt"] for a in item["attempts_detail"]] == [1, 2]
    assert set(item["attempts_detail"][0]) == {
        "attempt",
        "target_url",
        "started_at",
        "latency_ms",
        "status_code",
        "response_excerpt",
        "error",
        "outcome",
    }
    assert listed[0]["attempts_detail"] == []
    assert {"kind", "url", "max_attempts", "created_at", "last_error"} <= set(item)


def test_list_callbacks_filters_and_limits(engine: Engine) -> None:
    for n in range(4):
        add_callback(engine, "http://a/cb", now=NOW, transaction_id=f"tx{n % 2}")
    add_callback(engine, "http://a/cb", now=NOW, transaction_id="tx0", suppressed=True)
    with read_transaction(engine) as conn:
        assert len(list_callbacks(conn, limit=2)) == 2
        assert len(list_callbacks(conn, transaction_id="tx0")) == 3
        assert len(list_callbacks(conn, transaction_id="tx0", status="pending")) == 2
        assert len(list_callbacks(conn, status="suppressed")) == 1
        assert list_callbacks(conn, transaction_id="nope") == []


def test_list_callbacks_shows_non_json_payload_as_text(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        enqueue(
            conn,
            transaction_id="t",
            kind="c2b",
            url="u",
            payload="not json",
            now=NOW,
            max_attempts=1,
        )
    with read_transaction(engine) as conn:
        assert list_callbacks(conn)[0]["payload"] == "not json"


def test_get_callback_missing_is_none(engine: Engine) -> None:
    with read_transaction(engine) as conn:
        assert get_callback(conn, 12345) is None


def test_schedule_resend_missing_is_false(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        assert schedule_resend(conn, 12345, NOW) is False


@pytest.mark.parametrize(
    ("status", "attempts", "max_attempts", "max_after"),
    [
        ("failed", 3, 3, 4),
        ("delivered", 1, 3, 3),
        ("suppressed", 0, 3, 3),
        ("failed", 5, 3, 6),
    ],
)
def test_schedule_resend_allows_one_more_attempt(
    engine: Engine, status: str, attempts: int, max_attempts: int, max_after: int
) -> None:
    callback_id = add_callback(engine, "http://a/cb", now=NOW, max_attempts=max_attempts)
    with write_transaction(engine) as conn:
        conn.execute(
            callbacks.update()
            .where(callbacks.c.id == callback_id)
            .values(status=status, attempts=attempts, claimed_until=NOW + 99)
        )
        assert schedule_resend(conn, callback_id, NOW + 50)
    row = load(engine, callback_id)
    assert (row["status"], row["max_attempts"]) == ("pending", max_after)
    assert row["next_attempt_at"] == NOW + 50
    assert _claim(engine, now=NOW + 50) == [callback_id]
