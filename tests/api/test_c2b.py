"""C2B over HTTP: registration, the three entry points, and every row of the validation table,
with a real receiver on loopback answering validation and taking confirmations."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from pesabox.settings import Settings
from pesabox.storage.db import read_transaction, write_transaction
from pesabox.storage.ledger_verify import verify
from pesabox.storage.tables import accounts, c2b_payments, callbacks, shortcodes
from tests.api.conftest import Gateway
from tests.support import CallbackReceiver, threaded

PAYBILL = "600000"
CUSTOMER = "254708374149"
# Validation timeouts are short here so the timeout rows take a moment, not 8 s.
VALIDATION_TIMEOUT_S = 0.6


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with threaded(CallbackReceiver()) as running:
        yield running


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        poll_interval_s=0.05,
        callback_backoff_base_s=0.01,
        callback_backoff_cap_s=0.05,
        c2b_validation_timeout_s=VALIDATION_TIMEOUT_S,
    )


def _register_body(receiver: CallbackReceiver, response_type: str = "Completed") -> dict[str, Any]:
    base = receiver.url.rsplit("/", 1)[0]
    return {
        "ShortCode": PAYBILL,
        "ResponseType": response_type,
        "ConfirmationURL": f"{base}/confirm",
        "ValidationURL": f"{base}/validate",
    }


async def _register(
    gateway: Gateway, receiver: CallbackReceiver, *, version: str = "v1", **kw: Any
) -> dict[str, Any]:
    reply = await gateway.client.post(
        f"/mpesa/c2b/{version}/registerurl",
        json=_register_body(receiver, **kw),
        headers=gateway.bearer,
    )
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def _validation(gateway: Gateway, shortcode: str = PAYBILL, *, on: bool = True) -> None:
    with write_transaction(gateway.platform.engine) as conn:
        conn.execute(
            update(shortcodes)
            .where(shortcodes.c.shortcode == shortcode)
            .values(validation_enabled=on)
        )


async def _pay_bill(
    gateway: Gateway, *, msisdn: str = CUSTOMER, amount: int = 100, account: str = "ACC-1"
) -> dict[str, Any]:
    reply = await gateway.client.post(
        f"/sandbox/v1/handsets/{msisdn}/paybill",
        json={"business_number": PAYBILL, "account_number": account, "amount": amount,
              "pin": "1234"},
    )  # fmt: skip
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def _balance(gateway: Gateway, code: str) -> int:
    with read_transaction(gateway.platform.engine) as conn:
        row = conn.execute(
            select(accounts.c.credits_posted - accounts.c.debits_posted).where(
                accounts.c.code == code
            )
        ).scalar_one()
    return int(row)


def _ledger_ok(gateway: Gateway) -> None:
    with read_transaction(gateway.platform.engine) as conn:
        violations = verify(conn)
    assert violations == []


# --- registration ---------------------------------------------------------------------------


async def test_register_replies_with_both_spellings(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    body = await _register(gateway, receiver)
    assert body["ResponseCode"] == "0"
    assert body["ResponseDescription"] == "success"
    assert body["OriginatorCoversationID"] == body["OriginatorConversationID"] != ""
    v2 = await _register(gateway, receiver, version="v2", response_type="Cancelled")
    assert v2["ResponseDescription"] == "Success"
    listed = (await gateway.client.get("/sandbox/v1/c2b/registrations")).json()
    (registration,) = [r for r in listed["registrations"] if r["shortcode"] == PAYBILL]
    # The sandbox lets a shortcode register again: the second registration replaced the first.
    assert registration["response_type"] == "Cancelled"
    assert registration["api_version"] == "v2"
    assert registration["msisdn_format"] == "masked"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("ShortCode", "12", "Bad Request - Invalid ShortCode"),
        ("ResponseType", "completed", "Bad Request - Invalid ResponseType"),
        ("ResponseType", "Canceled", "Bad Request - Invalid ResponseType"),
        ("ConfirmationURL", "ftp://x.example/c", "Bad Request - Invalid ConfirmationURL"),
        (
            "ValidationURL",
            "https://shop.example/M-PESA/validate",
            "Bad Request - Invalid ValidationURL - URL has the word MPESA",
        ),
        (
            "ConfirmationURL",
            "https://safaricom-hooks.example/c",
            "Bad Request - Invalid ConfirmationURL - URL has the word SAFARICOM",
        ),
        (
            "ValidationURL",
            "https://shop.example/run.exe",
            "Bad Request - Invalid ValidationURL - URL has the word EXE",
        ),
        (
            "ConfirmationURL",
            "https://shop.example/c?query=1",
            "Bad Request - Invalid ConfirmationURL - URL has the word QUERY",
        ),
    ],
)
async def test_register_refuses_bad_fields(
    gateway: Gateway, receiver: CallbackReceiver, field: str, value: str, message: str
) -> None:
    body = _register_body(receiver)
    body[field] = value
    reply = await gateway.client.post(
        "/mpesa/c2b/v1/registerurl", json=body, headers=gateway.bearer
    )
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == "400.003.02"
    assert reply.json()["errorMessage"] == message


async def test_register_refuses_a_b2c_shortcode(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    body = _register_body(receiver) | {"ShortCode": "600996"}
    reply = await gateway.client.post(
        "/mpesa/c2b/v1/registerurl", json=body, headers=gateway.bearer
    )
    assert reply.status_code == 400
    assert "C2B is not enabled" in reply.json()["errorMessage"]


async def test_c2b_token_errors_use_the_c2b_codes(gateway: Gateway) -> None:
    reply = await gateway.client.post(
        "/mpesa/c2b/v1/registerurl",
        json={},
        headers={"Authorization": "Bearer " + "x" * 28},
    )
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == "400.003.01"


# --- payments without validation -------------------------------------------------------------


async def test_no_urls_registered_the_payment_simply_completes(gateway: Gateway) -> None:
    before = _balance(gateway, f"utility:{PAYBILL}")
    paid = await _pay_bill(gateway, amount=250)
    assert paid["status"] == "completed"
    assert paid["ResultCode"] == 0
    assert len(paid["TransID"]) == 10
    assert _balance(gateway, f"utility:{PAYBILL}") == before + 25_000
    _ledger_ok(gateway)


async def test_confirmation_only_when_validation_is_off(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    await _register(gateway, receiver)
    paid = await _pay_bill(gateway, amount=120, account="INV-9")
    (confirmation,) = await receiver.wait_for_path("/confirm")
    assert receiver.posted_to("/validate") == []
    assert confirmation["TransID"] == paid["TransID"]
    assert confirmation["TransactionType"] == "Pay Bill"
    assert confirmation["TransAmount"] == "120.00"
    assert confirmation["BillRefNumber"] == "INV-9"
    assert confirmation["BusinessShortCode"] == PAYBILL
    assert confirmation["OrgAccountBalance"] == f"{_balance(gateway, 'utility:600000') / 100:.2f}"
    # v1 registrations hide the payer behind a SHA-256 of the number by default.
    assert confirmation["MSISDN"] == hashlib.sha256(CUSTOMER.encode()).hexdigest()
    assert confirmation["FirstName"] == "JOHN"


async def test_wrong_pin_fails_without_moving_money(gateway: Gateway) -> None:
    before = _balance(gateway, f"wallet:{CUSTOMER}")
    reply = await gateway.client.post(
        f"/sandbox/v1/handsets/{CUSTOMER}/paybill",
        json={"business_number": PAYBILL, "account_number": "A", "amount": 10, "pin": "0000"},
    )
    assert reply.json()["status"] == "failed"
    assert reply.json()["ResultCode"] == 2001
    assert _balance(gateway, f"wallet:{CUSTOMER}") == before


async def test_insufficient_funds_fails(gateway: Gateway, receiver: CallbackReceiver) -> None:
    await _register(gateway, receiver)
    paid = await _pay_bill(gateway, msisdn="254711000004", amount=500)
    assert paid["status"] == "failed"
    assert paid["ResultCode"] == 1
    await asyncio.sleep(0.2)
    assert receiver.posted_to("/confirm") == []


# --- the validation table --------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_validation_accepts_and_third_party_id_is_echoed(
    gateway: Gateway, receiver: CallbackReceiver, version: str
) -> None:
    await _register(gateway, receiver, version=version)
    _validation(gateway)
    receiver.validation_answer = {
        "ResultCode": "0",
        "ResultDesc": "Accepted",
        "ThirdPartyTransID": "SHOP-77",
    }
    before = _balance(gateway, f"utility:{PAYBILL}")
    paid = await _pay_bill(gateway, amount=100)
    assert paid["status"] == "completed"
    assert paid["validation_result"] == "0"
    (validation,) = receiver.posted_to("/validate")
    assert validation["TransID"] == paid["TransID"]
    assert validation["OrgAccountBalance"] == ""
    (confirmation,) = await receiver.wait_for_path("/confirm")
    assert confirmation["ThirdPartyTransID"] == "SHOP-77"
    assert _balance(gateway, f"utility:{PAYBILL}") == before + 10_000
    _ledger_ok(gateway)


@pytest.mark.parametrize(
    "code", ["C2B00011", "C2B00012", "C2B00013", "C2B00014", "C2B00015", "C2B00016"]
)
async def test_each_rejection_code_cancels_and_tells_the_customer(
    gateway: Gateway, receiver: CallbackReceiver, code: str
) -> None:
    from pesabox.domain.c2b import REJECTION_REASONS

    await _register(gateway, receiver)
    _validation(gateway)
    receiver.validation_answer = {"ResultCode": code, "ResultDesc": "Rejected"}
    wallet_before = _balance(gateway, f"wallet:{CUSTOMER}")
    paid = await _pay_bill(gateway, amount=300)
    assert paid["status"] == "cancelled"
    assert paid["validation_result"] == code
    assert _balance(gateway, f"wallet:{CUSTOMER}") == wallet_before
    await asyncio.sleep(0.2)
    assert receiver.posted_to("/confirm") == []
    handset = (await gateway.client.get(f"/sandbox/v1/handsets/{CUSTOMER}")).json()
    assert REJECTION_REASONS[code] in handset["messages"][0]["body"]
    _ledger_ok(gateway)


@pytest.mark.parametrize(
    ("response_type", "status"), [("Completed", "completed"), ("Cancelled", "cancelled")]
)
async def test_a_slow_business_lets_response_type_decide(
    gateway: Gateway, receiver: CallbackReceiver, response_type: str, status: str
) -> None:
    await _register(gateway, receiver, response_type=response_type)
    _validation(gateway)
    # The business would accept, but answers after the timeout: its late answer is ignored.
    receiver.validation_delay_s = VALIDATION_TIMEOUT_S * 2
    paid = await _pay_bill(gateway, amount=100)
    assert paid["status"] == status
    assert paid["validation_result"] == "timeout"
    confirmations = 1 if status == "completed" else 0
    if confirmations:
        await receiver.wait_for_path("/confirm")
    await asyncio.sleep(VALIDATION_TIMEOUT_S * 2)
    assert len(receiver.posted_to("/confirm")) == confirmations
    _ledger_ok(gateway)


@pytest.mark.parametrize(
    ("response_type", "status"), [("Completed", "completed"), ("Cancelled", "cancelled")]
)
async def test_an_unreachable_validation_url_lets_response_type_decide(
    gateway: Gateway, receiver: CallbackReceiver, response_type: str, status: str
) -> None:
    body = _register_body(receiver, response_type) | {
        "ValidationURL": "http://127.0.0.1:9/validate"
    }
    reply = await gateway.client.post(
        "/mpesa/c2b/v1/registerurl", json=body, headers=gateway.bearer
    )
    assert reply.status_code == 200
    _validation(gateway)
    paid = await _pay_bill(gateway)
    assert paid["status"] == status
    assert paid["validation_result"] == "unreachable"


async def test_validation_request_is_in_the_callback_list(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    await _register(gateway, receiver)
    _validation(gateway)
    paid = await _pay_bill(gateway)
    await receiver.wait_for_path("/confirm")
    listed = (
        await gateway.client.get(
            "/sandbox/v1/callbacks", params={"transaction_id": paid["TransID"]}
        )
    ).json()["callbacks"]
    kinds = sorted(c["kind"] for c in listed)
    assert kinds == ["c2b_confirmation", "c2b_validation"]
    # The question was asked during the payment; asking it again later would mean nothing.
    (validation,) = [c for c in listed if c["kind"] == "c2b_validation"]
    resend = await gateway.client.post(f"/sandbox/v1/callbacks/{validation['id']}/resend")
    assert resend.status_code == 404
    assert resend.json()["errorMessage"] == "no such resendable callback"


@pytest.mark.parametrize(
    ("msisdn_format", "expected"),
    [
        ("full", CUSTOMER),
        ("masked", "2547 ***** 149"),
        ("hashed", hashlib.sha256(CUSTOMER.encode()).hexdigest()),
    ],
)
async def test_msisdn_representation_is_per_registration(
    gateway: Gateway, receiver: CallbackReceiver, msisdn_format: str, expected: str
) -> None:
    await _register(gateway, receiver)
    _validation(gateway)
    reply = await gateway.client.put(
        f"/sandbox/v1/c2b/registrations/{PAYBILL}/msisdn-format",
        json={"msisdn_format": msisdn_format},
    )
    assert reply.status_code == 200, reply.text
    await _pay_bill(gateway)
    (confirmation,) = await receiver.wait_for_path("/confirm")
    (validation,) = receiver.posted_to("/validate")
    assert validation["MSISDN"] == confirmation["MSISDN"] == expected


# --- simulate and buy goods ------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_simulate_pays_and_confirms(
    gateway: Gateway, receiver: CallbackReceiver, version: str
) -> None:
    await _register(gateway, receiver, version=version)
    reply = await gateway.client.post(
        f"/mpesa/c2b/{version}/simulate",
        json={"ShortCode": 600000, "CommandID": "CustomerPayBillOnline", "Amount": 10,
              "Msisdn": 254708374149, "BillRefNumber": "Test Ref"},
        headers=gateway.bearer,
    )  # fmt: skip
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["ResponseDescription"] == "Accept the service request successfully."
    assert body["ConversationID"].startswith("AG_")
    (confirmation,) = await receiver.wait_for_path("/confirm")
    assert confirmation["BillRefNumber"] == "Test Ref"


async def test_simulate_with_an_idempotency_key_pays_once(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    body = {"ShortCode": "600000", "CommandID": "CustomerPayBillOnline", "Amount": 10,
            "Msisdn": "254708374149", "BillRefNumber": "X"}  # fmt: skip
    headers = gateway.bearer | {"Idempotency-Key": "order-42"}
    before = _balance(gateway, f"wallet:{CUSTOMER}")
    for _ in range(3):
        reply = await gateway.client.post("/mpesa/c2b/v1/simulate", json=body, headers=headers)
        assert reply.status_code == 200
    with read_transaction(gateway.platform.engine) as conn:
        count = len(conn.execute(select(c2b_payments.c.trans_id)).all())
    assert count == 1
    assert _balance(gateway, f"wallet:{CUSTOMER}") == before - 1_000


async def test_simulate_checks_command_against_the_shortcode(gateway: Gateway) -> None:
    reply = await gateway.client.post(
        "/mpesa/c2b/v1/simulate",
        json={"ShortCode": "977380", "CommandID": "CustomerPayBillOnline", "Amount": 10,
              "Msisdn": "254708374149", "BillRefNumber": "X"},
        headers=gateway.bearer,
    )  # fmt: skip
    assert reply.status_code == 400
    assert reply.json()["errorMessage"].startswith("Bad Request - Invalid CommandID")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ShortCode", "abc"),
        ("CommandID", "CustomerPaybillOnline"),
        ("Amount", 0),
        ("Amount", 1.5),
        ("Msisdn", "0708374149"),
        ("BillRefNumber", "x" * 21),
    ],
)
async def test_simulate_refuses_bad_fields(gateway: Gateway, field: str, value: Any) -> None:
    body = {"ShortCode": "600000", "CommandID": "CustomerPayBillOnline", "Amount": 10,
            "Msisdn": "254708374149", "BillRefNumber": "X"}  # fmt: skip
    body[field] = value
    reply = await gateway.client.post("/mpesa/c2b/v1/simulate", json=body, headers=gateway.bearer)
    assert reply.status_code == 400
    assert reply.json()["errorMessage"] == f"Bad Request - Invalid {field}"


async def test_buy_goods_charges_the_merchant(gateway: Gateway) -> None:
    wallet_before = _balance(gateway, f"wallet:{CUSTOMER}")
    charges_before = _balance(gateway, "charges:977380")
    reply = await gateway.client.post(
        f"/sandbox/v1/handsets/{CUSTOMER}/buygoods",
        json={"till_number": "977380", "amount": 1000, "pin": "1234"},
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["TransactionType"] == "Buy Goods"
    # The customer pays nothing on top; the merchant pays 0.5% of 1,000 = KES 5.
    assert _balance(gateway, f"wallet:{CUSTOMER}") == wallet_before - 100_000
    assert _balance(gateway, "charges:977380") == charges_before - 500
    _ledger_ok(gateway)


async def test_scenario_confirmation_fails_then_arrives(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    await _register(gateway, receiver)
    # 254711000007: the callback fails 3 times, then arrives.
    paid = await _pay_bill(gateway, msisdn="254711000007")
    (confirmation,) = await receiver.wait_for_path("/confirm")
    assert confirmation["TransID"] == paid["TransID"]

    def attempts() -> int:
        with read_transaction(gateway.platform.engine) as conn:
            return int(
                conn.execute(
                    select(callbacks.c.attempts).where(
                        callbacks.c.transaction_id == paid["TransID"]
                    )
                ).scalar_one()
            )

    # The delivering attempt is recorded just after the receiver saw it.
    for _ in range(100):
        if attempts() == 4:
            break
        await asyncio.sleep(0.02)
    assert attempts() == 4


@pytest.mark.parametrize(("msisdn", "marker"), [("254711000012", "timeout"),
                                                ("254711000013", "unreachable")])  # fmt: skip
async def test_validation_scenarios(
    gateway: Gateway, receiver: CallbackReceiver, msisdn: str, marker: str
) -> None:
    await _register(gateway, receiver, response_type="Cancelled")
    _validation(gateway)
    paid = await _pay_bill(gateway, msisdn=msisdn)
    assert paid["status"] == "cancelled"
    assert paid["validation_result"] == marker
    assert receiver.posted_to("/validate") == []


# --- Dynamic QR, paid from the handset ---------------------------------------------------------


async def _qr(gateway: Gateway, **fields: Any) -> str:
    from pesabox.domain import qr_payload

    body = {"MerchantName": "TEST SHOP", "RefNo": "INV-1", "Amount": 150, "TrxCode": "BG",
            "CPI": "977380", "Size": "300"} | fields  # fmt: skip
    reply = await gateway.client.post(
        "/mpesa/qrcode/v1/generate", json=body, headers=gateway.bearer
    )
    assert reply.status_code == 200, reply.text
    # The handset reads the code's text; decoding the PNG itself is proven in test_qrcode.
    return qr_payload.encode(
        qr_payload.QrPayment(
            transaction_code=qr_payload.QrTransactionCode(body["TrxCode"]),
            credit_party=str(body["CPI"]),
            amount_cents=int(body["Amount"]) * 100,
            reference=str(body["RefNo"]),
            merchant_name=str(body["MerchantName"]),
        )
    )


@pytest.mark.parametrize(
    ("fields", "transaction_type", "shortcode", "bill_ref"),
    [
        ({}, "Buy Goods", "977380", ""),
        ({"TrxCode": "PB", "CPI": "600000", "RefNo": "ACC-77"}, "Pay Bill", "600000", "ACC-77"),
    ],
)
async def test_handset_pays_a_scanned_qr(
    gateway: Gateway,
    fields: dict[str, Any],
    transaction_type: str,
    shortcode: str,
    bill_ref: str,
) -> None:
    payload = await _qr(gateway, **fields)
    reply = await gateway.client.post(
        f"/sandbox/v1/handsets/{CUSTOMER}/qr", json={"payload": payload, "pin": "1234"}
    )
    assert reply.status_code == 200, reply.text
    paid = reply.json()
    assert (paid["status"], paid["channel"]) == ("completed", "qr")
    assert paid["TransactionType"] == transaction_type
    assert paid["BusinessShortCode"] == shortcode
    assert paid["BillRefNumber"] == bill_ref
    assert paid["Amount"] == 150


async def test_a_tampered_or_foreign_qr_is_refused(gateway: Gateway) -> None:
    payload = await _qr(gateway)
    tampered = payload.replace("150", "950")
    reply = await gateway.client.post(
        f"/sandbox/v1/handsets/{CUSTOMER}/qr", json={"payload": tampered, "pin": "1234"}
    )
    assert reply.status_code == 400
    assert reply.json()["errorMessage"].startswith("Bad Request - Invalid payload")
    send_money = await _qr(gateway, TrxCode="SM", CPI="254708374150")
    reply = await gateway.client.post(
        f"/sandbox/v1/handsets/{CUSTOMER}/qr", json={"payload": send_money, "pin": "1234"}
    )
    assert reply.status_code == 400
    assert "not a PayBill or till payment" in reply.json()["errorMessage"]


# --- fees by tariff profile ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shortcode", "customer_fee", "business_fee"),
    [
        # KES 1,200 is in the 1,001-1,500 band: a KES 15 fee.
        ("600000", 0, 1_500),  # Customer Bouquet: the business pays
        ("600977", 1_500, 0),  # Business Bouquet: the customer pays
        ("600999", 300, 1_200),  # Mgao: split
    ],
)
async def test_paybill_fee_follows_the_tariff_profile(
    gateway: Gateway, shortcode: str, customer_fee: int, business_fee: int
) -> None:
    wallet = _balance(gateway, f"wallet:{CUSTOMER}")
    utility = _balance(gateway, f"utility:{shortcode}")
    charges = _balance(gateway, f"charges:{shortcode}")
    revenue = _balance(gateway, "platform:revenue")
    reply = await gateway.client.post(
        f"/sandbox/v1/handsets/{CUSTOMER}/paybill",
        json={"business_number": shortcode, "account_number": "A1", "amount": 1200,
              "pin": "1234"},
    )  # fmt: skip
    assert reply.json()["status"] == "completed", reply.text
    assert _balance(gateway, f"wallet:{CUSTOMER}") == wallet - 120_000 - customer_fee
    assert _balance(gateway, f"utility:{shortcode}") == utility + 120_000
    assert _balance(gateway, f"charges:{shortcode}") == charges - business_fee
    assert _balance(gateway, "platform:revenue") == revenue + customer_fee + business_fee
    _ledger_ok(gateway)


# --- products ----------------------------------------------------------------------------------


async def test_each_version_needs_its_own_product(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    from pesabox.domain.products import Product
    from pesabox.security.credentials import new_consumer_credentials, secret_digest
    from pesabox.storage import apps_store
    from tests.support import basic_auth

    key, secret = new_consumer_credentials()
    with write_transaction(gateway.platform.engine) as conn:
        apps_store.insert_app(
            conn,
            name="c2b-v1-only",
            consumer_key=key,
            secret_digest=secret_digest(secret),
            products=frozenset({Product.C2B}),
            now=0,
        )
    token = (
        await gateway.client.get(
            "/oauth/v1/generate",
            params={"grant_type": "client_credentials"},
            headers={"Authorization": basic_auth(key, secret)},
        )
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    body = _register_body(receiver)
    v1 = await gateway.client.post("/mpesa/c2b/v1/registerurl", json=body, headers=headers)
    assert v1.status_code == 200
    v2 = await gateway.client.post("/mpesa/c2b/v2/registerurl", json=body, headers=headers)
    assert v2.status_code == 401
    assert v2.json()["errorCode"] == "401.003.01"
    assert v2.json()["errorMessage"].endswith("no apiproduct match found")


async def test_a_number_that_is_no_customer_is_unreachable(gateway: Gateway) -> None:
    paid = await _pay_bill(gateway, msisdn="254799999999")
    assert (paid["status"], paid["ResultCode"]) == ("failed", 1037)


async def test_handset_errors_name_the_handset_fields(gateway: Gateway) -> None:
    reply = await gateway.client.post(
        f"/sandbox/v1/handsets/{CUSTOMER}/paybill",
        json={"business_number": "977380", "account_number": "A", "amount": 10, "pin": "1234"},
    )
    assert reply.status_code == 400
    assert reply.json()["errorMessage"] == (
        "Bad Request - Invalid business_number - 977380 is a till, not a paybill"
    )


async def test_a_sandbox_body_that_is_not_json_is_a_payload_error(gateway: Gateway) -> None:
    reply = await gateway.client.put(
        f"/sandbox/v1/c2b/registrations/{PAYBILL}/msisdn-format", content=b"msisdn_format=full"
    )
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == "400.002.05"


# --- hostile input from the review ----------------------------------------------------------------


async def test_a_64_character_idempotency_key_is_kept(gateway: Gateway) -> None:
    headers = {"Idempotency-Key": "q" * 64}
    body = {"business_number": PAYBILL, "account_number": "A", "amount": 10, "pin": "1234"}
    first = await gateway.client.post(
        f"/sandbox/v1/handsets/{CUSTOMER}/paybill", json=body, headers=headers
    )
    again = await gateway.client.post(
        f"/sandbox/v1/handsets/{CUSTOMER}/paybill", json=body, headers=headers
    )
    assert first.status_code == again.status_code == 200, first.text
    assert first.json()["TransID"] == again.json()["TransID"]
    too_long = await gateway.client.post(
        f"/sandbox/v1/handsets/{CUSTOMER}/paybill", json=body, headers={"Idempotency-Key": "q" * 65}
    )
    assert too_long.status_code == 400


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/sandbox/v1/c2b/payments/AB%00"),
        ("PUT", "/sandbox/v1/c2b/registrations/60%0000/msisdn-format"),
        ("PUT", "/sandbox/v1/shortcodes/60%0000/validation"),
        ("PUT", "/sandbox/v1/shortcodes/60%0000/products"),
    ],
)
async def test_nul_in_a_path_is_not_found(gateway: Gateway, method: str, path: str) -> None:
    bodies = {"msisdn-format": {"msisdn_format": "full"}, "validation": {"enabled": True},
              "products": {"products": ["c2b"]}}  # fmt: skip
    body = next((b for suffix, b in bodies.items() if path.endswith(suffix)), None)
    reply = await gateway.client.request(method, path, json=body)
    assert reply.status_code == 404, reply.text
    listed = await gateway.client.get("/sandbox/v1/c2b/payments", params={"shortcode": "\x00"})
    assert listed.json() == {"payments": []}


async def test_nul_in_an_organisation_name_is_refused(gateway: Gateway) -> None:
    reply = await gateway.client.post(
        "/sandbox/v1/shortcodes",
        json={"shortcode": "612345", "organisation": "Org\x00", "kind": "paybill", "name": "X",
              "tariff_profile": "customer_bouquet", "products": ["c2b"]},
    )  # fmt: skip
    assert reply.status_code in (400, 404), reply.text


async def test_a_long_validation_answer_is_read_whole(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    await _register(gateway, receiver, response_type="Cancelled")
    _validation(gateway)
    receiver.validation_answer = {
        "ResultCode": "0",
        "ResultDesc": "Accepted " + "x" * 600,
        "ThirdPartyTransID": "T1",
    }
    paid = await _pay_bill(gateway)
    assert (paid["status"], paid["ThirdPartyTransID"]) == ("completed", "T1")


async def test_buy_goods_has_no_account_number(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    reply = await gateway.client.post(
        "/mpesa/c2b/v1/simulate",
        json={"ShortCode": "977380", "CommandID": "CustomerBuyGoodsOnline", "Amount": 10,
              "Msisdn": "254708374149", "BillRefNumber": "typed anyway"},
        headers=gateway.bearer,
    )  # fmt: skip
    assert reply.status_code == 200
    listed = await gateway.client.get("/sandbox/v1/c2b/payments", params={"shortcode": "977380"})
    assert listed.json()["payments"][0]["BillRefNumber"] == ""
