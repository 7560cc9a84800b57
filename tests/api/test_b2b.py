"""B2B and Tax Remittance over HTTP: the acknowledgement, the accounts each CommandID moves
with its charge, the failure codes, and the Result at a real receiver on loopback."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from pesabox.domain import accounts
from pesabox.domain.ledger import Purpose, TransferRequest
from pesabox.domain.operators import OperatorKind, OperatorRole
from pesabox.sandbox import fixtures
from pesabox.security.certificates import encrypt_credential
from pesabox.storage import certificates_store, operators_store
from pesabox.storage.db import read_transaction, write_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.ledger_verify import verify
from tests.api.conftest import Gateway
from tests.api.initiator_support import balance_cents as _balance
from tests.api.initiator_support import sandbox_credential as _credential
from tests.support import CallbackReceiver, threaded

B2B = "/mpesa/b2b/v1/paymentrequest"
TAX = "/mpesa/b2b/v1/remittax"
REVENUE = accounts.PLATFORM_REVENUE.code
_funding = itertools.count()


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    # Results are answered on the receiver's own thread (see `tests.support.threaded`).
    with threaded(CallbackReceiver()) as running:
        yield running


def _fund(gateway: Gateway, code: str, shillings: int = 100_000) -> None:
    with write_transaction(gateway.platform.engine) as conn:
        posting = LedgerStore().post(
            conn,
            [
                TransferRequest(
                    f"test:fund:{code}:{next(_funding)}",
                    accounts.FLOAT.code,
                    code,
                    shillings * 100,
                    Purpose.FUNDING,
                )
            ],
            now=0.0,
        )
    assert posting.ok


def _verified(gateway: Gateway) -> None:
    with read_transaction(gateway.platform.engine) as conn:
        assert verify(conn) == []


def _body(gateway: Gateway, receiver: CallbackReceiver, **overrides: Any) -> dict[str, Any]:
    base = receiver.url.rsplit("/", 1)[0]
    body = {
        "Initiator": "testapi",
        "SecurityCredential": _credential(gateway),
        "CommandID": "BusinessPayBill",
        "SenderIdentifierType": "4",
        "RecieverIdentifierType": "4",
        "Amount": "1000",
        "PartyA": "600977",
        "PartyB": "600000",
        "AccountReference": "353353",
        "Requester": "254708374149",
        "Remarks": "OK",
        "QueueTimeOutURL": f"{base}/b2b/queue",
        "ResultURL": f"{base}/b2b/result",
    }
    body.update(overrides)
    return body


async def _result(receiver: CallbackReceiver, conversation: str) -> dict[str, Any]:
    for _ in range(500):
        for payload in receiver.posted_to("/b2b/result"):
            if payload["Result"]["ConversationID"] == conversation:
                result: dict[str, Any] = payload["Result"]
                return result
        await asyncio.sleep(0.02)
    raise AssertionError(f"no Result for {conversation}")


async def _call(
    gateway: Gateway, receiver: CallbackReceiver, path: str = B2B, **overrides: Any
) -> dict[str, Any]:
    reply = await gateway.client.post(
        path, json=_body(gateway, receiver, **overrides), headers=gateway.bearer
    )
    assert reply.status_code == 200, reply.text
    ack = reply.json()
    assert (ack["ResponseCode"], ack["ResponseDescription"]) == (
        "0",
        "Accept the service request successfully.",
    )
    return await _result(receiver, ack["ConversationID"])


def _parameters(result: dict[str, Any]) -> dict[str, Any]:
    return {p["Key"]: p["Value"] for p in result["ResultParameters"]["ResultParameter"]}


# (CommandID, PartyA, PartyB, debited, credited, sender's charge, receiver's charge) for KES 1,000.
MOVES = [
    # PayBill tariff for KES 1,000 is KES 10, split by the receiver's tariff profile.
    ("BusinessPayBill", "600977", "600000", "working:600977", "utility:600000", 0, 1000),
    ("BusinessPayBill", "600000", "600977", "working:600000", "utility:600977", 1000, 0),
    ("BusinessPayBill", "600977", "600999", "working:600977", "utility:600999", 200, 800),
    # Mauzo: 0.5% of KES 1,000, paid by the till.
    ("BusinessBuyGoods", "600977", "977380", "working:600977", "utility:977380", 0, 500),
    ("BusinessPayToBulk", "600977", "600996", "working:600977", "utility:600996", 0, 0),
    ("DisburseFundsToBusiness", "600977", "600977", "utility:600977", "working:600977", 0, 0),
    ("DisburseFundsToBusiness", "600977", "600000", "utility:600977", "working:600000", 0, 0),
    ("BusinessToBusinessTransfer", "600977", "600000", "working:600977", "working:600000", 0, 0),
    (
        "BusinessTransferFromMMFToUtility",
        "600996", "600996", "working:600996", "utility:600996", 0, 0,
    ),
    (
        "BusinessTransferFromUtilityToMMF",
        "600996", "600996", "utility:600996", "working:600996", 0, 0,
    ),
    ("MerchantToMerchantTransfer", "977380", "174380", "utility:977380", "utility:174380", 0, 0),
    (
        "MerchantTransferFromMerchantToWorking",
        "977380", "977380", "utility:977380", "working:977380", 0, 0,
    ),
    (
        "MerchantServicesMMFAccountTransfer",
        "600977", "977380", "working:600977", "working:977380", 0, 0,
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("command", "party_a", "party_b", "debited", "credited", "sender_fee", "receiver_fee"), MOVES
)
async def test_each_command_moves_its_accounts_with_its_charge(
    gateway: Gateway,
    receiver: CallbackReceiver,
    command: str,
    party_a: str,
    party_b: str,
    debited: str,
    credited: str,
    sender_fee: int,
    receiver_fee: int,
) -> None:
    _fund(gateway, debited)
    watched = [
        debited, credited, f"charges:{party_a}", f"charges:{party_b}", REVENUE,
    ]  # fmt: skip
    before = {code: _balance(gateway, code) for code in watched}
    result = await _call(gateway, receiver, CommandID=command, PartyA=party_a, PartyB=party_b)
    assert result["ResultCode"] == 0, result
    expected = dict.fromkeys(watched, 0)
    expected[debited] -= 100_000
    expected[credited] += 100_000
    expected[f"charges:{party_a}"] -= sender_fee
    expected[f"charges:{party_b}"] -= receiver_fee
    expected[REVENUE] += sender_fee + receiver_fee
    assert {code: _balance(gateway, code) - before[code] for code in watched} == expected
    parameters = _parameters(result)
    charge = f"Business Pay Bill Charge|KES|{sender_fee // 100}.00" if sender_fee else ""
    assert parameters["DebitPartyCharges"] == charge
    name = "Working Account" if debited.startswith("working") else "Utility Account"
    assert parameters["DebitPartyAffectedAccountBalance"].startswith(f"{name}|KES|")
    _verified(gateway)


async def test_the_result_has_the_b2b_shape(gateway: Gateway, receiver: CallbackReceiver) -> None:
    _fund(gateway, "working:600977", 5_000)
    left = _balance(gateway, "working:600977") - 19_000
    result = await _call(gateway, receiver, Amount=190, AccountReference="19008")
    assert (result["ResultType"], result["ResultCode"]) == (0, 0)
    assert result["ResultDesc"] == "The service request is processed successfully"
    assert len(result["TransactionID"]) == 10
    items = result["ResultParameters"]["ResultParameter"]
    assert [item["Key"] for item in items] == [
        "DebitAccountBalance", "Amount", "DebitPartyAffectedAccountBalance",
        "TransCompletedTime", "DebitPartyCharges", "ReceiverPartyPublicName", "Currency",
        "InitiatorAccountCurrentBalance",
    ]  # fmt: skip
    parameters = _parameters(result)
    shillings = f"{left // 100}.{left % 100:02d}"
    record = f"{{Amount={{CurrencyCode=KES, MinimumAmount={left}, BasicAmount={shillings}}}}}"
    assert parameters["DebitAccountBalance"] == record
    assert parameters["InitiatorAccountCurrentBalance"] == record
    assert parameters["Amount"] == "190.00"
    assert parameters["DebitPartyAffectedAccountBalance"] == (
        f"Working Account|KES|{shillings}|{shillings}|0.00|0.00"
    )
    assert len(parameters["TransCompletedTime"]) == 14
    assert parameters["TransCompletedTime"].isdigit()
    assert parameters["ReceiverPartyPublicName"] == "600000 - Safaricom Daraja 000"
    assert parameters["Currency"] == "KES"
    assert result["ReferenceData"]["ReferenceItem"] == [
        {"Key": "BillReferenceNumber", "Value": "19008"},
        {
            "Key": "QueueTimeoutURL",
            "Value": "https://internalsandbox.safaricom.co.ke/mpesa/b2bresults/v1/submit",
        },
    ]
    _verified(gateway)


async def test_identifier_types_may_be_json_numbers(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    _fund(gateway, "working:600977")
    result = await _call(gateway, receiver, SenderIdentifierType=4, RecieverIdentifierType=4)
    assert result["ResultCode"] == 0
    _verified(gateway)


async def test_insufficient_funds_moves_nothing(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    _fund(gateway, "working:600977", 500)
    before = _balance(gateway, "working:600977")
    result = await _call(gateway, receiver, Amount=before // 100 + 1)
    assert (result["ResultCode"], result["ResultDesc"]) == (
        1,
        "The balance is insufficient for the transaction.",
    )
    # §7.2's failure shape: a generic TransactionID, one BOCompletedTime parameter.
    assert result["TransactionID"].endswith("0000000")
    parameter = result["ResultParameters"]["ResultParameter"]
    assert parameter["Key"] == "BOCompletedTime"
    assert isinstance(parameter["Value"], int)
    assert result["ReferenceData"]["ReferenceItem"]["Key"] == "QueueTimeoutURL"
    assert _balance(gateway, "working:600977") == before
    _verified(gateway)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"PartyB": "123456"}, 7),  # no such shortcode
        ({"CommandID": "BusinessBuyGoods", "PartyB": "600000"}, 2028),  # not a till
        ({"CommandID": "BusinessPayBill", "PartyB": "977380"}, 2028),  # not a PayBill
        ({"CommandID": "BusinessPayToBulk", "PartyB": "600000"}, 2028),  # no B2C on it
        ({"CommandID": "BusinessTransferFromMMFToUtility", "PartyB": "600000"}, 2028),
        ({"CommandID": "BusinessToBusinessTransfer", "PartyB": "600977"}, 2028),  # itself
        ({"CommandID": "AgencyFloatAdvance"}, 2028),
        ({"SecurityCredential": "x" * 344}, 2001),
        ({"Initiator": "nobody"}, 2001),
    ],
)
async def test_failures_come_back_in_the_result(
    gateway: Gateway, receiver: CallbackReceiver, overrides: dict[str, Any], code: int
) -> None:
    _fund(gateway, "working:600977")
    before = _balance(gateway, "working:600977")
    result = await _call(gateway, receiver, **overrides)
    assert result["ResultCode"] == code
    assert result["ResultParameters"]["ResultParameter"]["Key"] == "BOCompletedTime"
    if code == 2001:
        assert result["ResultDesc"] == "The initiator information is invalid."
    assert _balance(gateway, "working:600977") == before
    _verified(gateway)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Initiator", ""),
        ("CommandID", "PayTaxToKRA"),  # on its own path
        ("SenderIdentifierType", "2"),
        ("RecieverIdentifierType", "1"),
        ("RecieverIdentifierType", None),
        ("Amount", "0"),
        ("PartyB", "12"),
        ("AccountReference", "x" * 14),
        ("AccountReference", None),
        ("Requester", "0708374149"),
        ("Remarks", ""),
        ("ResultURL", "not a url"),
    ],
)
async def test_bad_fields_are_refused_at_once(
    gateway: Gateway, receiver: CallbackReceiver, field: str, value: Any
) -> None:
    reply = await gateway.client.post(
        B2B, json=_body(gateway, receiver, **{field: value}), headers=gateway.bearer
    )
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == "400.002.02"
    assert reply.json()["errorMessage"] == f"Bad Request - Invalid {field}"


async def test_tax_remittance_pays_kra(gateway: Gateway, receiver: CallbackReceiver) -> None:
    _fund(gateway, "working:600977")
    sender = _balance(gateway, "working:600977")
    for n in (1, 2):  # KRA's accounts are made by the first payment, used by the second
        result = await _call(
            gateway,
            receiver,
            TAX,
            CommandID="PayTaxToKRA",
            PartyB="572572",
            AccountReference=f"PRN{n}",
            Amount=239,
        )
        assert result["ResultCode"] == 0
        parameters = _parameters(result)
        assert parameters["ReceiverPartyPublicName"] == "572572 - Kenya Revenue Authority"
        assert parameters["DebitPartyCharges"] == ""
        assert result["ReferenceData"]["ReferenceItem"][0] == {
            "Key": "BillReferenceNumber",
            "Value": f"PRN{n}",
        }
    assert _balance(gateway, "utility:572572") == 2 * 23_900
    assert _balance(gateway, "working:600977") == sender - 2 * 23_900
    _verified(gateway)


@pytest.mark.parametrize(
    ("field", "value"), [("PartyB", "600000"), ("CommandID", "BusinessPayBill")]
)
async def test_tax_remittance_takes_only_kra_and_its_command(
    gateway: Gateway, receiver: CallbackReceiver, field: str, value: str
) -> None:
    body = _body(gateway, receiver, CommandID="PayTaxToKRA", PartyB="572572")
    body[field] = value
    reply = await gateway.client.post(TAX, json=body, headers=gateway.bearer)
    assert reply.status_code == 400
    assert reply.json()["errorMessage"] == f"Bad Request - Invalid {field}"


async def test_an_initiator_without_the_b2b_role_gets_21(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    password = "Payout#Only1"  # noqa: S105 - a test value
    with write_transaction(gateway.platform.engine) as conn:
        operators_store.add_operator(
            conn,
            shortcode="600977",
            username="payouts",
            kind=OperatorKind.API,
            roles=[OperatorRole.B2C_INITIATOR],
            password=password,
            now=gateway.platform.clock.now(),
        )
    _fund(gateway, "working:600977")
    result = await _call(
        gateway, receiver, Initiator="payouts", SecurityCredential=_credential(gateway, password)
    )
    assert (result["ResultCode"], result["ResultDesc"]) == (
        21,
        "The initiator is not allowed to initiate this request",
    )
    _verified(gateway)


async def test_a_credential_for_the_other_environment_is_invalid(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    with write_transaction(gateway.platform.engine) as conn:
        certificates_store.ensure_certificates(conn, 0.0)
        production = certificates_store.get(conn, "production")
    assert production is not None
    credential = encrypt_credential(fixtures.INITIATOR_PASSWORD, production.certificate_pem)
    result = await _call(gateway, receiver, TAX, CommandID="PayTaxToKRA", PartyB="572572",
                         SecurityCredential=credential)  # fmt: skip
    assert (result["ResultCode"], result["ResultDesc"]) == (
        2001,
        "The initiator information is invalid.",
    )
    _verified(gateway)


async def test_b2b_token_errors_use_the_initiator_code(gateway: Gateway) -> None:
    reply = await gateway.client.post(B2B, json={}, headers={"Authorization": "Bearer " + "x" * 28})
    assert reply.status_code == 401
    assert reply.json()["errorCode"] == "401.002.01"


async def test_a_magic_amount_is_a_customer_scenario_not_a_b2b_one(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    # KES 1019 is the sandbox's `expire` amount; it holds a payout to a customer in the queue,
    # but a business paying a business is not a customer's scenario.
    _fund(gateway, "working:600977")
    reply = await gateway.client.post(
        B2B, json=_body(gateway, receiver, Amount="1019"), headers=gateway.bearer
    )
    result = await _result(receiver, reply.json()["ConversationID"])
    assert int(result["ResultCode"]) == 0
    assert receiver.posted_to("/b2b/queue") == []
