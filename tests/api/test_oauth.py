from __future__ import annotations

import base64

import pytest

from tests.api.conftest import Gateway
from tests.support import basic_auth, stk_body

GENERATE = "/oauth/v1/generate"
PUSH = "/mpesa/stkpush/v1/processrequest"


async def test_oauth_issues_opaque_token_with_string_expiry(gateway: Gateway) -> None:
    reply = await gateway.client.get(
        GENERATE,
        params={"grant_type": "client_credentials"},
        headers={
            "Authorization": basic_auth(
                gateway.credentials.consumer_key, gateway.credentials.consumer_secret
            )
        },
    )
    assert reply.status_code == 200
    body = reply.json()
    assert set(body) == {"access_token", "expires_in"}
    assert body["expires_in"] == "3599"
    assert body["access_token"].isalnum() and len(body["access_token"]) == 28
    assert body["access_token"] != gateway.token


@pytest.mark.parametrize(
    ("params", "authorization", "code"),
    [
        ({}, "valid", "400.008.02"),
        ({"grant_type": "password"}, "valid", "400.008.02"),
        ({"grant_type": "client_credentials"}, None, "400.008.01"),
        ({"grant_type": "client_credentials"}, "Bearer abc", "400.008.01"),
        ({"grant_type": "client_credentials"}, "Basic !!!notbase64", "400.008.01"),
        ({"grant_type": "client_credentials"}, "wrong-secret", "400.008.01"),
        ({"grant_type": "client_credentials"}, "unknown-key", "400.008.01"),
    ],
)
async def test_oauth_errors(
    gateway: Gateway, params: dict[str, str], authorization: str | None, code: str
) -> None:
    key, secret = gateway.credentials.consumer_key, gateway.credentials.consumer_secret
    header = {
        "valid": basic_auth(key, secret),
        "wrong-secret": basic_auth(key, secret + "x"),
        "unknown-key": basic_auth("nobody", secret),
    }.get(authorization or "", authorization)
    headers = {"Authorization": header} if header else {}
    reply = await gateway.client.get(GENERATE, params=params, headers=headers)
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == code
    assert set(reply.json()) == {"requestId", "errorCode", "errorMessage"}


@pytest.mark.parametrize(
    ("authorization", "status", "code"),
    [
        (None, 404, "404.001.04"),
        ("Basic abc", 404, "404.001.04"),
        ("Bearer", 404, "404.001.04"),
        ("Bearer not-a-token", 404, "404.001.03"),
    ],
)
async def test_api_rejects_bad_bearer(
    gateway: Gateway, authorization: str | None, status: int, code: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    reply = await gateway.client.post(PUSH, json=stk_body(), headers=headers)
    assert reply.status_code == status
    assert reply.json()["errorCode"] == code


async def test_token_expires_on_the_sandbox_clock(gateway: Gateway) -> None:
    await gateway.client.post("/sandbox/v1/clock", json={"advance_s": 3601})
    reply = await gateway.client.post(PUSH, json=stk_body(), headers=gateway.bearer)
    assert reply.status_code == 404
    assert reply.json()["errorMessage"] == "Invalid Access Token"


async def test_token_of_app_without_product_is_refused(gateway: Gateway) -> None:
    from pesabox.domain.products import Product
    from pesabox.security.credentials import new_consumer_credentials, secret_digest
    from pesabox.storage import apps_store
    from pesabox.storage.db import write_transaction

    key, secret = new_consumer_credentials()
    with write_transaction(gateway.platform.engine) as conn:
        apps_store.insert_app(
            conn,
            name="b2c-only",
            consumer_key=key,
            secret_digest=secret_digest(secret),
            products=frozenset({Product.B2C}),
            now=0,
        )
    token = (
        await gateway.client.get(
            GENERATE,
            params={"grant_type": "client_credentials"},
            headers={
                "Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
            },
        )
    ).json()["access_token"]
    reply = await gateway.client.post(
        PUSH, json=stk_body(), headers={"Authorization": f"Bearer {token}"}
    )
    assert reply.status_code == 401
    assert reply.json()["errorCode"] == "401.003.01"
