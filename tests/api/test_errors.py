"""Bad input of any kind gets a Daraja-shaped error with the right status, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import Gateway
from tests.support import stk_body

PUSH = "/mpesa/stkpush/v1/processrequest"
FIELD_ORDER = [
    "BusinessShortCode",
    "Password",
    "Timestamp",
    "TransactionType",
    "Amount",
    "PartyA",
    "PartyB",
    "PhoneNumber",
    "CallBackURL",
    "AccountReference",
]
BAD_VALUES: dict[str, Any] = {
    "BusinessShortCode": "17437x",
    "Password": "",
    "Timestamp": "20261340101010",
    "TransactionType": "CustomerPayBill",
    "Amount": "1.5",
    "PartyA": "phone",
    "PartyB": 12,
    "PhoneNumber": "0708374149",
    "CallBackURL": "https://shop.example/cb path",
    "AccountReference": "",
}


@pytest.mark.parametrize("field", FIELD_ORDER)
async def test_each_bad_field_is_named(gateway: Gateway, field: str) -> None:
    reply = await gateway.client.post(
        PUSH, json=stk_body(**{field: BAD_VALUES[field]}), headers=gateway.bearer
    )
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == "400.002.02"
    assert reply.json()["errorMessage"] == f"Bad Request - Invalid {field}"


async def test_first_bad_field_in_daraja_order_wins(gateway: Gateway) -> None:
    body = stk_body(PhoneNumber="+254708374149", Amount=-1, CallBackURL="ftp://x")
    reply = await gateway.client.post(PUSH, json=body, headers=gateway.bearer)
    assert reply.json()["errorMessage"] == "Bad Request - Invalid Amount"


@pytest.mark.parametrize("missing", FIELD_ORDER)
async def test_missing_field_is_named(gateway: Gateway, missing: str) -> None:
    body = stk_body()
    del body[missing]
    reply = await gateway.client.post(PUSH, json=body, headers=gateway.bearer)
    assert reply.json()["errorMessage"] == f"Bad Request - Invalid {missing}"


async def test_wrong_content_type_names_the_first_field(gateway: Gateway) -> None:
    reply = await gateway.client.post(
        PUSH,
        content=json.dumps(stk_body()),
        headers={**gateway.bearer, "Content-Type": "text/plain"},
    )
    assert reply.status_code == 400
    assert reply.json()["errorMessage"] == "Bad Request - Invalid BusinessShortCode"


@pytest.mark.parametrize("content", [b"{", b"[]", b"null", b"\xff\xfe", b"", b'{"Amount": }'])
async def test_malformed_json_is_invalid_payload(gateway: Gateway, content: bytes) -> None:
    reply = await gateway.client.post(
        PUSH, content=content, headers={**gateway.bearer, "Content-Type": "application/json"}
    )
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == "400.002.05"


async def test_oversized_body_is_refused(gateway: Gateway) -> None:
    body = stk_body(TransactionDesc="x" * 200_000)
    reply = await gateway.client.post(PUSH, json=body, headers=gateway.bearer)
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == "400.002.05"


async def test_wrong_password_and_unknown_merchant(gateway: Gateway) -> None:
    wrong = await gateway.client.post(
        PUSH, json=stk_body(passkey="not-the-passkey"), headers=gateway.bearer
    )
    assert wrong.status_code == 500
    assert wrong.json()["errorMessage"] == "[MerchantValidate] - Wrong credentials"
    unknown = await gateway.client.post(
        PUSH, json=stk_body(shortcode="999999"), headers=gateway.bearer
    )
    assert unknown.json()["errorMessage"] == "Merchant does not exist"


async def test_unknown_path_and_wrong_method(gateway: Gateway) -> None:
    missing = await gateway.client.post("/mpesa/nothing/v1/here", json={})
    assert missing.status_code == 404
    assert missing.json()["errorCode"] == "404.001.01"
    wrong = await gateway.client.get(PUSH)
    assert wrong.status_code == 405
    assert wrong.json() == {
        **wrong.json(),
        "errorCode": "405.001",
        "errorMessage": "GET Method Not Allowed",
    }


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    overrides=st.dictionaries(
        st.sampled_from(FIELD_ORDER + ["TransactionDesc", "Extra"]), json_values, max_size=4
    )
)
async def test_no_body_ever_gives_a_server_error(
    gateway: Gateway, overrides: dict[str, Any]
) -> None:
    body = stk_body(phone="254711000002")
    body.update(overrides)
    reply = await gateway.client.post(PUSH, json=body, headers=gateway.bearer)
    assert reply.status_code in (200, 400, 500)
    payload = reply.json()
    if reply.status_code == 500:
        assert payload["errorCode"] == "500.001.1001"
    if reply.status_code == 400:
        assert payload["errorCode"] in ("400.002.02", "400.002.05")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Amount", "1e1000000"),  # would take the parser many seconds if it were converted
        ("Amount", 10**17),
        ("Amount", 1e300),
        ("AccountReference", "A" * 65),
        ("AccountReference", "INV\x00001"),
        ("CallBackURL", "http://[::1/cb"),
        ("CallBackURL", "http://127.0.0.1:99999/cb"),
        ("CallBackURL", "https://shop.example/\x00"),
        ("PhoneNumber", "2547\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661"),
    ],
)
async def test_hostile_values_are_named_not_crashed_on(
    gateway: Gateway, field: str, value: object
) -> None:
    reply = await gateway.client.post(PUSH, json=stk_body(**{field: value}), headers=gateway.bearer)
    assert reply.status_code == 400, reply.text
    assert reply.json()["errorMessage"] == f"Bad Request - Invalid {field}"


async def test_body_that_is_not_utf8_is_invalid_payload(gateway: Gateway) -> None:
    reply = await gateway.client.post(
        PUSH,
        content=b'{"BusinessShortCode": "174379", "Password": "\xff\xfe"}',
        headers={**gateway.bearer, "Content-Type": "application/json"},
    )
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == "400.002.05"


async def test_non_ascii_basic_credentials_are_invalid_authentication(gateway: Gateway) -> None:
    reply = await gateway.client.get(
        "/oauth/v1/generate",
        params={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic \u00e9\u00e9\u00e9".encode()},
    )
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == "400.008.01"
