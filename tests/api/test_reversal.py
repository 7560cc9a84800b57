"""Reversal over HTTP: a C2B payment made on the sandbox handset, given back by the business
that received it, with its Result at a real receiver on loopback; a second reversal, an
unknown receipt, a short Utility account and the initiator's failures."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from pesabox.domain import accounts
from pesabox.domain.ledger import Purpose, TransferRequest
from pesabox.domain.operators import OperatorKind, OperatorRole
from pesabox.domain.services import reversal
from pesabox.sandbox import fixtures
from pesabox.storage import operators_store, parties_store
from pesabox.storage.db import read_transaction, write_transaction
from pesabox.storage.initiator_store import InitiatorRequest
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.ledger_verify import verify
from pesabox.storage.tables import transfers
from tests.api.conftest import Gateway
from tests.api.initiator_support import balance_cents as _balance
from tests.api.initiator_support import sandbox_credential as _credential
from tests.support import CallbackReceiver, threaded

PAYBILL = "600000"
OTHER_PAYBILL = "600977"
TILL = "977380"
# The head office (store) number the till belongs to.
STORE = "174380"
CUSTOMER = "254708374149"
URL = "/mpesa/reversal/v1/request"
SUCCESS_KEYS = [
    "DebitAccountBalance", "Amount", "TransCompletedTime", "OriginalTransactionID", "Charge",
    "CreditPartyPublicName", "DebitPartyPublicName",
]  # fmt: skip


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    # Results are answered on the receiver's own thread (see `tests.support.threaded`).
    with threaded(CallbackReceiver()) as running:
        yield running


async def _pay(
    gateway: Gateway, *, shortcode: str = PAYBILL, amount: int = 100, menu: str = "paybill"
) -> str:
    entry: dict[str, Any] = {"amount": amount, "pin": "1234"}
    if menu == "paybill":
        entry |= {"business_number": shortcode, "account_number": "A"}
    else:
        entry |= {"till_number": shortcode}
    reply = await gateway.client.post(f"/sandbox/v1/handsets/{CUSTOMER}/{menu}", json=entry)
    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "completed", reply.text
    trans_id: str = reply.json()["TransID"]
    return trans_id


def _reversal_transfers(gateway: Gateway, trans_id: str) -> list[Any]:
    with read_transaction(gateway.platform.engine) as conn:
        return list(
            conn.execute(
                select(transfers).where(transfers.c.id.like(f"{trans_id}:reversal%"))
            ).all()
        )


def _ledger_ok(gateway: Gateway) -> None:
    with read_transaction(gateway.platform.engine) as conn:
        assert verify(conn) == []


def _body(
    gateway: Gateway, receiver: CallbackReceiver, trans_id: str, **overrides: Any
) -> dict[str, Any]:
    base = receiver.url.rsplit("/", 1)[0]
    body = {
        "Initiator": fixtures.INITIATOR_NAME,
        "SecurityCredential": _credential(gateway),
        "CommandID": "TransactionReversal",
        "TransactionID": trans_id,
        "Amount": "100",
        "ReceiverParty": PAYBILL,
        "RecieverIdentifierType": "11",
        "ResultURL": f"{base}/reversal/result",
        "QueueTimeOutURL": f"{base}/reversal/queue",
        "Remarks": "Payment reversal",
    }
    body.update(overrides)
    return body


async def _reverse(
    gateway: Gateway, receiver: CallbackReceiver, trans_id: str, **overrides: Any
) -> dict[str, Any]:
    reply = await gateway.client.post(
        URL, json=_body(gateway, receiver, trans_id, **overrides), headers=gateway.bearer
    )
    assert reply.status_code == 200, reply.text
    return await _result(receiver, reply.json()["ConversationID"])


async def _result(receiver: CallbackReceiver, conversation: str) -> dict[str, Any]:
    for _ in range(500):
        for payload in receiver.posted_to("/reversal/result"):
            if payload["Result"]["ConversationID"] == conversation:
                result: dict[str, Any] = payload["Result"]
                return result
        await asyncio.sleep(0.02)
    raise AssertionError(f"no Result for {conversation}")


def _parameters(result: dict[str, Any]) -> dict[str, Any]:
    return {p["Key"]: p["Value"] for p in result["ResultParameters"]["ResultParameter"]}


async def test_reversal_gives_the_payment_back(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    wallet, utility = f"wallet:{CUSTOMER}", accounts.org_utility(PAYBILL).code
    wallet_before, utility_before = _balance(gateway, wallet), _balance(gateway, utility)
    trans_id = await _pay(gateway)
    assert _balance(gateway, utility) == utility_before + 10_000
    reply = await gateway.client.post(
        URL, json=_body(gateway, receiver, trans_id), headers=gateway.bearer
    )
    assert reply.status_code == 200, reply.text
    ack = reply.json()
    assert ack["ConversationID"].startswith("AG_")
    assert (ack["ResponseCode"], ack["ResponseDescription"]) == (
        "0",
        "Accept the service request successfully.",
    )
    result = await _result(receiver, ack["ConversationID"])
    assert (result["ResultType"], result["ResultCode"]) == (0, 0)
    assert result["ResultDesc"] == "The service request is processed successfully."
    assert result["OriginatorConversationID"] == ack["OriginatorConversationID"]
    assert len(result["TransactionID"]) == 10
    assert [p["Key"] for p in result["ResultParameters"]["ResultParameter"]] == SUCCESS_KEYS
    parameters = _parameters(result)
    remaining = f"{utility_before // 100}.00"
    assert (
        parameters["DebitAccountBalance"]
        == f"Utility Account|KES|{remaining}|{remaining}|0.00|0.00"
    )
    assert parameters["Amount"] == 100
    assert isinstance(parameters["TransCompletedTime"], int)
    assert len(str(parameters["TransCompletedTime"])) == 14
    assert parameters["OriginalTransactionID"] == trans_id
    assert parameters["Charge"] == 0
    assert parameters["CreditPartyPublicName"] == f"{CUSTOMER} - JOHN DOE"
    assert parameters["DebitPartyPublicName"] == f"{PAYBILL} - Safaricom Daraja 000"
    assert result["ReferenceData"]["ReferenceItem"]["Value"].endswith("/reversalresults/v1/submit")
    # The customer is whole again (principal and any transaction cost), the Utility down.
    assert _balance(gateway, wallet) == wallet_before
    assert _balance(gateway, utility) == utility_before
    [posted] = _reversal_transfers(gateway, trans_id)
    assert (posted.id, posted.purpose, posted.amount_cents) == (
        f"{trans_id}:reversal",
        Purpose.REVERSAL,
        10_000,
    )
    assert posted.transaction_id == result["TransactionID"]
    with read_transaction(gateway.platform.engine) as conn:
        texts = [m["body"] for m in parties_store.list_sms(conn, CUSTOMER)]
    assert f"Transaction {trans_id} to Safaricom Daraja 000 has been reversed" in texts[0]
    assert texts[0].startswith(f"{result['TransactionID']} Confirmed.")
    _ledger_ok(gateway)


@pytest.mark.parametrize(
    ("shortcode", "shillings", "customer_fee_cents", "business_fee_cents"),
    [
        (OTHER_PAYBILL, 1000, 1000, 0),  # business_bouquet: the customer paid a fee
        (PAYBILL, 1000, 0, 1000),  # customer_bouquet: the business paid one
    ],
)
async def test_fees_on_reversal(
    gateway: Gateway,
    receiver: CallbackReceiver,
    shortcode: str,
    shillings: int,
    customer_fee_cents: int,
    business_fee_cents: int,
) -> None:
    wallet, charges = f"wallet:{CUSTOMER}", accounts.org_charges_paid(shortcode).code
    wallet_before, charges_before = _balance(gateway, wallet), _balance(gateway, charges)
    revenue_before = _balance(gateway, accounts.PLATFORM_REVENUE.code)
    trans_id = await _pay(gateway, shortcode=shortcode, amount=shillings)
    assert _balance(gateway, wallet) == wallet_before - shillings * 100 - customer_fee_cents
    result = await _reverse(
        gateway, receiver, trans_id, ReceiverParty=shortcode, Amount=str(shillings)
    )
    assert result["ResultCode"] == 0
    assert _parameters(result)["Charge"] == 0
    # The customer's transaction cost comes back; the business's charge stays paid.
    assert _balance(gateway, wallet) == wallet_before
    assert _balance(gateway, charges) == charges_before - business_fee_cents
    assert _balance(gateway, accounts.PLATFORM_REVENUE.code) == revenue_before + business_fee_cents
    expected = {f"{trans_id}:reversal"} | (
        {f"{trans_id}:reversal:customer-fee"} if customer_fee_cents else set()
    )
    assert {row.id for row in _reversal_transfers(gateway, trans_id)} == expected
    _ledger_ok(gateway)


async def test_a_second_reversal_is_refused(gateway: Gateway, receiver: CallbackReceiver) -> None:
    trans_id = await _pay(gateway)
    first = await _reverse(gateway, receiver, trans_id)
    assert first["ResultCode"] == 0
    wallet = _balance(gateway, f"wallet:{CUSTOMER}")
    again = await _reverse(gateway, receiver, trans_id)
    assert (again["ResultCode"], again["ResultDesc"]) == (
        "R000001",
        "The transaction has already been reversed.",
    )
    assert "ResultParameters" not in again
    assert len(_reversal_transfers(gateway, trans_id)) == 1
    assert _balance(gateway, f"wallet:{CUSTOMER}") == wallet
    _ledger_ok(gateway)


async def test_concurrent_reversals_reverse_once(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    trans_id = await _pay(gateway)
    wallet = _balance(gateway, f"wallet:{CUSTOMER}")
    replies = await asyncio.gather(
        *[
            gateway.client.post(
                URL, json=_body(gateway, receiver, trans_id), headers=gateway.bearer
            )
            for _ in range(4)
        ]
    )
    results = [await _result(receiver, reply.json()["ConversationID"]) for reply in replies]
    assert sorted(str(r["ResultCode"]) for r in results) == ["0", "R000001", "R000001", "R000001"]
    assert len(_reversal_transfers(gateway, trans_id)) == 1
    assert _balance(gateway, f"wallet:{CUSTOMER}") == wallet + 10_000
    _ledger_ok(gateway)


async def test_two_writers_reverse_once(gateway: Gateway) -> None:
    """Two db transactions (as two processes' ledger writers would run them) reversing the
    same payment: the second waits for the first and finds its transfers."""
    engine = gateway.platform.engine
    trans_id = await _pay(gateway)
    request = InitiatorRequest(
        conversation_id="AG_20260101_direct", originator_conversation_id="direct", app_id=0,
        api="reversal", command_id="TransactionReversal", initiator=fixtures.INITIATOR_NAME,
        party_a=PAYBILL, party_b=None, amount_cents=10_000, remarks="Payment reversal",
        occasion="", result_url="", queue_timeout_url="",
        details=f'{{"TransactionID": "{trans_id}"}}', request_digest="", status="queued",
        result_code=None, result_desc=None, transaction_id=None, created_at=0.0,
        completed_at=None,
    )  # fmt: skip

    def second() -> str:
        with write_transaction(engine) as conn:
            return reversal.reverse(conn, LedgerStore(), request, now=1.0).code

    with write_transaction(engine) as conn:
        first = reversal.reverse(conn, LedgerStore(), request, now=1.0).code
        waiting = asyncio.create_task(asyncio.to_thread(second))
        await asyncio.sleep(0.3)
        assert not waiting.done()
    assert (first, await waiting) == ("0", "R000001")
    assert len(_reversal_transfers(gateway, trans_id)) == 1
    _ledger_ok(gateway)


@pytest.mark.parametrize("case", ["unknown", "other_shortcode", "other_amount", "failed"])
async def test_an_invalid_original_gives_r000002(
    gateway: Gateway, receiver: CallbackReceiver, case: str
) -> None:
    overrides: dict[str, Any] = {}
    if case == "unknown":
        trans_id = "SKC82PACB8"
    elif case == "other_shortcode":
        # Paid to another organisation: 600000 may not reverse it, nor learn it exists.
        trans_id = await _pay(gateway, shortcode=OTHER_PAYBILL)
    elif case == "other_amount":
        trans_id = await _pay(gateway)
        overrides["Amount"] = "50"
    else:
        reply = await gateway.client.post(
            f"/sandbox/v1/handsets/{CUSTOMER}/paybill",
            json={"business_number": PAYBILL, "account_number": "A", "amount": 100, "pin": "0"},
        )
        assert reply.json()["status"] == "failed"
        trans_id = reply.json()["TransID"]
    result = await _reverse(gateway, receiver, trans_id, **overrides)
    assert (result["ResultCode"], result["ResultDesc"]) == (
        "R000002",
        "The OriginalTransactionID is invalid.",
    )
    assert result["TransactionID"].endswith("0000000")
    assert "ResultParameters" not in result
    assert _reversal_transfers(gateway, trans_id) == []
    _ledger_ok(gateway)


async def test_a_short_utility_account_gives_1(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    trans_id = await _pay(gateway)
    utility = accounts.org_utility(PAYBILL).code
    with write_transaction(gateway.platform.engine) as conn:
        ledger = LedgerStore()
        # The business has moved its money on: KES 50 is left, less than the payment.
        drained = ledger.balance_cents(conn, utility) - 5_000
        ledger.post(
            conn,
            [TransferRequest("test:drain", utility, accounts.FLOAT.code, drained, Purpose.FUNDING)],
            now=0.0,
        )
    wallet = _balance(gateway, f"wallet:{CUSTOMER}")
    result = await _reverse(gateway, receiver, trans_id)
    assert (result["ResultCode"], result["ResultDesc"]) == (
        1,
        "The balance is insufficient for the transaction.",
    )
    assert _balance(gateway, utility) == 5_000
    assert _balance(gateway, f"wallet:{CUSTOMER}") == wallet
    assert _reversal_transfers(gateway, trans_id) == []
    _ledger_ok(gateway)


async def test_a_buy_goods_payment_is_reversed_by_its_till(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    wallet = _balance(gateway, f"wallet:{CUSTOMER}")
    trans_id = await _pay(gateway, shortcode=TILL, menu="buygoods")
    result = await _reverse(
        gateway, receiver, trans_id, ReceiverParty=TILL, RecieverIdentifierType="2"
    )
    assert result["ResultCode"] == 0
    assert _parameters(result)["DebitPartyPublicName"] == f"{TILL} - Daraja Test Shop"
    assert _balance(gateway, f"wallet:{CUSTOMER}") == wallet
    _ledger_ok(gateway)


async def test_a_till_payment_is_reversed_by_its_store(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    trans_id = await _pay(gateway, shortcode=TILL, menu="buygoods")
    result = await _reverse(gateway, receiver, trans_id, ReceiverParty=STORE)
    assert result["ResultCode"] == 0
    assert [row.id for row in _reversal_transfers(gateway, trans_id)] == [f"{trans_id}:reversal"]
    _ledger_ok(gateway)


async def test_a_bad_credential_gives_2001(gateway: Gateway, receiver: CallbackReceiver) -> None:
    trans_id = await _pay(gateway)
    result = await _reverse(gateway, receiver, trans_id, SecurityCredential="x" * 344)
    assert (result["ResultCode"], result["ResultDesc"]) == (
        2001,
        "The initiator information is invalid.",
    )
    assert _reversal_transfers(gateway, trans_id) == []


async def test_an_initiator_without_the_role_gets_21(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    password = "Payouts-Only-2026!"  # noqa: S105 - a test operator's password
    with write_transaction(gateway.platform.engine) as conn:
        operators_store.add_operator(
            conn,
            shortcode=PAYBILL,
            username="payoutsonly",
            kind=OperatorKind.API,
            roles=[OperatorRole.B2C_INITIATOR],
            password=password,
            now=gateway.platform.clock.now(),
        )
    trans_id = await _pay(gateway)
    result = await _reverse(
        gateway,
        receiver,
        trans_id,
        Initiator="payoutsonly",
        SecurityCredential=_credential(gateway, password),
    )
    assert (result["ResultCode"], result["ResultDesc"]) == (
        21,
        "The initiator is not allowed to initiate this request",
    )
    assert _reversal_transfers(gateway, trans_id) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Initiator", ""),
        ("CommandID", "Reversal"),
        ("TransactionID", "SHORT"),
        ("Amount", "ten"),
        ("ReceiverParty", "12"),
        ("RecieverIdentifierType", "9"),
        ("ResultURL", "not a url"),
        ("Remarks", "x"),
    ],
)
async def test_bad_fields_are_refused_at_once(
    gateway: Gateway, receiver: CallbackReceiver, field: str, value: str
) -> None:
    body = _body(gateway, receiver, "SKC82PACB8", **{field: value})
    reply = await gateway.client.post(URL, json=body, headers=gateway.bearer)
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == "400.002.02"
    assert reply.json()["errorMessage"] == f"Bad Request - Invalid {field}"


async def test_the_correct_spelling_is_a_missing_field(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    body = _body(gateway, receiver, "SKC82PACB8")
    body["ReceiverIdentifierType"] = body.pop("RecieverIdentifierType")
    reply = await gateway.client.post(URL, json=body, headers=gateway.bearer)
    assert reply.status_code == 400
    assert reply.json()["errorMessage"] == "Bad Request - Invalid RecieverIdentifierType"


async def test_reversal_token_errors_use_404_001_03(gateway: Gateway) -> None:
    reply = await gateway.client.post(URL, json={}, headers={"Authorization": "Bearer " + "x" * 28})
    assert reply.status_code == 404
    assert reply.json()["errorCode"] == "404.001.03"
    assert reply.json()["errorMessage"] == "Invalid Access Token"


async def test_a_reversed_payment_gives_back_its_bonga_points(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    points = accounts.customer_bonga(CUSTOMER).code
    trans_id = await _pay(gateway, amount=1_000)
    earned = _balance(gateway, points)
    assert earned > 0
    result = await _reverse(gateway, receiver, trans_id, Amount="1000")
    assert result["ResultCode"] == 0
    assert _balance(gateway, points) == 0
    with read_transaction(gateway.platform.engine) as conn:
        [back] = conn.execute(
            select(transfers).where(transfers.c.id == f"{trans_id}:bonga:reversal")
        ).all()
    assert (back.purpose, back.amount_cents) == (Purpose.REVERSAL, earned)
    # A second reversal is refused and takes nothing more.
    again = await _reverse(gateway, receiver, trans_id, Amount="1000")
    assert again["ResultCode"] == "R000001"
    assert _balance(gateway, points) == 0
    _ledger_ok(gateway)
