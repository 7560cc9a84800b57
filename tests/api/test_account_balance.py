"""Account Balance over HTTP: the acknowledgement, the Result at a real receiver on loopback
with Daraja's pipe-and-ampersand string, and each way the query fails."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from pesabox.domain.operators import OperatorKind, OperatorRole
from pesabox.storage import operators_store
from pesabox.storage.db import read_transaction, write_transaction
from pesabox.storage.ledger_verify import verify
from tests.api.conftest import Gateway
from tests.api.initiator_support import sandbox_credential as _credential
from tests.support import CallbackReceiver, threaded

PAYBILL = "600000"
B2C_SHORTCODE = "600996"
CUSTOMER = "254708374149"
PATH = "/mpesa/accountbalance/v1/query"
PAYBILL_ACCOUNTS = [
    "Working Account",
    "Float Account",
    "Utility Account",
    "Charges Paid Account",
    "Organization Settlement Account",
]


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    # Results are answered on the receiver's own thread (see `tests.support.threaded`).
    with threaded(CallbackReceiver()) as running:
        yield running


def _body(gateway: Gateway, receiver: CallbackReceiver, **overrides: Any) -> dict[str, Any]:
    base = receiver.url.rsplit("/", 1)[0]
    body = {
        "Initiator": "testapi",
        "SecurityCredential": _credential(gateway),
        "CommandID": "AccountBalance",
        "PartyA": PAYBILL,
        "IdentifierType": "4",
        "Remarks": "ok",
        "QueueTimeOutURL": f"{base}/balance/queue",
        "ResultURL": f"{base}/balance/result",
    }
    body.update(overrides)
    return body


async def _result(receiver: CallbackReceiver, conversation: str) -> dict[str, Any]:
    for _ in range(500):
        for payload in receiver.posted_to("/balance/result"):
            if payload["Result"]["ConversationID"] == conversation:
                result: dict[str, Any] = payload["Result"]
                return result
        await asyncio.sleep(0.02)
    raise AssertionError(f"no Result for {conversation}")


async def _query(gateway: Gateway, receiver: CallbackReceiver, **overrides: Any) -> dict[str, Any]:
    reply = await gateway.client.post(
        PATH, json=_body(gateway, receiver, **overrides), headers=gateway.bearer
    )
    assert reply.status_code == 200, reply.text
    return await _result(receiver, reply.json()["ConversationID"])


def _accounts(result: dict[str, Any]) -> dict[str, list[str]]:
    parameters = {p["Key"]: p["Value"] for p in result["ResultParameters"]["ResultParameter"]}
    lines = [line.split("|") for line in parameters["AccountBalance"].split("&")]
    return {line[0]: line[1:] for line in lines}


async def test_account_balance_acknowledges_and_posts_the_result(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    reply = await gateway.client.post(PATH, json=_body(gateway, receiver), headers=gateway.bearer)
    assert reply.status_code == 200, reply.text
    ack = reply.json()
    assert set(ack) == {
        "ConversationID", "OriginatorConversationID", "ResponseCode", "ResponseDescription"
    }  # fmt: skip
    assert ack["ConversationID"].startswith("AG_")
    assert (ack["ResponseCode"], ack["ResponseDescription"]) == (
        "0",
        "Accept the service request successfully.",
    )
    result = await _result(receiver, ack["ConversationID"])
    assert list(result) == [
        "ResultType", "ResultCode", "ResultDesc", "OriginatorConversationID", "ConversationID",
        "TransactionID", "ResultParameters", "ReferenceData",
    ]  # fmt: skip
    assert (result["ResultType"], result["ResultCode"]) == (0, 0)
    assert result["ResultDesc"] == "The service request is processed successfully"
    assert result["OriginatorConversationID"] == ack["OriginatorConversationID"]
    # A query moves no money: Daraja's generic id, the day's receipt prefix and zeros.
    assert result["TransactionID"].endswith("0000000")
    assert len(result["TransactionID"]) == 10
    parameters = result["ResultParameters"]["ResultParameter"]
    assert [p["Key"] for p in parameters] == ["AccountBalance", "BOCompletedTime"]
    assert isinstance(parameters[1]["Value"], int)
    assert len(str(parameters[1]["Value"])) == 14
    accounts = _accounts(result)
    assert list(accounts) == PAYBILL_ACCOUNTS
    for figures in accounts.values():
        assert figures[0] == "KES"
        assert len(figures) == 5
        assert all(figure.lstrip("-").replace(".", "", 1).isdigit() for figure in figures[1:])
    assert accounts["Float Account"] == ["KES", "0.00", "0.00", "0.00", "0.00"]
    assert result["ReferenceData"] == {
        "ReferenceItem": {
            "Key": "QueueTimeoutURL",
            "Value": "https://internalsandbox.safaricom.co.ke/mpesa/abresults/v1/submit",
        }
    }


async def test_the_balance_shows_the_seeded_utility_funds(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    accounts = _accounts(await _query(gateway, receiver, PartyA=B2C_SHORTCODE))
    # Current, available, reserved, uncleared (§9); the seed funds 600996 with KES 10m.
    assert accounts["Utility Account"] == ["KES", "10000000.00", "10000000.00", "0.00", "0.00"]


async def test_the_balance_reflects_a_customer_payment(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    before = _accounts(await _query(gateway, receiver))
    payment = await gateway.client.post(
        f"/sandbox/v1/handsets/{CUSTOMER}/paybill",
        json={"business_number": PAYBILL, "account_number": "A", "amount": 100, "pin": "1234"},
    )
    assert payment.status_code == 200, payment.text
    after = _accounts(await _query(gateway, receiver))
    utility_before = float(before["Utility Account"][1])
    assert float(after["Utility Account"][1]) == pytest.approx(utility_before + 100)
    assert float(after["Utility Account"][2]) == pytest.approx(utility_before + 100)
    with read_transaction(gateway.platform.engine) as conn:
        assert verify(conn) == []


async def test_a_till_shows_its_merchant_account(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    accounts = _accounts(await _query(gateway, receiver, PartyA="977380", IdentifierType="2"))
    assert list(accounts) == [
        "Merchant Account",
        "Working Account",
        "Charges Paid Account",
        "Organization Settlement Account",
    ]


async def test_an_initiator_without_the_balance_role_gets_21(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    password = "Payout#Only1"  # noqa: S105 - a test value
    with write_transaction(gateway.platform.engine) as conn:
        operators_store.add_operator(
            conn,
            shortcode=PAYBILL,
            username="payouts",
            kind=OperatorKind.API,
            roles=[OperatorRole.B2C_INITIATOR],
            password=password,
            now=gateway.platform.clock.now(),
        )
    result = await _query(
        gateway,
        receiver,
        Initiator="payouts",
        SecurityCredential=_credential(gateway, password),
    )
    assert (result["ResultCode"], result["ResultDesc"]) == (
        21,
        "The initiator is not allowed to initiate this request",
    )
    assert "ResultParameters" not in result


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"SecurityCredential": "x" * 344}, 2001),
        ({"Initiator": "nobody"}, 2001),
        # Its initiators are looked up on the shortcode: an unknown one has none.
        ({"PartyA": "612345"}, 2001),
        # A customer's number holds no organisation accounts.
        ({"IdentifierType": "1"}, 2028),
    ],
)
async def test_failures_come_back_in_the_result(
    gateway: Gateway, receiver: CallbackReceiver, overrides: dict[str, Any], code: int
) -> None:
    result = await _query(gateway, receiver, **overrides)
    assert result["ResultCode"] == code
    assert "ResultParameters" not in result
    assert result["ReferenceData"]["ReferenceItem"]["Key"] == "QueueTimeoutURL"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Initiator", ""),
        ("SecurityCredential", None),
        ("CommandID", "Balance"),
        ("PartyA", "12"),
        ("IdentifierType", "3"),
        ("Remarks", ""),
        ("QueueTimeOutURL", "nowhere"),
        ("ResultURL", "not a url"),
    ],
)
async def test_bad_fields_are_refused_at_once(
    gateway: Gateway, receiver: CallbackReceiver, field: str, value: Any
) -> None:
    reply = await gateway.client.post(
        PATH, json=_body(gateway, receiver, **{field: value}), headers=gateway.bearer
    )
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == "400.002.02"
    assert reply.json()["errorMessage"] == f"Bad Request - Invalid {field}"


async def test_b2c_spelling_of_the_initiator_is_refused(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    body = _body(gateway, receiver)
    body["InitiatorName"] = body.pop("Initiator")
    reply = await gateway.client.post(PATH, json=body, headers=gateway.bearer)
    assert reply.json()["errorMessage"] == "Bad Request - Invalid Initiator"


async def test_balance_token_errors_use_the_b2c_code(gateway: Gateway) -> None:
    reply = await gateway.client.post(
        PATH, json={}, headers={"Authorization": "Bearer " + "x" * 28}
    )
    assert reply.status_code == 401
    assert reply.json()["errorCode"] == "401.002.01"
