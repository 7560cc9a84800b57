"""Transaction Status over HTTP: a C2B payment and a B2C payout found by receipt or by
conversation id, their Results' exact keys at a real receiver on loopback, and each way the
query fails."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from pesabox.domain.operators import OperatorKind, OperatorRole
from pesabox.storage import operators_store
from pesabox.storage.db import write_transaction
from tests.api.conftest import Gateway
from tests.api.initiator_support import sandbox_credential as _credential
from tests.support import CallbackReceiver, threaded

PAYBILL = "600000"
B2C_SHORTCODE = "600996"
CUSTOMER = "254708374149"
PATH = "/mpesa/transactionstatus/v1/query"
B2C = "/mpesa/b2c/v3/paymentrequest"
ORGANISATION_PAID_KEYS = [
    "DebitPartyName", "CreditPartyName", "OriginatorConversationID", "InitiatedTime",
    "DebitAccountType", "DebitPartyCharges", "TransactionReason", "ReasonType",
    "TransactionStatus", "FinalisedTime", "Amount", "ConversationID", "ReceiptNo",
]  # fmt: skip
CUSTOMER_PAID_KEYS = [
    "DebitPartyName", "CreditPartyName", "OriginatorConversationID", "InitiatedTime",
    "CreditPartyCharges", "DebitAccountType", "TransactionReason", "ReasonType",
    "TransactionStatus", "FinalisedTime", "Amount", "ConversationID", "ReceiptNo",
]  # fmt: skip


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
        "CommandID": "TransactionStatusQuery",
        "TransactionID": "",
        "OriginalConversationID": "",
        "PartyA": PAYBILL,
        "IdentifierType": "4",
        "ResultURL": f"{base}/status/result",
        "QueueTimeOutURL": f"{base}/status/queue",
        "Remarks": "OK",
        "Occasion": "OK",
    }
    body.update(overrides)
    return body


async def _result(receiver: CallbackReceiver, path: str, conversation: str) -> dict[str, Any]:
    for _ in range(500):
        for payload in receiver.posted_to(path):
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
    return await _result(receiver, "/status/result", reply.json()["ConversationID"])


async def _pay_bill(gateway: Gateway) -> str:
    reply = await gateway.client.post(
        f"/sandbox/v1/handsets/{CUSTOMER}/paybill",
        json={"business_number": PAYBILL, "account_number": "A", "amount": 100, "pin": "1234"},
    )
    assert reply.status_code == 200, reply.text
    trans_id: str = reply.json()["TransID"]
    return trans_id


async def _pay_out(gateway: Gateway, receiver: CallbackReceiver) -> tuple[dict[str, Any], str]:
    """A B2C payout of KES 1000: its acknowledgement and its receipt."""
    base = receiver.url.rsplit("/", 1)[0]
    body = {
        "OriginatorConversationID": "status-test-1",
        "InitiatorName": "testapi",
        "SecurityCredential": _credential(gateway),
        "CommandID": "BusinessPayment",
        "Amount": "1000",
        "PartyA": B2C_SHORTCODE,
        "PartyB": CUSTOMER,
        "Remarks": "remarked",
        "QueueTimeOutURL": f"{base}/b2c/queue",
        "ResultURL": f"{base}/b2c/result",
        "Occassion": "",
    }
    reply = await gateway.client.post(B2C, json=body, headers=gateway.bearer)
    assert reply.status_code == 200, reply.text
    ack: dict[str, Any] = reply.json()
    result = await _result(receiver, "/b2c/result", ack["ConversationID"])
    assert result["ResultCode"] == 0
    return ack, str(result["TransactionID"])


def _items(result: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = result["ResultParameters"]["ResultParameter"]
    return items


def _values(result: dict[str, Any]) -> dict[str, Any]:
    return {item["Key"]: item.get("Value") for item in _items(result)}


async def test_a_c2b_payment_is_found_by_its_receipt(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    trans_id = await _pay_bill(gateway)
    result = await _query(gateway, receiver, TransactionID=trans_id)
    assert list(result) == [
        "ResultType", "ResultCode", "ResultDesc", "OriginatorConversationID", "ConversationID",
        "TransactionID", "ResultParameters", "ReferenceData",
    ]  # fmt: skip
    assert (result["ResultType"], result["ResultCode"]) == (0, 0)
    assert result["ResultDesc"] == "The service request is processed successfully."
    assert result["TransactionID"].endswith("0000000")
    assert [item["Key"] for item in _items(result)] == CUSTOMER_PAID_KEYS
    values = _values(result)
    assert values["ReceiptNo"] == trans_id
    assert values["Amount"] == 100
    assert values["TransactionStatus"] == "Completed"
    assert values["ReasonType"] == "Pay Bill"
    assert values["DebitAccountType"] == "MMF Account For Customer"
    assert values["DebitPartyName"] == f"{CUSTOMER} - JOHN DOE"
    assert values["CreditPartyName"] == f"{PAYBILL} - Safaricom Daraja 000"
    assert isinstance(values["InitiatedTime"], int)
    assert isinstance(values["FinalisedTime"], int)
    # Daraja sends these without a Value: C2B has no conversation ids, and no reason text.
    for key in ("TransactionReason", "OriginatorConversationID", "ConversationID"):
        assert {"Key": key} in _items(result)
    assert result["ReferenceData"] == {"ReferenceItem": {"Key": "Occasion", "Value": "OK"}}


async def test_a_b2c_payout_is_found_by_its_receipt(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    ack, receipt = await _pay_out(gateway, receiver)
    result = await _query(gateway, receiver, TransactionID=receipt, PartyA=B2C_SHORTCODE)
    assert result["ResultCode"] == 0
    assert [item["Key"] for item in _items(result)] == ORGANISATION_PAID_KEYS
    values = _values(result)
    assert values["DebitPartyName"] == f"{B2C_SHORTCODE} - Safaricom Daraja 996"
    assert values["CreditPartyName"] == f"{CUSTOMER} - John Doe"
    assert values["OriginatorConversationID"] == "status-test-1"
    assert values["ConversationID"] == ack["ConversationID"]
    assert values["ReceiptNo"] == receipt
    assert values["Amount"] == 1000
    assert values["DebitAccountType"] == "Utility Account"
    assert values["DebitPartyCharges"].startswith("Fee For B2C Payment|KES|")
    assert values["ReasonType"] == "Business Payment to Customer via API"
    assert values["TransactionStatus"] == "Completed"
    assert values["TransactionReason"] is None


@pytest.mark.parametrize("which", ["ConversationID", "OriginatorConversationID"])
async def test_a_b2c_payout_is_found_by_its_conversation_ids(
    gateway: Gateway, receiver: CallbackReceiver, which: str
) -> None:
    ack, receipt = await _pay_out(gateway, receiver)
    result = await _query(
        gateway, receiver, OriginalConversationID=ack[which], PartyA=B2C_SHORTCODE
    )
    assert result["ResultCode"] == 0
    assert _values(result)["ReceiptNo"] == receipt


async def test_an_empty_occasion_is_a_reference_item_without_a_value(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    trans_id = await _pay_bill(gateway)
    result = await _query(gateway, receiver, TransactionID=trans_id, Occasion="")
    assert result["ReferenceData"] == {"ReferenceItem": {"Key": "Occasion"}}


async def test_an_unknown_transaction_gets_sfc_ic0003(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    result = await _query(gateway, receiver, TransactionID="SKA0000001")
    assert (result["ResultCode"], result["ResultDesc"]) == (
        "SFC_IC0003",
        "The operator does not exist.",
    )
    assert "ResultParameters" not in result
    assert result["ReferenceData"] == {"ReferenceItem": {"Key": "Occasion", "Value": "OK"}}


async def test_another_organisations_transaction_is_unknown(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    trans_id = await _pay_bill(gateway)
    result = await _query(gateway, receiver, TransactionID=trans_id, PartyA=B2C_SHORTCODE)
    assert result["ResultCode"] == "SFC_IC0003"


async def test_a_bad_credential_gets_2001(gateway: Gateway, receiver: CallbackReceiver) -> None:
    trans_id = await _pay_bill(gateway)
    result = await _query(gateway, receiver, TransactionID=trans_id, SecurityCredential="x" * 344)
    assert (result["ResultCode"], result["ResultDesc"]) == (
        2001,
        "The initiator information is invalid.",
    )
    # Daraja's failed status Results still echo the Occasion.
    assert result["ReferenceData"] == {"ReferenceItem": {"Key": "Occasion", "Value": "OK"}}


async def test_an_initiator_without_the_status_role_gets_21(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    password = "Balance#Only1"  # noqa: S105 - a test value
    with write_transaction(gateway.platform.engine) as conn:
        operators_store.add_operator(
            conn,
            shortcode=PAYBILL,
            username="balances",
            kind=OperatorKind.API,
            roles=[OperatorRole.BALANCE_QUERY],
            password=password,
            now=gateway.platform.clock.now(),
        )
    trans_id = await _pay_bill(gateway)
    result = await _query(
        gateway,
        receiver,
        TransactionID=trans_id,
        Initiator="balances",
        SecurityCredential=_credential(gateway, password),
    )
    assert result["ResultCode"] == 21


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"Initiator": ""}, "Initiator"),
        ({"CommandID": "TransactionStatus"}, "CommandID"),
        # Neither reference: the first of them is named.
        ({}, "TransactionID"),
        ({"TransactionID": "abc"}, "TransactionID"),
        ({"TransactionID": "SKA0000001", "PartyA": "12"}, "PartyA"),
        ({"TransactionID": "SKA0000001", "IdentifierType": "9"}, "IdentifierType"),
        ({"TransactionID": "SKA0000001", "ResultURL": "nowhere"}, "ResultURL"),
        ({"TransactionID": "SKA0000001", "Remarks": ""}, "Remarks"),
    ],
)
async def test_bad_fields_get_the_status_familys_code(
    gateway: Gateway, receiver: CallbackReceiver, overrides: dict[str, Any], field: str
) -> None:
    reply = await gateway.client.post(
        PATH, json=_body(gateway, receiver, **overrides), headers=gateway.bearer
    )
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == "400.003.02"
    assert reply.json()["errorMessage"] == f"Bad Request - Invalid {field}"


async def test_status_token_errors_use_the_status_code(gateway: Gateway) -> None:
    reply = await gateway.client.post(
        PATH, json={}, headers={"Authorization": "Bearer " + "x" * 28}
    )
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == "400.003.01"
