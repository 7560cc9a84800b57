"""Money parsing, identifiers and the STK callback payload."""

from __future__ import annotations

import json
import re

import pytest

from pesabox.domain.stk_callback import stk_callback_payload
from pesabox.ids import checkout_request_id, conversation_id, merchant_request_id, receipt_number
from pesabox.money import cents_to_decimal_string, parse_whole_shillings
from pesabox.sandbox.scenarios import Action, Scenario, match
from pesabox.security.stk_password import stk_password

NOV_28_2026_NOON_EAT = 1_795_856_400.0  # 2026-11-28 09:00 UTC


@pytest.mark.parametrize(
    ("value", "cents"),
    [(1, 100), ("1", 100), (" 25 ", 2500), (10.0, 1000), ("10.00", 1000), ("1e2", None),
     ("1e1000000", None), (10**13, None), (1e300, None), ("99999999999999", None),
     ("1.50", None),
     (0, None), (-5, None), ("1.5", None), (1.5, None), (True, None), ("abc", None),
     (None, None), ([1], None), ("NaN", None), ("Infinity", None)],
)  # fmt: skip
def test_parse_whole_shillings(value: object, cents: int | None) -> None:
    assert parse_whole_shillings(value) == cents


def test_cents_to_decimal_string() -> None:
    assert [cents_to_decimal_string(c) for c in (0, 5, 100, 123456, -250)] == [
        "0.00", "0.05", "1.00", "1234.56", "-2.50",
    ]  # fmt: skip


def test_identifier_formats() -> None:
    assert re.fullmatch(
        r"[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\d+", merchant_request_id()
    )
    assert re.fullmatch(r"AG_20261128_[0-9a-f]{20}", conversation_id(NOV_28_2026_NOON_EAT))
    # 2026 -> U, November -> K, the 28th -> S
    assert re.fullmatch(r"UKS[A-Z0-9]{7}", receipt_number(NOV_28_2026_NOON_EAT))


def test_checkout_ids_are_unique_within_a_millisecond() -> None:
    # A number no other test pushes to: ids are kept increasing per MSISDN for the whole
    # process, so one pushed to earlier at the real time would move these on.
    first = checkout_request_id(NOV_28_2026_NOON_EAT, "254799000149")
    second = checkout_request_id(NOV_28_2026_NOON_EAT, "254799000149")
    assert first == "ws_CO_28112026120000000799000149"
    assert second == "ws_CO_28112026120000001799000149"


def test_stk_password_is_base64_of_the_concatenation() -> None:
    # Daraja's own published sample.
    assert stk_password(
        "174379",
        "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919",
        "20210628092408",
    ) == (
        "MTc0Mzc5YmZiMjc5ZjlhYTliZGJjZjE1OGU5N2RkNzFhNDY3Y2QyZTBjODkzMDU5YjEwZjc4ZTZiNzJhZGExZWQy"
        "YzkxOTIwMjEwNjI4MDkyNDA4"
    )


def test_callback_payload_success_and_failure() -> None:
    success = stk_callback_payload(
        merchant_request_id="m", checkout_request_id="c", result_code=0,
        result_desc="The service request is processed successfully.", amount_cents=100,
        receipt="UKS1234567", transaction_date="20261128120000", phone_number="254708374149",
    )  # fmt: skip
    assert '{"Name":"Amount","Value":1.00}' in success
    parsed = json.loads(success)["Body"]["stkCallback"]
    assert [i["Name"] for i in parsed["CallbackMetadata"]["Item"]] == [
        "Amount", "MpesaReceiptNumber", "TransactionDate", "PhoneNumber",
    ]  # fmt: skip
    failure = json.loads(stk_callback_payload(
        merchant_request_id="m", checkout_request_id="c", result_code=1032,
        result_desc="Request cancelled by user",
    ))  # fmt: skip
    assert failure == {"Body": {"stkCallback": {
        "MerchantRequestID": "m", "CheckoutRequestID": "c", "ResultCode": 1032,
        "ResultDesc": "Request cancelled by user"}}}  # fmt: skip


def test_scenario_precedence_runtime_then_specific_then_newest() -> None:
    by_amount = Scenario("a", Action.DECLINE, "", amount_cents=100, id=1)
    by_msisdn = Scenario("m", Action.WRONG_PIN, "", msisdn="254700000001", id=2)
    both = Scenario("b", Action.EXPIRE, "", msisdn="254700000001", amount_cents=100, id=3)
    runtime = Scenario("r", Action.IGNORE, "", amount_cents=100, source="runtime", id=4)
    assert match([by_amount, by_msisdn, both], msisdn="254700000001", amount_cents=100) == both
    assert match([by_amount, by_msisdn], msisdn="254700000001", amount_cents=100) == by_msisdn
    assert match([by_amount, by_msisdn, both, runtime], msisdn="254700000001",
                 amount_cents=100) == runtime  # fmt: skip
    assert match([by_amount], msisdn="254700000009", amount_cents=200) is None
