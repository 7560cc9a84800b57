"""An app behind a TLS connection, in-process: the ASGI TLS extension as pesabox's uvicorn
protocol fills it in (serving/tls_protocol.py). The real listeners are tested in
test_listeners; this is the seam for tests of the app alone."""

from __future__ import annotations

from typing import Any

from pesabox.api.fastpath import ASGIApp
from tests.serving.world import ClientCertificate


def presenting(app: ASGIApp, certificate: ClientCertificate | None) -> ASGIApp:
    """`app` as reached over a TLS connection that presented `certificate` (or none)."""
    chain = [certificate.cert_pem] if certificate is not None else []

    async def connection(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {**scope, "extensions": {"tls": {"client_cert_chain": chain}}}
        await app(scope, receive, send)

    return connection
