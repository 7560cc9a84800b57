"""The dispatcher end to end: a real database, a real loopback receiver, no mocks."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator

import orjson
import pytest
from sqlalchemy import Engine, select

from pesabox.callbacks.queries import ClaimedCallback, schedule_resend
from pesabox.clock import FixedClock
from pesabox.storage.db import make_engine, read_transaction, write_transaction
from pesabox.storage.migrate import upgrade_to_head
from pesabox.storage.tables import callbacks
from tests.callbacks import (
    Receiver,
    add_callback,
    closed_port,
    eventually,
    fast_settings,
    load,
    running_dispatcher,
    running_receiver,
    set_claimed_until,
    settled,
)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as running:
        yield running


async def test_dispatcher_delivers_and_records_attempt(engine: Engine, receiver: Receiver) -> None:
    callback_id = add_callback(engine, receiver.url("/cb"), transaction_id="ws_CO_42")
    async with running_dispatcher(engine, fast_settings(engine)) as dispatcher:
        row = await settled(engine, callback_id)
    assert row["status"] == "delivered"
    assert row["attempts"] == 1
    assert row["delivered_at"] is not None
    assert row["last_error"] is None
    [received] = receiver.on("/cb")
    assert received.content_type == "application/json"
    assert received.json() == {"Body": {"stkCallback": {"CheckoutRequestID": "ws_CO_42"}}}
    [attempt] = row["attempts_detail"]
    assert attempt["attempt"] == 1
    assert attempt["target_url"] == receiver.url("/cb")
    assert attempt["status_code"] == 200
    assert attempt["outcome"] == "delivered"
    assert attempt["latency_ms"] > 0
    assert attempt["error"] is None
    assert '"ResultCode": 0' in attempt["response_excerpt"]
    assert dispatcher.counters.delivered == 1
    assert dispatcher.counters.attempts == 1


async def test_dispatcher_retries_500_then_delivers(engine: Engine, receiver: Receiver) -> None:
    receiver.reply("/flaky", 500, 200)
    callback_id = add_callback(engine, receiver.url("/flaky"))
    async with running_dispatcher(engine, fast_settings(engine)) as dispatcher:
        row = await settled(engine, callback_id)
    assert row["status"] == "delivered"
    assert [a["status_code"] for a in row["attempts_detail"]] == [500, 200]
    assert [a["outcome"] for a in row["attempts_detail"]] == ["retry", "delivered"]
    assert row["attempts_detail"][0]["error"] == "HTTP 500"
    assert len(receiver.on("/flaky")) == 2
    assert dispatcher.counters.retried == 1


async def test_dispatcher_gives_up_after_max_attempts(engine: Engine, receiver: Receiver) -> None:
    receiver.reply("/down", 500, 502, 503, 500)
    callback_id = add_callback(engine, receiver.url("/down"), max_attempts=3)
    async with running_dispatcher(engine, fast_settings(engine)) as dispatcher:
        row = await settled(engine, callback_id)
        await asyncio.sleep(0.1)  # no fourth attempt may follow
    assert row["status"] == "failed"
    assert row["attempts"] == 3
    assert row["last_error"] == "HTTP 503"
    assert [a["outcome"] for a in row["attempts_detail"]] == ["retry", "retry", "give_up"]
    assert len(receiver.on("/down")) == 3
    assert dispatcher.counters.given_up == 1


@pytest.mark.parametrize(
    ("first_status", "final_status", "attempts"),
    [
        (400, "failed", 1),
        (401, "failed", 1),
        (404, "failed", 1),
        (301, "failed", 1),
        (408, "delivered", 2),
        (429, "delivered", 2),
        (503, "delivered", 2),
    ],
)
async def test_dispatcher_sorts_status_codes(
    engine: Engine, receiver: Receiver, first_status: int, final_status: str, attempts: int
) -> None:
    receiver.reply("/status", first_status, 200)
    callback_id = add_callback(engine, receiver.url("/status"))
    async with running_dispatcher(engine, fast_settings(engine)):
        row = await settled(engine, callback_id)
    assert row["status"] == final_status
    assert row["attempts"] == attempts
    assert row["attempts_detail"][0]["status_code"] == first_status


async def test_dispatcher_retries_when_connection_refused(engine: Engine) -> None:
    callback_id = add_callback(engine, f"http://127.0.0.1:{closed_port()}/cb", max_attempts=2)
    async with running_dispatcher(engine, fast_settings(engine)):
        row = await settled(engine, callback_id)
    assert row["status"] == "failed"
    assert [a["outcome"] for a in row["attempts_detail"]] == ["retry", "give_up"]
    for attempt in row["attempts_detail"]:
        assert attempt["status_code"] is None
        assert "ClientConnectorError" in attempt["error"]
    assert row["last_error"] == row["attempts_detail"][-1]["error"]


async def test_dispatcher_retries_on_timeout(engine: Engine, receiver: Receiver) -> None:
    receiver.stall("/slow", 0.5)
    callback_id = add_callback(engine, receiver.url("/slow"), max_attempts=1)
    settings = fast_settings(engine, callback_timeout_s=0.1)
    async with running_dispatcher(engine, settings):
        row = await settled(engine, callback_id)
    [attempt] = row["attempts_detail"]
    assert attempt["error"] == "timeout after 0.1 s"
    assert attempt["outcome"] == "give_up"  # a retry, but this was the last allowed attempt
    assert 100 <= attempt["latency_ms"] < 450


async def test_dispatcher_applies_rewrite_rule(engine: Engine, receiver: Receiver) -> None:
    rule = (
        f"https://elsewhere.example=>http://127.0.0.1:9, https://shop.example=>{receiver.url('')}"
    )
    callback_id = add_callback(engine, "https://shop.example/cb")
    async with running_dispatcher(engine, fast_settings(engine, callback_rewrite=rule)):
        row = await settled(engine, callback_id)
    assert row["status"] == "delivered"
    assert row["url"] == "https://shop.example/cb"
    assert row["attempts_detail"][0]["target_url"] == receiver.url("/cb")
    assert len(receiver.on("/cb")) == 1


async def test_dispatcher_fails_first_attempts_without_posting(
    engine: Engine, receiver: Receiver
) -> None:
    callback_id = add_callback(engine, receiver.url("/cb"), max_attempts=4, fail_first=2)
    async with running_dispatcher(engine, fast_settings(engine)) as dispatcher:
        row = await settled(engine, callback_id)
    assert row["status"] == "delivered"
    assert row["attempts"] == 3
    simulated = row["attempts_detail"][:2]
    assert all(a["error"].startswith("scenario: simulated delivery failure") for a in simulated)
    assert all(a["status_code"] is None and a["outcome"] == "retry" for a in simulated)
    assert row["attempts_detail"][2]["outcome"] == "delivered"
    assert len(receiver.on("/cb")) == 1  # the simulated failures never reached the receiver
    assert dispatcher.counters.simulated_failures == 2


async def test_dispatcher_holds_back_delayed_callback(engine: Engine, receiver: Receiver) -> None:
    slow_id = add_callback(engine, receiver.url("/slow-cb"), delay_s=0.3)
    quick_id = add_callback(engine, receiver.url("/quick-cb"))
    started = time.monotonic()
    async with running_dispatcher(engine, fast_settings(engine)):
        quick = await settled(engine, quick_id)
        slow = await settled(engine, slow_id)
    assert quick["status"] == slow["status"] == "delivered"
    [slow_post] = receiver.on("/slow-cb")
    [quick_post] = receiver.on("/quick-cb")
    assert slow_post.at_s - started >= 0.3
    assert quick_post.at_s < slow_post.at_s  # the held-back row blocks nobody


async def test_dispatcher_never_sends_suppressed(engine: Engine, receiver: Receiver) -> None:
    suppressed_id = add_callback(engine, receiver.url("/never"), suppressed=True)
    normal_id = add_callback(engine, receiver.url("/cb"))
    async with running_dispatcher(engine, fast_settings(engine)):
        await settled(engine, normal_id)
        await asyncio.sleep(0.1)
    assert receiver.on("/never") == []
    row = load(engine, suppressed_id)
    assert row["status"] == "suppressed"
    assert row["attempts"] == 0


async def test_dispatcher_resends_delivered_callback(engine: Engine, receiver: Receiver) -> None:
    callback_id = add_callback(engine, receiver.url("/cb"))
    async with running_dispatcher(engine, fast_settings(engine)) as dispatcher:
        await settled(engine, callback_id)
        with write_transaction(engine) as conn:
            assert schedule_resend(conn, callback_id, time.time())
        dispatcher.notify()
        await eventually(lambda: load(engine, callback_id)["attempts"] == 2)
    row = load(engine, callback_id)
    assert row["status"] == "delivered"
    assert [a["outcome"] for a in row["attempts_detail"]] == ["delivered", "delivered"]
    assert len(receiver.on("/cb")) == 2


async def test_dispatcher_resend_sends_suppressed_callback(
    engine: Engine, receiver: Receiver
) -> None:
    callback_id = add_callback(engine, receiver.url("/cb"), suppressed=True)
    async with running_dispatcher(engine, fast_settings(engine)):
        with write_transaction(engine) as conn:
            assert schedule_resend(conn, callback_id, time.time())
        row = await settled(engine, callback_id)
    assert row["status"] == "delivered"
    assert len(receiver.on("/cb")) == 1


async def test_dispatcher_retakes_lapsed_claim(engine: Engine, receiver: Receiver) -> None:
    clock = FixedClock()
    now = clock.now()
    lapsed_id = add_callback(engine, receiver.url("/lapsed"), now=now)
    held_id = add_callback(engine, receiver.url("/held"), now=now)
    # As if a crashed worker had claimed both: one lease already ran out, one has not.
    set_claimed_until(engine, lapsed_id, now - 1)
    set_claimed_until(engine, held_id, now + 30)
    async with running_dispatcher(engine, fast_settings(engine), clock=clock) as dispatcher:
        assert (await settled(engine, lapsed_id))["status"] == "delivered"
        await asyncio.sleep(0.1)
        assert receiver.on("/held") == []
        clock.advance(31)
        dispatcher.notify()
        assert (await settled(engine, held_id))["status"] == "delivered"


async def test_dispatcher_waits_out_backoff_on_clock(engine: Engine, receiver: Receiver) -> None:
    clock = FixedClock()
    receiver.reply("/cb", 500)
    callback_id = add_callback(engine, receiver.url("/cb"), now=clock.now())
    settings = fast_settings(engine, callback_backoff_base_s=60, callback_backoff_cap_s=60)
    async with running_dispatcher(engine, settings, clock=clock) as dispatcher:
        await eventually(lambda: load(engine, callback_id)["attempts"] == 1)
        row = load(engine, callback_id)
        assert row["status"] == "pending"
        assert clock.now() + 30 <= row["next_attempt_at"] <= clock.now() + 60
        await asyncio.sleep(0.1)
        assert len(receiver.on("/cb")) == 1  # not due yet
        clock.advance(60)
        dispatcher.notify()
        assert (await settled(engine, callback_id))["status"] == "delivered"


async def test_dispatcher_notify_starts_delivery_before_poll(
    engine: Engine, receiver: Receiver
) -> None:
    settings = fast_settings(engine, poll_interval_s=30.0)
    async with running_dispatcher(engine, settings) as dispatcher:
        await asyncio.sleep(0.05)  # the loop found nothing and went to sleep
        callback_id = add_callback(engine, receiver.url("/cb"))
        dispatcher.notify()
        row = await settled(engine, callback_id, timeout_s=2.0)
    assert row["status"] == "delivered"


async def test_dispatcher_stop_abandons_stuck_post(engine: Engine, receiver: Receiver) -> None:
    receiver.stall("/stuck", 10.0)
    callback_id = add_callback(engine, receiver.url("/stuck"))
    settings = fast_settings(engine, callback_timeout_s=5.0)
    async with running_dispatcher(engine, settings, shutdown_grace_s=0.1) as dispatcher:
        await eventually(lambda: len(receiver.on("/stuck")) == 1)
        started = time.monotonic()
    assert time.monotonic() - started < 2.0  # the grace period, not the 5 s timeout
    assert dispatcher.in_flight == 0
    row = load(engine, callback_id)
    # Not recorded, and handed back at once rather than held until the lease ends.
    assert (row["status"], row["attempts"]) == ("pending", 0)
    with read_transaction(engine) as conn:
        query = select(callbacks.c.claimed_until).where(callbacks.c.id == callback_id)
        assert conn.execute(query).scalar_one() is None


async def test_two_dispatchers_deliver_each_callback_once(
    engine: Engine, receiver: Receiver
) -> None:
    ids = [add_callback(engine, receiver.url("/cb"), transaction_id=f"tx{n}") for n in range(100)]
    settings = fast_settings(engine, callback_concurrency=8)
    async with (
        running_dispatcher(engine, settings) as first,
        running_dispatcher(engine, settings) as second,
    ):
        await eventually(lambda: len(receiver.on("/cb")) >= len(ids), timeout_s=10)
        await eventually(lambda: load(engine, ids[-1])["status"] == "delivered")
        await asyncio.sleep(0.1)
    sent = Counter(
        item.json()["Body"]["stkCallback"]["CheckoutRequestID"] for item in receiver.received
    )
    assert set(sent) == {f"tx{n}" for n in range(100)}
    assert max(sent.values()) == 1
    assert first.counters.delivered + second.counters.delivered == 100
    assert first.counters.claimed + second.counters.claimed == 100
    # Each claims at most 16 rows a round, so both take part; otherwise the test proves nothing.
    assert min(first.counters.claimed, second.counters.claimed) > 0
    assert all(load(engine, callback_id)["attempts"] == 1 for callback_id in ids)


async def test_dispatcher_survives_database_errors(database_url: str, receiver: Receiver) -> None:
    # A database without tables yet: every claim fails until the migration runs.
    engine = make_engine(database_url, pool_size=4)
    try:
        settings = fast_settings(engine)
        async with running_dispatcher(engine, settings) as dispatcher:
            await eventually(lambda: dispatcher.counters.loop_errors >= 2)
            upgrade_to_head(engine)
            callback_id = add_callback(engine, receiver.url("/cb"))
            dispatcher.notify()
            row = await settled(engine, callback_id)
        assert row["status"] == "delivered"
    finally:
        engine.dispose()


async def test_rows_handed_over_past_the_cap_are_delivered_without_waiting_out_their_lease(
    engine: Engine, receiver: Receiver
) -> None:
    # One POST slot: two rows fit in flight, the other four are handed over past the cap.
    # Born leased for five minutes on a clock that never moves, a row left leased would
    # never be delivered; released, the claim loop takes it as soon as a slot frees.
    clock = FixedClock()
    lease_until = clock.now() + 300
    ids = [
        add_callback(
            engine,
            receiver.url(f"/cb/{n}"),
            now=clock.now(),
            transaction_id=f"ws_CO_{n}",
            claimed_until=lease_until,
        )
        for n in range(6)
    ]
    settings = fast_settings(engine, callback_concurrency=1)
    async with running_dispatcher(engine, settings, clock=clock) as dispatcher:
        for callback_id, n in zip(ids, range(6), strict=True):
            dispatcher.hand_over(
                ClaimedCallback(
                    id=callback_id,
                    url=receiver.url(f"/cb/{n}"),
                    payload=orjson.dumps(load(engine, callback_id)["payload"]).decode(),
                    attempts=0,
                    max_attempts=3,
                    fail_first=0,
                    delay_s=0.0,
                )
            )
        rows = [await settled(engine, callback_id) for callback_id in ids]
    assert [row["status"] for row in rows] == ["delivered"] * 6
    assert all(len(receiver.on(f"/cb/{n}")) == 1 for n in range(6))
