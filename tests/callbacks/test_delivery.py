"""The sender and its classification, against a real loopback receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from pesabox.callbacks.delivery import (
    EXCERPT_CHARS_MAX,
    CallbackSender,
    classify_status,
    rewrite_url,
    settle_outcome,
    simulated_failure,
)
from tests.callbacks import Receiver, closed_port, running_receiver


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as running:
        yield running


@pytest.fixture
async def sender() -> AsyncIterator[CallbackSender]:
    sender = CallbackSender(timeout_s=0.2, connection_limit=4)
    await sender.open()
    yield sender
    await sender.close()


RULES = [
    ("https://shop.example/cb", "http://127.0.0.1:5000/exact"),
    ("https://shop.example", "http://127.0.0.1:5000"),
    ("https://shop.example/other", "http://never.example"),
]


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("https://shop.example/cb", "http://127.0.0.1:5000/exact"),
        ("https://shop.example/cb?x=1", "http://127.0.0.1:5000/exact?x=1"),
        ("https://shop.example/other", "http://127.0.0.1:5000/other"),  # first match wins
        ("https://shop.example.org/cb", "http://127.0.0.1:5000.org/cb"),  # a plain prefix
        ("https://bank.example/cb", "https://bank.example/cb"),
    ],
)
def test_rewrite_url_first_matching_prefix_wins(url: str, target: str) -> None:
    assert rewrite_url(url, RULES) == target


def test_rewrite_url_ignores_empty_prefix() -> None:
    assert rewrite_url("https://a.example/cb", [("", "http://x")]) == "https://a.example/cb"


@pytest.mark.parametrize(
    ("status_code", "outcome"),
    [
        (200, "delivered"),
        (201, "delivered"),
        (204, "delivered"),
        (299, "delivered"),
        (301, "give_up"),
        (400, "give_up"),
        (403, "give_up"),
        (404, "give_up"),
        (408, "retry"),
        (422, "give_up"),
        (429, "retry"),
        (500, "retry"),
        (503, "retry"),
        (599, "retry"),
    ],
)
def test_classify_status(status_code: int, outcome: str) -> None:
    assert classify_status(status_code) == outcome


@pytest.mark.parametrize(
    ("outcome", "attempt", "settled"),
    [
        ("retry", 1, "retry"),
        ("retry", 3, "give_up"),
        ("retry", 4, "give_up"),
        ("delivered", 3, "delivered"),
        ("give_up", 1, "give_up"),
    ],
)
def test_settle_outcome_exhausted_retry_gives_up(outcome: str, attempt: int, settled: str) -> None:
    assert settle_outcome(outcome, attempt=attempt, max_attempts=3) == settled  # type: ignore[arg-type]


def test_simulated_failure_names_scenario() -> None:
    failure = simulated_failure(1, 3)
    assert failure.error == "scenario: simulated delivery failure (1 of 3)"
    assert (failure.outcome, failure.status_code) == ("retry", None)


async def test_sender_posts_json_and_keeps_excerpt(
    sender: CallbackSender, receiver: Receiver
) -> None:
    receiver.reply("/cb", 200, body="é" * 2000)
    attempt = await sender.post(receiver.url("/cb"), '{"a": 1}')
    assert attempt.outcome == "delivered"
    assert attempt.status_code == 200
    assert attempt.response_excerpt == "é" * EXCERPT_CHARS_MAX
    [received] = receiver.on("/cb")
    assert (received.body, received.content_type) == ('{"a": 1}', "application/json")


async def test_sender_reports_server_error(sender: CallbackSender, receiver: Receiver) -> None:
    receiver.reply("/cb", 500, body="boom")
    attempt = await sender.post(receiver.url("/cb"), "{}")
    assert (attempt.outcome, attempt.status_code, attempt.error) == ("retry", 500, "HTTP 500")
    assert attempt.response_excerpt == "boom"


async def test_sender_does_not_follow_redirects(sender: CallbackSender, receiver: Receiver) -> None:
    receiver.reply("/moved", 302)
    attempt = await sender.post(receiver.url("/moved"), "{}")
    assert (attempt.outcome, attempt.status_code) == ("give_up", 302)
    assert len(receiver.received) == 1


async def test_sender_times_out(sender: CallbackSender, receiver: Receiver) -> None:
    receiver.stall("/slow", 0.4)
    attempt = await sender.post(receiver.url("/slow"), "{}")
    assert (attempt.outcome, attempt.error) == ("retry", "timeout after 0.2 s")
    assert attempt.status_code is None


async def test_sender_connection_refused_retries(sender: CallbackSender) -> None:
    attempt = await sender.post(f"http://127.0.0.1:{closed_port()}/cb", "{}")
    assert attempt.outcome == "retry"
    assert attempt.error is not None and "Cannot connect" in attempt.error


@pytest.mark.parametrize("url", ["not a url", "ftp://127.0.0.1/cb", "http://"])
async def test_sender_malformed_url_gives_up(sender: CallbackSender, url: str) -> None:
    attempt = await sender.post(url, "{}")
    assert attempt.outcome == "give_up"
    assert attempt.error is not None and attempt.error.startswith("invalid callback URL")


async def test_sender_post_before_open_is_refused() -> None:
    with pytest.raises(RuntimeError):
        await CallbackSender(timeout_s=1, connection_limit=1).post("http://127.0.0.1/", "{}")
