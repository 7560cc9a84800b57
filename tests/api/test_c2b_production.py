"""C2B rules that only production enforces: HTTPS URLs, one registration, no simulate."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import Engine

from pesabox.api.app import create_app
from pesabox.core.platform import Platform
from pesabox.sandbox.seed import SandboxCredentials
from pesabox.settings import Settings
from pesabox.storage import pki_store
from pesabox.storage.db import write_transaction
from tests.api.conftest import Gateway
from tests.serving.asgi_tls import presenting
from tests.serving.world import (
    ORGANISATION,
    new_app,
    organisation_id_of,
    sign_client_certificate,
)
from tests.support import basic_auth

BODY = {
    "ShortCode": "600000",
    "ResponseType": "Completed",
    "ConfirmationURL": "https://shop.example/c2b/confirm",
    "ValidationURL": "https://shop.example/c2b/validate",
}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, environment="production")


@pytest.fixture
async def gateway(
    settings: Settings, seeded_engine: tuple[Engine, SandboxCredentials]
) -> AsyncIterator[Gateway]:
    """Production as a business reaches it: over https, as an app of the organisation that
    owns 600000, presenting that organisation's client certificate (C2B needs mutual TLS)."""
    engine, _ = seeded_engine
    now = time.time()
    with write_transaction(engine) as conn:
        # One database stands in for both here; serving keeps the CA in the platform's.
        pki_store.ensure_authority(conn, now=now)
        owner = organisation_id_of(conn, ORGANISATION)
        app = new_app(conn, name="shop", organisation_id=owner, now=now)
        certificate = sign_client_certificate(
            conn, organisation_id=owner, name=ORGANISATION, now=now
        )
    platform = Platform(settings, engine=engine)
    asgi = presenting(create_app(settings, platform=platform), certificate)
    async with AsyncTestClient(app=asgi, base_url="https://gateway.test") as client:
        reply = await client.get(
            "/oauth/v1/generate",
            params={"grant_type": "client_credentials"},
            headers={"Authorization": basic_auth(app.key, app.secret)},
        )
        assert reply.status_code == 200, reply.text
        credentials = SandboxCredentials(app.key, app.secret)
        yield Gateway(client, platform, credentials, reply.json()["access_token"])


async def test_production_registers_once(gateway: Gateway) -> None:
    first = await gateway.client.post(
        "/mpesa/c2b/v1/registerurl", json=BODY, headers=gateway.bearer
    )
    assert first.status_code == 200, first.text
    again = await gateway.client.post(
        "/mpesa/c2b/v1/registerurl", json=BODY, headers=gateway.bearer
    )
    assert again.status_code == 500
    assert again.json()["errorCode"] == "500.003.1001"
    assert again.json()["errorMessage"] == "Urls are already registered."


async def test_production_needs_https(gateway: Gateway) -> None:
    body = BODY | {"ConfirmationURL": "http://shop.example/c2b/confirm"}
    reply = await gateway.client.post(
        "/mpesa/c2b/v1/registerurl", json=body, headers=gateway.bearer
    )
    assert reply.status_code == 400
    assert reply.json()["errorMessage"] == "Bad Request - Invalid ConfirmationURL"


async def test_production_has_no_simulate(gateway: Gateway) -> None:
    reply = await gateway.client.post(
        "/mpesa/c2b/v1/simulate",
        json={"ShortCode": "600000", "CommandID": "CustomerPayBillOnline", "Amount": 1,
              "Msisdn": "254708374149", "BillRefNumber": "x"},
        headers=gateway.bearer,
    )  # fmt: skip
    assert reply.status_code == 404
    assert reply.json()["errorCode"] == "404.003.01"
