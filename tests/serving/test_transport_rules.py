"""Production's transport rules in-process, on each database: the app itself refuses plain
http before any work, and holds every API but OAuth and STK to the certificate of the calling
app's organisation, read from the ASGI TLS extension."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from pesabox.api.app import create_app
from pesabox.api.fastpath import FastPaths
from pesabox.core.platform import Platform
from pesabox.serving.environments import environment_settings
from tests.serving.asgi_tls import presenting
from tests.serving.world import App, ClientCertificate, World, balance_body
from tests.support import basic_auth

BALANCE = "/mpesa/accountbalance/v1/query"
OAUTH = "/oauth/v1/generate"
HTTPS = "https://gateway.test"


@pytest.fixture
async def production(world: World) -> AsyncIterator[FastPaths]:
    settings = environment_settings(world.settings, "production")
    platform = Platform(settings)
    yield create_app(settings, platform=platform)


async def _token(client: AsyncTestClient[Any], app: App) -> str:
    reply = await client.get(
        OAUTH,
        params={"grant_type": "client_credentials"},
        headers={"Authorization": basic_auth(app.key, app.secret)},
    )
    assert reply.status_code == 200, reply.text
    token: str = reply.json()["access_token"]
    return token


async def _balance(
    production: FastPaths, world: World, certificate: ClientCertificate | None, app: App
) -> Any:
    async with AsyncTestClient(app=presenting(production, certificate), base_url=HTTPS) as client:
        token = await _token(client, app)
        return await client.post(
            BALANCE, json=balance_body(world), headers={"Authorization": f"Bearer {token}"}
        )


@pytest.mark.parametrize("path", [OAUTH, BALANCE, "/healthz", "/ui/org"])
async def test_plain_http_is_refused_before_anything(production: FastPaths, path: str) -> None:
    async with AsyncTestClient(app=production, base_url="http://gateway.test") as client:
        reply = await client.get(path, headers={"X-Forwarded-Proto": "https"})
    assert reply.status_code == 403
    body = reply.json()
    assert body["errorCode"] == "403.009.01"
    assert body["errorMessage"] == "HTTPS is required"
    assert body["requestId"]


async def test_the_organisations_certificate_is_admitted(
    production: FastPaths, world: World
) -> None:
    reply = await _balance(production, world, world.organisation_certificate, world.production_app)
    assert reply.status_code == 200, reply.text


async def test_no_certificate(production: FastPaths, world: World) -> None:
    reply = await _balance(production, world, None, world.production_app)
    assert (reply.status_code, reply.json()["errorCode"]) == (403, "403.009.02")


async def test_another_organisations_certificate(production: FastPaths, world: World) -> None:
    reply = await _balance(
        production, world, world.other_organisation_certificate, world.production_app
    )
    assert (reply.status_code, reply.json()["errorCode"]) == (403, "403.009.03")
    assert reply.json()["errorMessage"] == (
        "Client certificate does not belong to this organisation"
    )


async def test_an_app_of_no_organisation(production: FastPaths, world: World) -> None:
    reply = await _balance(production, world, world.organisation_certificate, world.unbound_app)
    assert (reply.status_code, reply.json()["errorCode"]) == (403, "403.009.04")


async def test_a_bad_token_keeps_the_apis_own_error(production: FastPaths, world: World) -> None:
    app = presenting(production, world.organisation_certificate)
    async with AsyncTestClient(app=app, base_url=HTTPS) as client:
        reply = await client.post(
            BALANCE, json=balance_body(world), headers={"Authorization": "Bearer " + "x" * 28}
        )
    assert (reply.status_code, reply.json()["errorCode"]) == (401, "401.002.01")


async def test_the_sandbox_has_no_transport_rules(world: World) -> None:
    settings = environment_settings(world.settings, "sandbox")
    app = create_app(settings, platform=Platform(settings))
    async with AsyncTestClient(app=app, base_url="http://gateway.test") as client:
        token = await _token(client, world.sandbox_app)
        reply = await client.post(
            BALANCE,
            json=balance_body(world) | {"SecurityCredential": "x"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert reply.status_code != 403, reply.text
