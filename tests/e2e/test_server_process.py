"""A real `pesabox serve` process, driven over HTTP like an integrator would, with its
callbacks going to a real receiver and its ledger checked by the real CLI afterwards."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from pesabox.callbacks.worker import LEASE_S_MIN, SHUTDOWN_GRACE_S
from pesabox.storage.tables import accounts
from tests.e2e import (
    CUSTOMER,
    GRACEFUL_EXIT_CODES,
    HTTP_TIMEOUT_S,
    SERVER_STOP_TIMEOUT_S,
    SHOP,
    SHUTDOWN_COMPLETE,
    LaunchServer,
    PesaboxServer,
    Sandbox,
    bearer,
    callback_items,
    database,
    fetch_token,
    forward_to,
    push_body,
    query_body,
    run_cli,
)
from tests.e2e.receiver import CallbackReceiver

pytestmark = pytest.mark.e2e

EAT = timezone(timedelta(hours=3))
RECEIPT = re.compile(r"^[A-Z0-9]{10}$")
CALLBACK_TIMEOUT_S = 15.0
# The scenario MSISDN whose customer never answers: 1037 once the prompt times out.
NEVER_ANSWERS = "254711000002"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=HTTP_TIMEOUT_S) as client:
        yield client


def push(http: httpx.Client, server: PesaboxServer, token: str, **body: Any) -> dict[str, Any]:
    response = http.post(
        f"{server.base_url}/mpesa/stkpush/v1/processrequest",
        json=push_body(**body),
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    accepted: dict[str, Any] = response.json()
    assert accepted["ResponseCode"] == "0"
    assert accepted["CheckoutRequestID"].startswith("ws_CO_")
    return accepted


def query(
    http: httpx.Client, server: PesaboxServer, token: str, checkout_id: str
) -> httpx.Response:
    return http.post(
        f"{server.base_url}/mpesa/stkpushquery/v1/query",
        json=query_body(checkout_id),
        headers=bearer(token),
    )


def callbacks_of(http: httpx.Client, server: PesaboxServer, checkout_id: str) -> list[Any]:
    response = http.get(
        f"{server.base_url}/sandbox/v1/callbacks", params={"transaction_id": checkout_id}
    )
    assert response.status_code == 200, response.text
    rows: list[Any] = response.json()["callbacks"]
    return rows


def wallet_balance_cents(database_url: str, msisdn: str) -> int:
    with database(database_url) as engine, engine.connect() as conn:
        row = conn.execute(
            select(accounts.c.credits_posted, accounts.c.debits_posted).where(
                accounts.c.code == f"wallet:{msisdn}"
            )
        ).one()
    return int(row.credits_posted) - int(row.debits_posted)


def test_stk_round_trip_through_a_real_server(
    server: PesaboxServer, receiver: CallbackReceiver, http: httpx.Client
) -> None:
    oauth = http.get(
        f"{server.base_url}/oauth/v1/generate",
        params={"grant_type": "client_credentials"},
        auth=(server.sandbox.consumer_key, server.sandbox.consumer_secret),
    )
    assert oauth.status_code == 200, oauth.text
    # Daraja sends expires_in as a string, and clients parse it as one.
    assert oauth.json()["expires_in"] == "3599"
    token = oauth.json()["access_token"]
    balance_before = wallet_balance_cents(server.sandbox.database_url, CUSTOMER)

    accepted = push(http, server, token, amount=1, callback_url=f"{SHOP}/cb")
    checkout_id = accepted["CheckoutRequestID"]

    # The callback: rewritten from https://shop.example/cb to the receiver, path kept.
    received = receiver.wait_for(checkout_id, timeout_s=CALLBACK_TIMEOUT_S)
    assert received.path == "/cb"
    assert received.content_type == "application/json"
    callback = received.json()["Body"]["stkCallback"]
    assert callback["ResultCode"] == 0  # a JSON number in callbacks, unlike in queries
    assert callback["MerchantRequestID"] == accepted["MerchantRequestID"]
    items = callback_items(received.json())
    assert set(items) >= {"Amount", "MpesaReceiptNumber", "TransactionDate", "PhoneNumber"}
    assert items["Amount"] == 1
    receipt = items["MpesaReceiptNumber"]
    assert isinstance(receipt, str) and RECEIPT.match(receipt), receipt
    assert items["PhoneNumber"] == int(CUSTOMER)
    paid_at = datetime.strptime(str(items["TransactionDate"]), "%Y%m%d%H%M%S")
    assert abs(paid_at.replace(tzinfo=EAT) - datetime.now(EAT)) < timedelta(minutes=5)

    # The query agrees, with ResultCode as a string.
    answer = query(http, server, token, checkout_id)
    assert answer.status_code == 200, answer.text
    assert answer.json()["ResultCode"] == "0"
    assert answer.json()["ResponseCode"] == "0"
    assert answer.json()["MerchantRequestID"] == accepted["MerchantRequestID"]

    # The handset: no prompt left, and the confirmation SMS with the receipt and balance.
    handset = http.get(f"{server.base_url}/sandbox/v1/handsets/{CUSTOMER}").json()
    assert handset["prompts"] == []
    [sms] = [m for m in handset["messages"] if receipt in m["body"]]
    assert sms["sender"] == "MPESA"
    assert sms["body"].startswith(f"{receipt} Confirmed. Ksh1.00 sent to")
    balance_after = wallet_balance_cents(server.sandbox.database_url, CUSTOMER)
    assert balance_after <= balance_before - 100
    assert (
        f"New M-PESA balance is Ksh{balance_after // 100:d}.{balance_after % 100:02d}."
        in (sms["body"])
    )

    # The callback inspector: the original URL, the rewritten target, one good attempt, and
    # exactly the bytes the receiver got.
    [delivery] = callbacks_of(http, server, checkout_id)
    assert delivery["status"] == "delivered"
    assert delivery["url"] == f"{SHOP}/cb"
    assert delivery["attempts"] == 1
    assert delivery["payload"] == received.json()
    [attempt] = delivery["attempts_detail"]
    assert attempt["target_url"] == receiver.url("/cb")
    assert attempt["status_code"] == 200
    assert attempt["outcome"] == "delivered"
    assert len(receiver.for_checkout(checkout_id)) == 1

    # The ledger is sound while the server runs, and the server shuts down cleanly.
    verified = run_cli(["ledger", "verify"], server.sandbox.database_url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "ledger OK" in verified.stdout
    assert server.terminate() in GRACEFUL_EXIT_CODES, server.log()
    assert SHUTDOWN_COMPLETE in server.log()
    verified = run_cli(["ledger", "verify"], server.sandbox.database_url)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_callback_is_retried_until_the_receiver_accepts_it(
    server: PesaboxServer, receiver: CallbackReceiver, http: httpx.Client
) -> None:
    receiver.reply("/flaky", 500, 503)
    token = fetch_token(http, server.base_url, server.sandbox)
    checkout_id = push(http, server, token, callback_url=f"{SHOP}/flaky")["CheckoutRequestID"]

    receiver.wait_until(
        lambda items: sum(r.checkout_request_id == checkout_id for r in items) >= 3,
        timeout_s=CALLBACK_TIMEOUT_S,
        what="three attempts",
    )
    posts = receiver.for_checkout(checkout_id)
    # A retry sends the very same payload again.
    assert len({post.body for post in posts}) == 1

    deadline = time.monotonic() + CALLBACK_TIMEOUT_S
    while (delivery := callbacks_of(http, server, checkout_id)[0])["status"] != "delivered":
        assert time.monotonic() < deadline, delivery
        time.sleep(0.05)
    assert delivery["attempts"] == 3
    assert [a["status_code"] for a in delivery["attempts_detail"]] == [500, 503, 200]
    assert [a["outcome"] for a in delivery["attempts_detail"]] == ["retry", "retry", "delivered"]
    time.sleep(0.3)  # room for a wrong fourth POST to show up
    assert len(receiver.for_checkout(checkout_id)) == 3


def test_unanswered_prompt_is_pending_then_times_out_with_1037(
    sandbox: Sandbox,
    receiver: CallbackReceiver,
    launch_server: LaunchServer,
    http: httpx.Client,
) -> None:
    server = launch_server(
        sandbox, {**forward_to(receiver.base_url), "PESABOX_STK_PROMPT_TIMEOUT_S": "2"}
    )
    token = fetch_token(http, server.base_url, sandbox)
    started = time.monotonic()
    checkout_id = push(http, server, token, phone=NEVER_ANSWERS)["CheckoutRequestID"]

    # Pending: Daraja's "being processed" error envelope, carrying the checkout id.
    pending = query(http, server, token, checkout_id)
    assert pending.status_code == 500, pending.text
    assert pending.json()["errorCode"] == "500.001.1001"
    assert pending.json()["errorMessage"] == "The transaction is being processed"
    assert pending.json()["requestId"] == checkout_id
    prompts = http.get(f"{server.base_url}/sandbox/v1/handsets/{NEVER_ANSWERS}").json()["prompts"]
    assert [p["CheckoutRequestID"] for p in prompts] == [checkout_id]

    received = receiver.wait_for(checkout_id, timeout_s=CALLBACK_TIMEOUT_S)
    assert time.monotonic() - started >= 1.5  # not before the prompt timed out
    callback = received.json()["Body"]["stkCallback"]
    assert callback["ResultCode"] == 1037
    assert "CallbackMetadata" not in callback
    answer = query(http, server, token, checkout_id)
    assert answer.status_code == 200, answer.text
    assert answer.json()["ResultCode"] == "1037"
    prompts = http.get(f"{server.base_url}/sandbox/v1/handsets/{NEVER_ANSWERS}").json()["prompts"]
    assert prompts == []


def test_graceful_stop_hands_in_flight_callbacks_back(
    sandbox: Sandbox,
    receiver: CallbackReceiver,
    launch_server: LaunchServer,
    http: httpx.Client,
) -> None:
    # The receiver holds its answer, and the server's POST timeout is longer than its
    # shutdown grace (SHUTDOWN_GRACE_S), so SIGTERM catches the POST in flight and the stop
    # abandons it. A clean stop hands the row's claim back (docs/concepts/callbacks.md,
    # "Shutdown"): the restarted server must send it again at once, not only after the
    # claim's lease (LEASE_S_MIN) has run out.
    receiver.stall(LEASE_S_MIN)
    post_timeout_s = SHUTDOWN_GRACE_S + 15
    server = launch_server(
        sandbox,
        {**forward_to(receiver.base_url), "PESABOX_CALLBACK_TIMEOUT_S": str(post_timeout_s)},
    )
    token = fetch_token(http, server.base_url, sandbox)
    checkout_id = push(http, server, token, callback_url=f"{SHOP}/held")["CheckoutRequestID"]
    first = receiver.wait_for(checkout_id, timeout_s=CALLBACK_TIMEOUT_S)

    stopping = time.monotonic()
    assert server.terminate() in GRACEFUL_EXIT_CODES, server.log()
    assert SHUTDOWN_COMPLETE in server.log()
    assert time.monotonic() - stopping < SERVER_STOP_TIMEOUT_S

    receiver.stall(0)
    restarted = time.monotonic()
    server.start()
    receiver.wait_until(
        lambda items: sum(r.checkout_request_id == checkout_id for r in items) >= 2,
        timeout_s=LEASE_S_MIN / 2,
        what="the re-sent callback",
    )
    assert time.monotonic() - restarted < LEASE_S_MIN / 2
    again = receiver.for_checkout(checkout_id)[1]
    assert again.body == first.body
    deadline = time.monotonic() + CALLBACK_TIMEOUT_S
    while (delivery := callbacks_of(http, server, checkout_id)[0])["status"] != "delivered":
        assert time.monotonic() < deadline, delivery
        time.sleep(0.05)
    # The abandoned POST is not an attempt: the first recorded one is the delivery.
    [attempt] = delivery["attempts_detail"]
    assert attempt["status_code"] == 200
    assert attempt["outcome"] == "delivered"
