"""The ASGI TLS extension, as pesabox's uvicorn protocol fills it in, seen by an app behind a
real TLS listener on loopback."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn

from pesabox.security.pki import BrokerMaterial
from pesabox.security.tls_contexts import client_context, server_context
from pesabox.serving.tls_protocol import TlsHttpToolsProtocol
from tests.pki_support import Leaf, ThrowawayCA

CA = ThrowawayCA("listener CA")


async def echo_scope(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers with what the request's scope says about TLS."""
    if scope["type"] != "http":
        return
    body = json.dumps({"scheme": scope["scheme"], "extensions": scope.get("extensions")})
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body.encode()})


async def _serve(context: ssl.SSLContext | None) -> AsyncIterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        echo_scope, lifespan="off", http=TlsHttpToolsProtocol, log_level="warning",
        ssl_context_factory=(lambda _c, _d: context) if context else None,
    )  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"{'https' if context else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def mutual_tls() -> AsyncIterator[str]:
    leaf = CA.issue("listener")
    material = BrokerMaterial(leaf.certificate_pem, leaf.private_key_pem)
    async for url in _serve(server_context(material, client_ca_pem=CA.certificate_pem)):
        yield url


@pytest.fixture
async def plain() -> AsyncIterator[str]:
    async for url in _serve(None):
        yield url


def _client(presented: Leaf | None) -> httpx.AsyncClient:
    if presented is None:
        context = client_context(ca_pem=CA.certificate_pem)
    else:
        context = client_context(ca_pem=CA.certificate_pem, cert_pem=presented.certificate_pem,
                                 key_pem=presented.private_key_pem)  # fmt: skip
    return httpx.AsyncClient(verify=context, timeout=10.0)


async def test_the_presented_certificate_reaches_every_request(mutual_tls: str) -> None:
    presented = CA.issue("shop-api-client")
    async with _client(presented) as client:
        first = (await client.get(mutual_tls)).json()
        second = (await client.get(mutual_tls)).json()  # the same kept-alive connection
    assert first["scheme"] == "https"
    tls = first["extensions"]["tls"]
    assert tls["client_cert_chain"] == [presented.certificate_pem]
    assert tls["tls_version"] in (0x0303, 0x0304)
    assert second["extensions"] == first["extensions"]


async def test_no_certificate_is_an_empty_chain(mutual_tls: str) -> None:
    async with _client(None) as client:
        seen = (await client.get(mutual_tls)).json()
    assert seen["extensions"]["tls"]["client_cert_chain"] == []


async def test_plain_http_has_no_tls_extension(plain: str) -> None:
    async with httpx.AsyncClient(timeout=10.0) as client:
        seen = (await client.get(plain)).json()
    assert seen == {"scheme": "http", "extensions": None}
