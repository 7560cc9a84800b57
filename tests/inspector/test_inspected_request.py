"""The pure side of recording: masking, excerpts and the facts read from bodies."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from pesabox.domain.inspected_request import (
    MASK,
    NOT_JSON,
    TRUNCATED_MARK,
    excerpt,
    parse_body,
    read_facts,
    redact,
)


def facts_of(path: str, request: bytes, response: bytes) -> Any:
    return read_facts(path, parse_body(request), parse_body(response))


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('{"Password": "cGFzcw=="}', "cGFzcw=="),
        ('{"SecurityCredential":"Zm9vYmFy\\"x"}', "Zm9vYmFy"),
        ('{"pin": 1234}', "1234"),
        ('{"bonga_pin": "4321"}', "4321"),
        ('{"access_token": "AbCdEf0123456789AbCdEf012345"}', "AbCdEf0123456789AbCdEf012345"),
        ("username=op&password=hunter22&x=1", "hunter22"),
    ],
)
def test_excerpt_masks_secret_fields(text: str, secret: str) -> None:
    masked = excerpt(text.encode())

    assert secret not in masked
    assert MASK in masked


def test_excerpt_masks_nested_secrets_and_keeps_the_rest() -> None:
    body = {"Amount": 10, "Initiator": {"SecurityCredential": "c2VjcmV0"}, "Items": [{"pin": 1}]}

    masked = orjson.loads(excerpt(orjson.dumps(body)))

    assert masked == {
        "Amount": 10,
        "Initiator": {"SecurityCredential": MASK},
        "Items": [{"pin": MASK}],
    }


def test_excerpt_of_a_body_without_secrets_keeps_its_own_text() -> None:
    text = '{"Amount": 10, "PhoneNumber": "254708374149", "Timestamp": "20261128101010"}'

    assert excerpt(text.encode()) == text


@pytest.mark.parametrize(
    "text",
    ['{"Password": "cGFzcw==", "Amount": ', "Password=cGFzcw==&Amount=1", '"pin": 1234, oops'],
)
def test_redact_masks_bodies_that_are_not_json(text: str) -> None:
    assert parse_body(text.encode()) is NOT_JSON
    assert MASK in redact(text) and MASK in excerpt(text.encode())
    assert "cGFzcw==" not in excerpt(text.encode()) and "1234" not in excerpt(text.encode())


def test_excerpt_is_bounded_and_marked() -> None:
    body = b'{"Password": "' + b"s" * 50 + b'", "Remarks": "' + b"r" * 20_000 + b'"}'

    cut = excerpt(body, limit_bytes=100)

    assert cut.endswith(TRUNCATED_MARK)
    assert len(cut.encode()) == 100 + len(TRUNCATED_MARK.encode())
    assert "s" * 50 not in cut


def test_excerpt_masks_a_secret_that_straddles_the_cut() -> None:
    body = b'{"Remarks": "x", "Password": "' + b"p" * 200 + b'"}'

    cut = excerpt(body, limit_bytes=40)

    assert "ppp" not in cut


def test_excerpt_keeps_a_short_body_whole() -> None:
    assert excerpt(b'{"ResponseCode": "0"}') == '{"ResponseCode": "0"}'


def test_excerpt_of_bytes_that_are_not_utf8_is_readable() -> None:
    assert excerpt(b"\xff\xfe{") == "\ufffd\ufffd{"


def test_read_facts_stk_push() -> None:
    request = (
        b'{"BusinessShortCode": 174379, "PartyA": "254708374149", "PartyB": "174379",'
        b' "PhoneNumber": "254708374149"}'
    )
    response = b'{"MerchantRequestID": "m-1", "CheckoutRequestID": "ws_CO_1", "ResponseCode": "0"}'

    facts = facts_of("/mpesa/stkpush/v1/processrequest", request, response)

    assert facts.shortcode == "174379" and facts.msisdn == "254708374149"
    assert facts.checkout_request_id == "ws_CO_1" and facts.merchant_request_id == "m-1"
    assert facts.result_code == "0"


def test_read_facts_b2c_puts_shortcode_and_msisdn_from_the_parties() -> None:
    request = b'{"PartyA": "600996", "PartyB": "254708374149", "OriginatorConversationID": "o-1"}'
    response = b'{"ConversationID": "AG_1", "OriginatorConversationID": "o-1", "ResponseCode": "0"}'

    facts = facts_of("/mpesa/b2c/v3/paymentrequest", request, response)

    assert (facts.shortcode, facts.msisdn) == ("600996", "254708374149")
    assert (facts.conversation_id, facts.originator_conversation_id) == ("AG_1", "o-1")


def test_read_facts_prefers_result_code_over_response_code() -> None:
    response = b'{"ResponseCode": "0", "ResultCode": "1032", "CheckoutRequestID": "ws_CO_2"}'

    request = b'{"CheckoutRequestID": "ws_CO_2"}'

    facts = facts_of("/mpesa/stkpushquery/v1/query", request, response)

    assert facts.result_code == "1032" and facts.checkout_request_id == "ws_CO_2"


def test_read_facts_gateway_error_code() -> None:
    response = b'{"requestId": "r", "errorCode": "404.001.03", "errorMessage": "Invalid"}'

    assert facts_of("/mpesa/x", b"", response).result_code == "404.001.03"


def test_read_facts_reversal_transaction_id() -> None:
    facts = facts_of("/mpesa/reversal/v1/request", b'{"TransactionID": "TKR1234567"}', b"{}")

    assert facts.trans_id == "TKR1234567"


def test_read_facts_of_bodies_that_are_not_json_objects() -> None:
    facts = facts_of("/sandbox/v1/handsets/254722000000/prompts", b"[1, 2]", b"not json")

    assert facts.msisdn == "254722000000"
    assert facts.result_code is None and facts.shortcode is None


def test_excerpt_masks_a_flat_body_in_place_keeping_its_formatting() -> None:
    body = b'{"Password": "c2VjcmV0", "Amount": 1,\n "Note": "keep c2VjcmV0x"}'

    assert excerpt(body) == '{"Password": "****", "Amount": 1,\n "Note": "keep c2VjcmV0x"}'


@pytest.mark.parametrize(
    ("body", "secret"),
    [
        # PHP's json_encode writes "/" as "\/" by default, and base64 passwords have slashes.
        (b'{"BusinessShortCode":"174379","Password":"MTc0Mzc5YmZi\\/MjAx+Nw=="}', b"MjAx"),
        (b'{"Initiator":"testapi","SecurityCredential":"ab\\u0063def=="}', b"def=="),
    ],
)
def test_a_secret_the_client_escaped_its_own_way_is_still_masked(
    body: bytes, secret: bytes
) -> None:
    shown = excerpt(body)
    assert secret.decode() not in shown
    assert MASK in shown
