"""C2B through a real `pesabox serve`: URL registration, the business's validation answered by
a real receiver on loopback, confirmations through the outbox, and a payment left waiting
for validation by a server killed with SIGKILL, decided by ResponseType once a restarted
server's sweeper finds it overdue."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from pesabox.storage.tables import accounts, c2b_payments
from tests.e2e import (
    CUSTOMER,
    HTTP_TIMEOUT_S,
    SHOP,
    LaunchServer,
    PesaboxServer,
    Sandbox,
    bearer,
    database,
    fetch_token,
    forward_to,
    run_cli,
    run_cli_ok,
)
from tests.e2e.receiver import CallbackReceiver, Received

pytestmark = pytest.mark.e2e

PAYBILL = "600000"
VALIDATE = "/c2b/validate"
CONFIRM = "/c2b/confirm"
CALLBACK_TIMEOUT_S = 15.0
# The first server's validation timeout in the crash test: the deadline written on the row
# is created_at + this, so the restarted server's sweeper may decide 1 s (its grace) later.
CRASH_VALIDATION_TIMEOUT_S = 3.0
# Long enough that the killed server is certainly still waiting for the answer.
STALL_S = 30.0
DECIDE_TIMEOUT_S = 20.0
_POLL_S = 0.05


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=HTTP_TIMEOUT_S) as client:
        yield client


# --- helpers --------------------------------------------------------------------------------


def register(
    http: httpx.Client, server: PesaboxServer, token: str, *, response_type: str
) -> dict[str, Any]:
    """Register the merchant's https://shop.example URLs (forwarded to the receiver)."""
    response = http.post(
        f"{server.base_url}/mpesa/c2b/v1/registerurl",
        json={
            "ShortCode": PAYBILL,
            "ResponseType": response_type,
            "ConfirmationURL": f"{SHOP}{CONFIRM}",
            "ValidationURL": f"{SHOP}{VALIDATE}",
        },
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["ResponseCode"] == "0"
    # Safaricom's misspelling and the correct name, both carrying the same ID.
    assert body["OriginatorCoversationID"] == body["OriginatorConversationID"] != ""
    return body


def pay_bill(
    http: httpx.Client, server: PesaboxServer, *, amount: int, account: str
) -> dict[str, Any]:
    """The customer pays from the handset's menu; the reply comes once it is decided."""
    response = http.post(
        f"{server.base_url}/sandbox/v1/handsets/{CUSTOMER}/paybill",
        json={"business_number": PAYBILL, "account_number": account, "amount": amount,
              "pin": "1234"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def payment_of(http: httpx.Client, server: PesaboxServer, trans_id: str) -> dict[str, Any]:
    response = http.get(f"{server.base_url}/sandbox/v1/c2b/payments/{trans_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def callbacks_of(http: httpx.Client, server: PesaboxServer, trans_id: str) -> list[Any]:
    response = http.get(
        f"{server.base_url}/sandbox/v1/callbacks", params={"transaction_id": trans_id}
    )
    assert response.status_code == 200, response.text
    rows: list[Any] = response.json()["callbacks"]
    return rows


def messages_about(http: httpx.Client, server: PesaboxServer, trans_id: str) -> list[str]:
    handset = http.get(f"{server.base_url}/sandbox/v1/handsets/{CUSTOMER}")
    assert handset.status_code == 200, handset.text
    return [m["body"] for m in handset.json()["messages"] if trans_id in m["body"]]


def balance_cents(database_url: str, code: str) -> int:
    with database(database_url) as engine, engine.connect() as conn:
        row = conn.execute(
            select(accounts.c.credits_posted, accounts.c.debits_posted).where(
                accounts.c.code == code
            )
        ).one()
    return int(row.credits_posted) - int(row.debits_posted)


def stored_status(database_url: str, trans_id: str) -> str:
    with database(database_url) as engine, engine.connect() as conn:
        status = conn.execute(
            select(c2b_payments.c.status).where(c2b_payments.c.trans_id == trans_id)
        ).scalar_one()
    return str(status)


def posted(receiver: CallbackReceiver, path: str, trans_id: str) -> list[Received]:
    return [r for r in receiver.on(path) if r.json().get("TransID") == trans_id]


def wait_for_post(receiver: CallbackReceiver, path: str, trans_id: str | None) -> Received:
    """The first POST to `path` (for `trans_id`, or for any payment)."""

    def arrived(items: list[Received]) -> bool:
        return any(
            r.path == path and (trans_id is None or r.json().get("TransID") == trans_id)
            for r in items
        )

    receiver.wait_until(arrived, timeout_s=CALLBACK_TIMEOUT_S, what=f"a POST to {path}")
    return next(
        r for r in receiver.on(path) if trans_id is None or r.json().get("TransID") == trans_id
    )


def wait_delivered(http: httpx.Client, server: PesaboxServer, trans_id: str) -> dict[str, Any]:
    """The confirmation's outbox row, once the server has recorded its delivery."""
    deadline = time.monotonic() + CALLBACK_TIMEOUT_S
    while True:
        rows = [c for c in callbacks_of(http, server, trans_id) if c["kind"] == "c2b_confirmation"]
        if rows and rows[0]["status"] == "delivered":
            [row] = rows
            return dict(row)
        assert time.monotonic() < deadline, f"confirmation of {trans_id} not delivered: {rows}"
        time.sleep(_POLL_S)


def assert_ledger_verifies(database_url: str) -> None:
    verified = run_cli(["ledger", "verify", "--database-url", database_url], database_url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "ledger OK" in verified.stdout


# --- validation answered by the business ----------------------------------------------------


def test_c2b_validation_rejection_cancels_and_acceptance_completes(
    server: PesaboxServer, receiver: CallbackReceiver, http: httpx.Client
) -> None:
    database_url = server.sandbox.database_url
    token = fetch_token(http, server.base_url, server.sandbox)
    register(http, server, token, response_type="Completed")
    switched = http.put(
        f"{server.base_url}/sandbox/v1/shortcodes/{PAYBILL}/validation", json={"enabled": True}
    )
    assert switched.status_code == 200, switched.text
    assert switched.json()["validation_enabled"] is True

    # The business refuses the account number: the payment is cancelled, nothing moves.
    receiver.answer(VALIDATE, {"ResultCode": "C2B00012", "ResultDesc": "Rejected"})
    wallet_before = balance_cents(database_url, f"wallet:{CUSTOMER}")
    utility_before = balance_cents(database_url, f"utility:{PAYBILL}")
    refused = pay_bill(http, server, amount=100, account="ACC1")
    assert refused["status"] == "cancelled", refused
    assert refused["validation_result"] == "C2B00012"
    refused_id = refused["TransID"]
    [validation] = posted(receiver, VALIDATE, refused_id)
    asked = validation.json()
    assert asked["TransactionType"] == "Pay Bill"
    assert asked["TransAmount"] == "100.00"
    assert asked["BusinessShortCode"] == PAYBILL
    assert asked["BillRefNumber"] == "ACC1"
    assert asked["OrgAccountBalance"] == ""
    assert balance_cents(database_url, f"wallet:{CUSTOMER}") == wallet_before
    assert balance_cents(database_url, f"utility:{PAYBILL}") == utility_before
    [sms] = messages_about(http, server, refused_id)
    assert "Invalid Account Number" in sms
    assert "No money has been deducted" in sms
    assert [c["kind"] for c in callbacks_of(http, server, refused_id)] == ["c2b_validation"]

    # The business accepts and names its own reference: completed, confirmed, echoed.
    receiver.answer(
        VALIDATE, {"ResultCode": "0", "ResultDesc": "Accepted", "ThirdPartyTransID": "SHOP-1"}
    )
    accepted = pay_bill(http, server, amount=150, account="ACC2")
    assert accepted["status"] == "completed", accepted
    assert accepted["validation_result"] == "0"
    assert accepted["ThirdPartyTransID"] == "SHOP-1"
    trans_id = accepted["TransID"]
    confirmation = wait_for_post(receiver, CONFIRM, trans_id).json()
    assert confirmation["ThirdPartyTransID"] == "SHOP-1"
    assert confirmation["TransAmount"] == "150.00"
    assert confirmation["BillRefNumber"] == "ACC2"
    utility_after = balance_cents(database_url, f"utility:{PAYBILL}")
    assert utility_after == utility_before + 15_000
    assert confirmation["OrgAccountBalance"] == f"{utility_after / 100:.2f}"
    [validation] = posted(receiver, VALIDATE, trans_id)
    assert validation.at_s < receiver.on(CONFIRM)[-1].at_s
    delivered = wait_delivered(http, server, trans_id)
    assert delivered["url"] == f"{SHOP}{CONFIRM}"
    assert sorted(c["kind"] for c in callbacks_of(http, server, trans_id)) == [
        "c2b_confirmation",
        "c2b_validation",
    ]
    # The refused payment never got a confirmation; the accepted one got exactly one.
    assert posted(receiver, CONFIRM, refused_id) == []
    assert len(posted(receiver, CONFIRM, trans_id)) == 1
    assert_ledger_verifies(database_url)


# --- a server killed while waiting for validation ------------------------------------------


@pytest.mark.parametrize(
    ("response_type", "status", "result_code"),
    [("Completed", "completed", 0), ("Cancelled", "cancelled", 1032)],
)
def test_c2b_payment_left_validating_by_a_crash_is_decided_by_response_type(
    sandbox: Sandbox,
    receiver: CallbackReceiver,
    launch_server: LaunchServer,
    http: httpx.Client,
    response_type: str,
    status: str,
    result_code: int,
) -> None:
    database_url = sandbox.database_url
    run_cli_ok(["shortcodes", "validation", PAYBILL, "on", "--database-url", database_url],
               database_url)  # fmt: skip
    settings = {
        **forward_to(receiver.base_url),
        "PESABOX_C2B_VALIDATION_TIMEOUT_S": f"{CRASH_VALIDATION_TIMEOUT_S:g}",
    }
    server = launch_server(sandbox, settings)
    token = fetch_token(http, server.base_url, sandbox)
    register(http, server, token, response_type=response_type)
    wallet_before = balance_cents(database_url, f"wallet:{CUSTOMER}")
    utility_before = balance_cents(database_url, f"utility:{PAYBILL}")

    # The business's server hangs; the payment waits for its answer when the server dies.
    receiver.stall(STALL_S)
    simulated = http.post(
        f"{server.base_url}/mpesa/c2b/v1/simulate",
        json={"ShortCode": PAYBILL, "CommandID": "CustomerPayBillOnline", "Amount": 100,
              "Msisdn": CUSTOMER, "BillRefNumber": "CRASH"},
        headers=bearer(token),
    )  # fmt: skip
    assert simulated.status_code == 200, simulated.text
    assert simulated.json()["ResponseCode"] == "0"
    trans_id = wait_for_post(receiver, VALIDATE, None).json()["TransID"]
    listed = http.get(f"{server.base_url}/sandbox/v1/c2b/payments", params={"shortcode": PAYBILL})
    assert listed.status_code == 200, listed.text
    [waiting] = [p for p in listed.json()["payments"] if p["TransID"] == trans_id]
    assert waiting["status"] == "validating"
    server.kill()
    # Killed before its own timeout could decide: the row is left validating, money held.
    assert stored_status(database_url, trans_id) == "validating"
    receiver.stall(0)

    server.start()
    deadline = time.monotonic() + DECIDE_TIMEOUT_S
    while (decided := payment_of(http, server, trans_id))["status"] == "validating":
        assert time.monotonic() < deadline, f"{trans_id} still validating after restart"
        time.sleep(_POLL_S)
    assert decided["status"] == status, decided
    assert decided["validation_result"] == "timeout"
    assert decided["ResultCode"] == result_code
    # Not before the deadline written when the dead server opened the payment.
    assert decided["completed_at"] - decided["created_at"] >= CRASH_VALIDATION_TIMEOUT_S
    fee_cents = round(decided["customer_fee"] * 100)

    if status == "completed":
        confirmation = wait_for_post(receiver, CONFIRM, trans_id).json()
        assert confirmation["BillRefNumber"] == "CRASH"
        assert confirmation["ThirdPartyTransID"] == ""
        wait_delivered(http, server, trans_id)
        utility_after = balance_cents(database_url, f"utility:{PAYBILL}")
        assert utility_after == utility_before + 10_000
        assert confirmation["OrgAccountBalance"] == f"{utility_after / 100:.2f}"
        assert balance_cents(database_url, f"wallet:{CUSTOMER}") == (
            wallet_before - 10_000 - fee_cents
        )
        expected_confirmations = 1
    else:
        # The hold is released: the customer has every cent back, the business nothing.
        assert balance_cents(database_url, f"wallet:{CUSTOMER}") == wallet_before
        assert balance_cents(database_url, f"utility:{PAYBILL}") == utility_before
        [sms] = messages_about(http, server, trans_id)
        assert "No money has been deducted" in sms
        expected_confirmations = 0

    # A moment for any duplicate to show; the restarted server did not ask the business
    # again, and sent exactly the confirmations ResponseType calls for.
    time.sleep(0.5)
    assert len(posted(receiver, VALIDATE, trans_id)) == 1
    assert len(posted(receiver, CONFIRM, trans_id)) == expected_confirmations
    listed = callbacks_of(http, server, trans_id)
    kinds = [c["kind"] for c in listed]
    assert kinds.count("c2b_confirmation") == expected_confirmations
    # The sweeper records that the business was asked and no answer was kept.
    (validation,) = [c for c in listed if c["kind"] == "c2b_validation"]
    assert validation["status"] == "failed"
    assert "process asking stopped" in validation["last_error"]
    assert_ledger_verifies(database_url)
