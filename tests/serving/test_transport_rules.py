"""Production's transport rules in-process, on each database: the app itself refuses plain
http before any work, and holds every API but OAuth and STK to the certificate of the calling
app's organisation, read from the ASGI TLS extension."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

import pytest
from litestar.testing import AsyncTestClient

from pesabox.api.app import create_app
from pesabox.api.fastpath import FastPaths
from pesabox.api.transport import needs_client_certificate
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


async def _send(
    client: AsyncTestClient[Any],
    path: str,
    *,
    headers: list[tuple[bytes, bytes]],
    body: bytes = b"{}",
) -> tuple[int, dict[str, Any]]:
    """One request handed to the client's app as its raw ASGI scope, on the loop that runs
    the app: the test client folds repeated headers into one and resolves dot segments,
    which these tests need to send as they are."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "https", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 50000), "server": ("gateway.test", 443),
        "headers": [(b"host", b"gateway.test"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()), *headers],
    }  # fmt: skip
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asyncio.to_thread(client.blocking_portal.call, client.app, scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(payload) if payload else {}


@pytest.mark.parametrize("junk_first", [True, False])
async def test_a_second_authorization_header_is_refused(
    production: FastPaths, world: World, junk_first: bool
) -> None:
    # Another organisation's certificate with a junk token beside the organisation's own: the
    # check and the API must never read different headers, so two are refused outright.
    app = presenting(production, world.other_organisation_certificate)
    async with AsyncTestClient(app=app, base_url=HTTPS) as client:
        token = await _token(client, world.production_app)
        headers = [
            (b"authorization", b"Bearer " + b"x" * 28),
            (b"authorization", f"Bearer {token}".encode()),
        ]
        status, body = await _send(
            client, BALANCE, headers=headers if junk_first else headers[::-1],
            body=json.dumps(balance_body(world)).encode(),
        )  # fmt: skip
    assert (status, body["errorCode"]) == (404, "404.001.04"), body
    assert body["errorMessage"] == "Invalid Authentication Header"


async def test_two_authorization_headers_are_refused_even_with_the_right_certificate(
    production: FastPaths, world: World
) -> None:
    app = presenting(production, world.organisation_certificate)
    async with AsyncTestClient(app=app, base_url=HTTPS) as client:
        token = await _token(client, world.production_app)
        status, body = await _send(
            client, BALANCE, headers=[(b"Authorization", f"Bearer {token}".encode())] * 2,
            body=json.dumps(balance_body(world)).encode(),
        )  # fmt: skip
    assert (status, body["errorCode"]) == (404, "404.001.04"), body


async def test_the_raw_request_helper_admits_one_authorization_header(
    production: FastPaths, world: World
) -> None:
    # The seam above, checked once against the ordinary case.
    app = presenting(production, world.organisation_certificate)
    async with AsyncTestClient(app=app, base_url=HTTPS) as client:
        token = await _token(client, world.production_app)
        status, body = await _send(
            client, BALANCE, headers=[(b"authorization", f"Bearer {token}".encode())],
            body=json.dumps(balance_body(world)).encode(),
        )  # fmt: skip
    assert status == 200, body


# Production paths that need no certificate, each on purpose: OAuth and M-Pesa Express (1-way
# TLS on Daraja), health, the people's pages and their static files, the API docs.
OPEN_ON_PURPOSE = {
    OAUTH,
    "/mpesa/stkpush/v1/processrequest",
    "/mpesa/stkpushquery/v1/query",
    "/healthz",
}
OPEN_PREFIXES_ON_PURPOSE = ("/ui", "/docs")


def _production_paths() -> list[str]:
    """Every path production serves: the fast path's table and Litestar's routes, with any
    path parameter filled in."""
    from pesabox.api.app import create_litestar
    from pesabox.api.fastpath import ENDPOINTS
    from pesabox.settings import Settings

    settings = Settings(environment="production", database_url="sqlite:///:memory:")
    litestar = create_litestar(settings, Platform(settings))
    routed = {re.sub(r"\{[^}]*\}", "1", route.path) for route in litestar.routes}
    return sorted(set(ENDPOINTS) | routed)


@pytest.mark.parametrize("path", _production_paths())
async def test_every_production_path_is_open_on_purpose_or_needs_a_certificate(
    production: FastPaths, path: str
) -> None:
    if path in OPEN_ON_PURPOSE or path.startswith(OPEN_PREFIXES_ON_PURPOSE):
        assert not needs_client_certificate(path)
        return
    async with AsyncTestClient(app=presenting(production, None), base_url=HTTPS) as client:
        for method in ("GET", "POST"):
            reply = await client.request(method, path)
            assert (reply.status_code, reply.json()["errorCode"]) == (403, "403.009.02"), path


@pytest.mark.parametrize(
    "path",
    [
        "//mpesa/qrcode/v1/generate",
        "/mpesa//qrcode/v1/generate",
        "/%2Fmpesa/qrcode/v1/generate",
        "/ui/../mpesa/qrcode/v1/generate",
        "/ui/%2e%2e/mpesa/accountbalance/v1/query",
        "/./mpesa/qrcode/v1/generate",
    ],
)
async def test_a_path_that_is_not_canonical_is_refused(
    production: FastPaths, world: World, path: str
) -> None:
    # Sent raw (the test client would tidy the path); the scope's path is percent-decoded.
    async with AsyncTestClient(app=presenting(production, None), base_url=HTTPS) as client:
        status, body = await _send(client, unquote(path), headers=[])
    assert (status, body["errorCode"]) == (404, "404.001.01"), body


async def test_pull_transactions_needs_the_certificate(production: FastPaths) -> None:
    async with AsyncTestClient(app=presenting(production, None), base_url=HTTPS) as client:
        for path in ("/pulltransactions/v1/register", "/pulltransactions/v1/query"):
            reply = await client.post(path, json={})
            assert (reply.status_code, reply.json()["errorCode"]) == (403, "403.009.02")
