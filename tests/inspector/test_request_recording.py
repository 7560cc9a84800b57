"""Inbound requests on both paths land in the request log: redacted, bounded, linked."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import Engine

from pesabox.api.app import create_app
from pesabox.core.platform import Platform
from pesabox.domain.inspected_request import EXCERPT_BYTES_MAX, MASK, TRUNCATED_MARK
from pesabox.sandbox.seed import SandboxCredentials
from pesabox.settings import Settings
from tests.inspector.conftest import Gateway, gateway_settings
from tests.support import basic_auth, stk_body

PUSH = "/mpesa/stkpush/v1/processrequest"


async def test_recording_stk_push_on_the_fast_path(gateway: Gateway) -> None:
    body = stk_body(phone="254708374149", amount=10)
    reply = await gateway.client.post(PUSH, json=body, headers=gateway.bearer)
    assert reply.status_code == 200, reply.text
    accepted = reply.json()

    row = (await gateway.logged())[-1]

    assert (row["method"], row["path"], row["status_code"]) == ("POST", PUSH, 200)
    assert row["app_name"] == gateway.app_name and row["app_id"] is not None
    assert row["checkout_request_id"] == accepted["CheckoutRequestID"]
    assert row["merchant_request_id"] == accepted["MerchantRequestID"]
    assert (row["shortcode"], row["msisdn"], row["result_code"]) == ("174379", "254708374149", "0")
    assert body["Password"] not in row["request_body"]
    assert (
        f'"Password": "{MASK}"' in row["request_body"]
        or f'"Password":"{MASK}"' in row["request_body"]
    )
    assert row["latency_ms"] > 0
    assert accepted["CheckoutRequestID"] in row["response_body"]


async def test_recording_oauth_on_litestar_masks_the_token_and_finds_the_app(
    gateway: Gateway,
) -> None:
    # The fixture's own token request is the first logged row.
    row = (await gateway.logged())[0]

    assert row["path"] == "/oauth/v1/generate" and row["method"] == "GET"
    assert row["status_code"] == 200
    assert row["app_name"] == gateway.app_name
    assert gateway.token not in row["response_body"]
    assert MASK in row["response_body"]


async def test_recording_never_stores_the_authorization_header(gateway: Gateway) -> None:
    await gateway.client.post(PUSH, json=stk_body(amount=11), headers=gateway.bearer)

    rows = await gateway.logged()

    secret = gateway.credentials.consumer_secret
    for row in rows:
        text = repr(row)
        assert gateway.token not in text and secret not in text and "Bearer" not in text


async def test_recording_a_refused_token_keeps_the_error_code(gateway: Gateway) -> None:
    headers = {"Authorization": "Bearer " + "x" * 28}
    reply = await gateway.client.post(PUSH, json=stk_body(), headers=headers)
    assert reply.status_code == 404

    row = (await gateway.logged())[-1]

    assert row["status_code"] == 404
    assert row["result_code"] == "404.001.03"
    assert row["app_id"] is None


async def test_recording_c2b_simulate_reads_shortcode_and_msisdn(gateway: Gateway) -> None:
    body = {
        "ShortCode": 600000,
        "CommandID": "CustomerPayBillOnline",
        "Amount": 10,
        "Msisdn": "254708374149",
        "BillRefNumber": "INV-7",
    }
    reply = await gateway.client.post("/mpesa/c2b/v1/simulate", json=body, headers=gateway.bearer)
    assert reply.status_code == 200, reply.text

    row = (await gateway.logged())[-1]

    assert (row["shortcode"], row["msisdn"]) == ("600000", "254708374149")
    assert row["conversation_id"] == reply.json()["ConversationID"]


async def test_recording_cuts_a_large_body_to_its_excerpt_after_masking(gateway: Gateway) -> None:
    body = stk_body(TransactionDesc="d" * 20_000)
    reply = await gateway.client.post(PUSH, json=body, headers=gateway.bearer)
    assert reply.status_code == 400

    row = (await gateway.logged())[-1]

    assert row["request_body"].endswith(TRUNCATED_MARK)
    assert len(row["request_body"].encode()) <= EXCERPT_BYTES_MAX + len(TRUNCATED_MARK.encode())
    assert body["Password"] not in row["request_body"]


async def test_recording_sandbox_api_reads_the_msisdn_from_the_path(gateway: Gateway) -> None:
    reply = await gateway.client.get("/sandbox/v1/handsets/254708374149/prompts")
    assert reply.status_code < 500

    row = (await gateway.logged())[-1]

    assert row["path"] == "/sandbox/v1/handsets/254708374149/prompts"
    assert row["msisdn"] == "254708374149"


async def test_recording_leaves_out_health_checks_and_pages(gateway: Gateway) -> None:
    before = len(await gateway.logged())
    await gateway.client.get("/healthz")
    await gateway.client.get("/ui/")

    assert len(await gateway.logged()) == before


@pytest.fixture
async def silent_gateway(
    database_url: str, seeded_engine: tuple[Engine, SandboxCredentials]
) -> AsyncIterator[Gateway]:
    engine, seeded = seeded_engine
    settings: Settings = gateway_settings(database_url, inspector_record=False)
    platform = Platform(settings, engine=engine)
    app = create_app(settings, platform=platform)
    async with AsyncTestClient(app=app) as client:  # type: ignore[type-var]
        reply = await client.get(
            "/oauth/v1/generate",
            params={"grant_type": "client_credentials"},
            headers={"Authorization": basic_auth(seeded.consumer_key, seeded.consumer_secret)},
        )
        yield Gateway(client, platform, seeded, reply.json()["access_token"])


async def test_recording_off_logs_nothing(silent_gateway: Gateway) -> None:
    reply = await silent_gateway.client.post(
        PUSH, json=stk_body(amount=12), headers=silent_gateway.bearer
    )
    assert reply.status_code == 200

    assert await silent_gateway.logged() == []


async def test_recording_a_litestar_post_masks_the_pin_and_keeps_the_answer(
    gateway: Gateway,
) -> None:
    url = "/sandbox/v1/handsets/254722000000/prompts/ws_CO_unknown/accept"
    reply = await gateway.client.post(url, json={"pin": "9876"})
    assert reply.status_code == 404

    row = (await gateway.logged())[-1]

    assert (row["method"], row["path"], row["status_code"]) == ("POST", url, 404)
    assert "9876" not in row["request_body"] and MASK in row["request_body"]
    assert row["response_body"] == reply.text
    assert row["result_code"] == reply.json()["errorCode"]
    assert row["msisdn"] == "254722000000"


async def test_recording_cuts_a_large_litestar_body_to_its_excerpt(gateway: Gateway) -> None:
    body = {"name": "n" * 20_000, "msisdn": "254722000000", "action": "cancel"}
    reply = await gateway.client.post("/sandbox/v1/scenarios", json=body)
    assert reply.status_code < 500

    row = (await gateway.logged())[-1]

    assert row["path"] == "/sandbox/v1/scenarios"
    assert row["request_body"].endswith(TRUNCATED_MARK)
    assert len(row["request_body"].encode()) <= EXCERPT_BYTES_MAX + len(TRUNCATED_MARK.encode())
