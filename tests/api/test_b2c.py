"""B2C over HTTP: the acknowledgement, the credential check, the payout and its Result at a
real receiver on loopback, and v3's idempotency."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from pesabox.domain import accounts
from pesabox.domain.ledger import Purpose, TransferRequest
from pesabox.sandbox import fixtures
from pesabox.security.certificates import encrypt_credential
from pesabox.settings import Settings
from pesabox.storage import certificates_store, operators_store
from pesabox.storage.db import read_transaction, write_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.ledger_verify import verify
from tests.api.conftest import Gateway
from tests.api.initiator_support import balance_cents as _balance
from tests.api.initiator_support import sandbox_credential as _credential
from tests.support import CallbackReceiver, threaded

B2C_SHORTCODE = "600996"
CUSTOMER = "254708374149"
V3 = "/mpesa/b2c/v3/paymentrequest"


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    # Results are answered on the receiver's own thread (see `tests.support.threaded`).
    with threaded(CallbackReceiver()) as running:
        yield running


@pytest.fixture
def settings(database_url: str) -> Settings:
    # A short queue timeout, so the queue-timeout scenario reports in a moment.
    return Settings(
        database_url=database_url,
        poll_interval_s=0.05,
        callback_backoff_base_s=0.01,
        callback_backoff_cap_s=0.05,
        initiator_queue_timeout_s=0.5,
    )


def _fund(gateway: Gateway, shortcode: str = B2C_SHORTCODE, shillings: int = 100_000) -> None:
    with write_transaction(gateway.platform.engine) as conn:
        LedgerStore().post(
            conn,
            [
                TransferRequest(
                    f"test:fund:{shortcode}:{shillings}",
                    accounts.FLOAT.code,
                    accounts.org_utility(shortcode).code,
                    shillings * 100,
                    Purpose.FUNDING,
                )
            ],
            now=0.0,
        )


def _body(gateway: Gateway, receiver: CallbackReceiver, **overrides: Any) -> dict[str, Any]:
    base = receiver.url.rsplit("/", 1)[0]
    body = {
        "OriginatorConversationID": "600996_Test_1",
        "InitiatorName": "testapi",
        "SecurityCredential": _credential(gateway),
        "CommandID": "BusinessPayment",
        "Amount": "1000",
        "PartyA": B2C_SHORTCODE,
        "PartyB": CUSTOMER,
        "Remarks": "remarked",
        "QueueTimeOutURL": f"{base}/b2c/queue",
        "ResultURL": f"{base}/b2c/result",
        "Occassion": "ChristmasPay",
    }
    body.update(overrides)
    return body


async def _result(receiver: CallbackReceiver, conversation: str) -> dict[str, Any]:
    for _ in range(500):
        for payload in receiver.posted_to("/b2c/result"):
            if payload["Result"]["ConversationID"] == conversation:
                result: dict[str, Any] = payload["Result"]
                return result
        await asyncio.sleep(0.02)
    raise AssertionError(f"no Result for {conversation}")


async def test_b2c_v3_pays_the_customer_and_posts_the_result(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    _fund(gateway)
    wallet = _balance(gateway, f"wallet:{CUSTOMER}")
    reply = await gateway.client.post(V3, json=_body(gateway, receiver), headers=gateway.bearer)
    assert reply.status_code == 200, reply.text
    ack = reply.json()
    assert ack["OriginatorConversationID"] == "600996_Test_1"
    assert ack["ConversationID"].startswith("AG_")
    assert (ack["ResponseCode"], ack["ResponseDescription"]) == (
        "0",
        "Accept the service request successfully.",
    )
    result = await _result(receiver, ack["ConversationID"])
    assert (result["ResultType"], result["ResultCode"]) == (0, 0)
    assert result["ResultDesc"] == "The service request is processed successfully."
    parameters = {p["Key"]: p["Value"] for p in result["ResultParameters"]["ResultParameter"]}
    assert parameters["TransactionAmount"] == 1000
    assert parameters["TransactionReceipt"] == result["TransactionID"]
    assert parameters["ReceiverPartyPublicName"] == f"{CUSTOMER} - John Doe"
    assert parameters["B2CRecipientIsRegisteredCustomer"] == "Y"
    assert set(parameters) == {
        "TransactionAmount", "TransactionReceipt", "ReceiverPartyPublicName",
        "TransactionCompletedDateTime", "B2CUtilityAccountAvailableFunds",
        "B2CWorkingAccountAvailableFunds", "B2CRecipientIsRegisteredCustomer",
        "B2CChargesPaidAccountAvailableFunds",
    }  # fmt: skip
    assert result["ReferenceData"]["ReferenceItem"]["Key"] == "QueueTimeoutURL"
    assert _balance(gateway, f"wallet:{CUSTOMER}") == wallet + 100_000
    with read_transaction(gateway.platform.engine) as conn:
        assert verify(conn) == []


async def test_a_v3_replay_pays_once(gateway: Gateway, receiver: CallbackReceiver) -> None:
    _fund(gateway)
    wallet = _balance(gateway, f"wallet:{CUSTOMER}")
    first = await gateway.client.post(V3, json=_body(gateway, receiver), headers=gateway.bearer)
    # The same request again, with a freshly encrypted credential as a retrying client sends.
    again = await gateway.client.post(V3, json=_body(gateway, receiver), headers=gateway.bearer)
    assert first.json() == again.json()
    await _result(receiver, first.json()["ConversationID"])
    await asyncio.sleep(0.2)
    assert _balance(gateway, f"wallet:{CUSTOMER}") == wallet + 100_000
    other = await gateway.client.post(
        V3, json=_body(gateway, receiver, Amount="20"), headers=gateway.bearer
    )
    assert other.status_code == 500
    assert other.json()["errorCode"] == "500.002.1001"
    assert other.json()["errorMessage"] == "Duplicate OriginatorConversationID."


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"SecurityCredential": "x" * 344}, 2001),
        ({"InitiatorName": "nobody"}, 2001),
        ({"PartyA": "600000"}, 2028),  # a C2B shortcode cannot pay out
        ({"PartyB": "254799999999"}, "SFC_IC0003"),  # no M-Pesa customer has this number
        ({"Amount": "5"}, 2),
        ({"Amount": "250001"}, 3),
    ],
)
async def test_failures_come_back_in_the_result(
    gateway: Gateway, receiver: CallbackReceiver, overrides: dict[str, Any], code: int | str
) -> None:
    _fund(gateway)
    body = _body(gateway, receiver, OriginatorConversationID=f"fail-{code}", **overrides)
    reply = await gateway.client.post(V3, json=body, headers=gateway.bearer)
    assert reply.status_code == 200, reply.text
    result = await _result(receiver, reply.json()["ConversationID"])
    assert result["ResultCode"] == code
    assert "ResultParameters" not in result
    with read_transaction(gateway.platform.engine) as conn:
        assert verify(conn) == []


async def test_a_credential_for_the_other_environment_is_invalid(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    with write_transaction(gateway.platform.engine) as conn:
        certificates_store.ensure_certificates(conn, 0.0)
        production = certificates_store.get(conn, "production")
    assert production is not None
    credential = encrypt_credential(fixtures.INITIATOR_PASSWORD, production.certificate_pem)
    reply = await gateway.client.post(
        V3, json=_body(gateway, receiver, SecurityCredential=credential), headers=gateway.bearer
    )
    result = await _result(receiver, reply.json()["ConversationID"])
    assert (result["ResultCode"], result["ResultDesc"]) == (
        2001,
        "The initiator information is invalid.",
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("InitiatorName", ""),
        ("CommandID", "Salary"),
        ("Amount", "ten"),
        ("PartyA", "12"),
        ("PartyB", "0708374149"),
        ("Remarks", "x"),
        ("ResultURL", "not a url"),
    ],
)
async def test_bad_fields_are_refused_at_once(
    gateway: Gateway, receiver: CallbackReceiver, field: str, value: str
) -> None:
    reply = await gateway.client.post(
        V3, json=_body(gateway, receiver, **{field: value}), headers=gateway.bearer
    )
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == "400.002.02"
    assert reply.json()["errorMessage"] == f"Bad Request - Invalid {field}"


async def test_b2c_token_errors_use_the_b2c_code(gateway: Gateway) -> None:
    reply = await gateway.client.post(V3, json={}, headers={"Authorization": "Bearer " + "x" * 28})
    assert reply.status_code == 401
    assert reply.json()["errorCode"] == "401.002.01"


async def test_a_short_utility_account_gives_1(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    utility = accounts.org_utility(B2C_SHORTCODE).code
    with write_transaction(gateway.platform.engine) as conn:
        ledger = LedgerStore()
        # Leave KES 50 in the Utility account (the seed funds it generously).
        drained = ledger.balance_cents(conn, utility) - 5_000
        ledger.post(
            conn,
            [TransferRequest("test:drain", utility, accounts.FLOAT.code, drained, Purpose.FUNDING)],
            now=0.0,
        )
    reply = await gateway.client.post(
        V3, json=_body(gateway, receiver, Amount="100"), headers=gateway.bearer
    )
    result = await _result(receiver, reply.json()["ConversationID"])
    assert (result["ResultCode"], result["ResultDesc"]) == (
        1,
        "The balance is insufficient for the transaction.",
    )
    assert _balance(gateway, utility) == 5_000


async def test_repeated_wrong_passwords_lock_the_initiator_until_unlocked(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    wrong = _credential(gateway, password="Wrong-Password-1")
    codes = []
    for n in range(5):
        body = _body(
            gateway, receiver, OriginatorConversationID=f"bad-{n}", SecurityCredential=wrong
        )
        reply = await gateway.client.post(V3, json=body, headers=gateway.bearer)
        codes.append((await _result(receiver, reply.json()["ConversationID"]))["ResultCode"])
    # The fifth failure in a row locks it (PESABOX_OPERATOR_LOCKOUT_THRESHOLD).
    assert codes == [2001, 2001, 2001, 2001, 8006]
    right = await gateway.client.post(
        V3, json=_body(gateway, receiver, OriginatorConversationID="right"), headers=gateway.bearer
    )
    locked = await _result(receiver, right.json()["ConversationID"])
    assert (locked["ResultCode"], locked["ResultDesc"]) == (
        8006,
        "The security credential is locked",
    )
    with write_transaction(gateway.platform.engine) as conn:
        assert operators_store.unlock(conn, shortcode=B2C_SHORTCODE, username="testapi")
    again = await gateway.client.post(
        V3, json=_body(gateway, receiver, OriginatorConversationID="again"), headers=gateway.bearer
    )
    assert (await _result(receiver, again.json()["ConversationID"]))["ResultCode"] == 0


async def test_a_credential_made_with_an_expired_certificate_is_accepted(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    from datetime import UTC, datetime

    from pesabox.security.certificates import load_private_key, self_signed_certificate_pem

    with write_transaction(gateway.platform.engine) as conn:
        certificates_store.ensure_certificates(conn, 0.0)
        stored = certificates_store.get(conn, "sandbox")
    assert stored is not None
    # The environment's own key in a certificate that expired years ago (integration FAQ:
    # the expiry date is never checked).
    expired = self_signed_certificate_pem(
        load_private_key(stored.private_key_pem),
        common_name="expired",
        not_before=datetime(2014, 1, 1, tzinfo=UTC),
        not_after=datetime(2016, 1, 1, tzinfo=UTC),
    )
    credential = encrypt_credential(fixtures.INITIATOR_PASSWORD, expired)
    reply = await gateway.client.post(
        V3, json=_body(gateway, receiver, SecurityCredential=credential), headers=gateway.bearer
    )
    assert (await _result(receiver, reply.json()["ConversationID"]))["ResultCode"] == 0


async def test_a_request_left_in_the_queue_goes_to_the_queue_timeout_url(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    wallet = _balance(gateway, "wallet:254711000005")
    # 254711000005 is the sandbox's `expire` rule: the request waits past the queue timeout.
    reply = await gateway.client.post(
        V3, json=_body(gateway, receiver, PartyB="254711000005"), headers=gateway.bearer
    )
    conversation = reply.json()["ConversationID"]
    for _ in range(300):
        timeouts = [
            p["Result"] for p in receiver.posted_to("/b2c/queue")
            if p["Result"]["ConversationID"] == conversation
        ]  # fmt: skip
        if timeouts:
            break
        await asyncio.sleep(0.02)
    (timeout,) = timeouts
    assert (timeout["ResultType"], timeout["ResultCode"]) == (1, 1037)
    await asyncio.sleep(0.3)
    assert [
        p
        for p in receiver.posted_to("/b2c/result")
        if p["Result"]["ConversationID"] == conversation
    ] == []
    assert _balance(gateway, "wallet:254711000005") == wallet


async def test_a_scenario_makes_the_result_fail_before_it_arrives(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    from pesabox.storage.tables import callbacks

    # 254711000007: the callback (here the Result) fails 3 times, then arrives.
    reply = await gateway.client.post(
        V3, json=_body(gateway, receiver, PartyB="254711000007"), headers=gateway.bearer
    )
    conversation = reply.json()["ConversationID"]
    result = await _result(receiver, conversation)
    assert result["ResultCode"] == 0
    for _ in range(100):
        with read_transaction(gateway.platform.engine) as conn:
            attempts = conn.execute(
                select(callbacks.c.attempts).where(callbacks.c.transaction_id == conversation)
            ).scalar_one()
        if attempts == 4:
            break
        await asyncio.sleep(0.02)
    assert attempts == 4


async def test_a_lock_set_while_a_right_password_was_checked_still_refuses(
    gateway: Gateway,
) -> None:
    from pesabox.core.initiator import InitiatorService
    from pesabox.domain.operators import InitiatorOutcome, InitiatorVerdict
    from pesabox.storage.initiator_store import InitiatorRequest

    row = InitiatorRequest(
        "AG_1", "o-1", 1, "b2c", "BusinessPayment", "testapi", B2C_SHORTCODE, CUSTOMER, 1000,
        "r", "", "http://x.example/r", "http://x.example/q", "{}", "d", "queued", None, None,
        None, 0.0, None,
    )  # fmt: skip
    passed = InitiatorVerdict(InitiatorOutcome.OK, "right password")
    with write_transaction(gateway.platform.engine) as conn:
        assert InitiatorService._still_unlocked(conn, row, passed).ok
        # Racing wrong guesses locked the operator after this request's password was checked.
        for _ in range(5):
            operator = operators_store.get_operator(
                conn, shortcode=B2C_SHORTCODE, username="testapi"
            )
            assert operator is not None
            operators_store.record_failure(
                conn,
                operator_id=operator.id,
                password_changed_at=operator.password_changed_at,
                threshold=5,
                now=1.0,
            )
        refused = InitiatorService._still_unlocked(conn, row, passed)
    assert (refused.outcome, refused.result_code) == (InitiatorOutcome.LOCKED, 8006)


@pytest.mark.parametrize("command", ["SalaryPayment", "BusinessPayment", "PromotionPayment"])
async def test_each_b2c_command_pays(
    gateway: Gateway, receiver: CallbackReceiver, command: str
) -> None:
    wallet = _balance(gateway, f"wallet:{CUSTOMER}")
    reply = await gateway.client.post(
        "/mpesa/b2c/v1/paymentrequest",
        json=_body(gateway, receiver, CommandID=command, Amount="50"),
        headers=gateway.bearer,
    )
    assert reply.status_code == 200, reply.text
    assert (await _result(receiver, reply.json()["ConversationID"]))["ResultCode"] == 0
    assert _balance(gateway, f"wallet:{CUSTOMER}") == wallet + 5_000
    with read_transaction(gateway.platform.engine) as conn:
        assert verify(conn) == []


async def test_b2pochi_pays_the_customer(gateway: Gateway, receiver: CallbackReceiver) -> None:
    reply = await gateway.client.post(
        "/mpesa/b2pochi/v1/paymentrequest",
        json=_body(gateway, receiver, CommandID="BusinessPayToPochi", Amount="50"),
        headers=gateway.bearer,
    )
    assert reply.status_code == 200, reply.text
    assert (await _result(receiver, reply.json()["ConversationID"]))["ResultCode"] == 0
