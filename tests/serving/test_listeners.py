"""Both environments from one real `pesabox serve` process, over real sockets and real TLS:
the sandbox on http and https, production on 1-way TLS (OAuth, STK) and mutual TLS (every
other API, with the calling app's organisation's certificate)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pesabox.storage import certificates_store
from pesabox.storage.db import make_engine, read_transaction
from tests.pki_support import ThrowawayCA
from tests.serving.served import (
    ServeProcess,
    exchange,
    serving,
    tls_client,
    tls_context,
)
from tests.serving.world import SHOP, App, ClientCertificate, World, balance_body
from tests.support import basic_auth, stk_body

BALANCE = "/mpesa/accountbalance/v1/query"
STK_PUSH = "/mpesa/stkpush/v1/processrequest"


@pytest.fixture(scope="module")
def world(sqlite_world: World) -> World:
    return sqlite_world


@pytest.fixture(scope="module")
def server(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    with serving(world, tmp_path_factory.mktemp("serve")) as served:
        yield served


def _token(client: httpx.Client, base: str, app: App) -> str:
    reply = client.get(
        f"{base}/oauth/v1/generate",
        params={"grant_type": "client_credentials"},
        headers={"Authorization": basic_auth(app.key, app.secret)},
    )
    assert reply.status_code == 200, reply.text
    token: str = reply.json()["access_token"]
    return token


def _balance(
    world: World, server: ServeProcess, presented: ClientCertificate | None, app: App
) -> httpx.Response:
    base = server.url("production", "mtls")
    with tls_client(world, presented) as client:
        token = _token(client, base, app)
        return client.post(
            f"{base}{BALANCE}",
            json=balance_body(world),
            headers={"Authorization": f"Bearer {token}"},
        )


def test_every_listener_is_announced_and_production_has_no_plain_one(
    server: ServeProcess,
) -> None:
    assert sorted(server.urls) == [
        ("production", "https"), ("production", "mtls"), ("sandbox", "http"), ("sandbox", "https"),
    ]  # fmt: skip
    assert server.url("sandbox", "http").startswith("http://")
    for environment, kind in server.urls:
        if (environment, kind) != ("sandbox", "http"):
            assert server.url(environment, kind).startswith("https://")


def test_plain_http_to_a_production_listener_gets_no_answer(server: ServeProcess) -> None:
    plain = server.url("production", "https").replace("https://", "http://")
    with httpx.Client(timeout=5.0) as client, pytest.raises(httpx.TransportError):
        client.get(f"{plain}/oauth/v1/generate")


def test_the_sandbox_answers_on_http_and_https(world: World, server: ServeProcess) -> None:
    with tls_client(world, None) as client:
        for kind in ("http", "https"):
            base = server.url("sandbox", kind)
            token = _token(client, base, world.sandbox_app)
            reply = client.post(
                f"{base}{STK_PUSH}", json=stk_body(), headers={"Authorization": f"Bearer {token}"}
            )
            assert reply.status_code == 200, reply.text


def test_stk_on_production_needs_no_client_certificate(world: World, server: ServeProcess) -> None:
    base = server.url("production", "https")
    with tls_client(world, None) as client:
        token = _token(client, base, world.production_app)
        reply = client.post(
            f"{base}{STK_PUSH}",
            json=stk_body(callback_url=f"{SHOP}/stk"),
            headers={"Authorization": f"Bearer {token}"},
        )
    assert reply.status_code == 200, reply.text
    assert reply.json()["ResponseCode"] == "0"


def test_a_sandbox_token_means_nothing_in_production(world: World, server: ServeProcess) -> None:
    with tls_client(world, None) as client:
        token = _token(client, server.url("sandbox", "https"), world.sandbox_app)
        reply = client.post(
            f"{server.url('production', 'https')}{STK_PUSH}",
            json=stk_body(callback_url=f"{SHOP}/stk"),
            headers={"Authorization": f"Bearer {token}"},
        )
    assert reply.status_code == 404
    assert reply.json()["errorCode"] == "404.001.03"


def test_the_organisations_certificate_opens_the_mutual_tls_apis(
    world: World, server: ServeProcess
) -> None:
    reply = _balance(world, server, world.organisation_certificate, world.production_app)
    assert reply.status_code == 200, reply.text
    assert reply.json()["ResponseCode"] == "0"


def test_without_a_certificate_the_api_says_so(world: World, server: ServeProcess) -> None:
    for kind in ("mtls", "https"):
        base = server.url("production", kind)
        with tls_client(world, None) as client:
            token = _token(client, base, world.production_app)
            reply = client.post(
                f"{base}{BALANCE}",
                json=balance_body(world),
                headers={"Authorization": f"Bearer {token}"},
            )
        assert reply.status_code == 403, reply.text
        assert reply.json()["errorCode"] == "403.009.02"
        assert reply.json()["errorMessage"] == "Client certificate required"


def test_another_organisations_certificate_is_refused(world: World, server: ServeProcess) -> None:
    reply = _balance(world, server, world.other_organisation_certificate, world.production_app)
    assert reply.status_code == 403, reply.text
    assert reply.json()["errorCode"] == "403.009.03"


def test_an_app_of_no_organisation_is_refused(world: World, server: ServeProcess) -> None:
    reply = _balance(world, server, world.organisation_certificate, world.unbound_app)
    assert reply.status_code == 403, reply.text
    assert reply.json()["errorCode"] == "403.009.04"


def test_another_cas_certificate_fails_the_handshake(
    world: World, server: ServeProcess, tmp_path: Path
) -> None:
    stranger = ThrowawayCA("Not pesabox").issue("shop-api-client")
    presented = ClientCertificate(stranger.certificate_pem, stranger.private_key_pem)
    outcome = exchange(server.url("production", "mtls"), tls_context(world, presented))
    assert outcome == "refused"


def test_an_expired_certificate_fails_the_handshake(world: World, server: ServeProcess) -> None:
    context = tls_context(world, world.expired_certificate)
    assert exchange(server.url("production", "mtls"), context) == "refused"


def test_the_organisations_certificate_passes_the_handshake(
    world: World, server: ServeProcess
) -> None:
    context = tls_context(world, world.organisation_certificate)
    assert exchange(server.url("production", "mtls"), context) == "answered"


def test_the_sandbox_serves_productions_own_certificate(world: World, server: ServeProcess) -> None:
    engine = make_engine(world.settings.production_url())
    try:
        with read_transaction(engine) as conn:
            production = certificates_store.get(conn, "production")
    finally:
        engine.dispose()
    assert production is not None
    with httpx.Client(timeout=10.0) as client:
        served = client.get(
            f"{server.url('sandbox', 'http')}/sandbox/v1/certificates/production.cer"
        )
    assert served.status_code == 200
    assert served.text == production.certificate_pem


def test_productions_pages_are_on_its_one_way_listener(world: World, server: ServeProcess) -> None:
    with tls_client(world, None) as client:
        page = client.get(f"{server.url('production', 'https')}/ui/org", follow_redirects=True)
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
