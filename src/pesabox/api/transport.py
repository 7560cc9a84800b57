"""Production's transport rules, checked on every request before any other work.

Production is served over TLS only. OAuth and M-Pesa Express (push and query) need nothing
more, as on Daraja's 1-way TLS gateway; every other API needs a client certificate from the
platform CA (ssl verified it during the handshake) whose organizationIdentifier names the
organisation of the app making the call. The certificate reaches the app through the ASGI TLS
extension (`scope["extensions"]["tls"]["client_cert_chain"]`), which pesabox's uvicorn
protocol fills in (serving/tls_protocol.py). The sandbox has none of these rules.

A refusal is a Daraja-shaped 403 (`pesabox.errors.TransportRefused`); the codes are listed in
docs/reference/transport.md. A missing or bad token is left to the API, which answers it in
its own words, so the certificate rules never change what an integrator sees for a token.
"""

from __future__ import annotations

from typing import Any

from pesabox.errors import (
    AppWithoutOrganisation,
    CertificateOrganisationMismatch,
    ClientCertificateRequired,
    HttpsRequired,
)
from pesabox.security.csr_policy import client_identity
from pesabox.security.oauth import AccessTokens

__all__ = ["ProductionTransport", "client_certificate_pem", "needs_client_certificate"]

_API_PREFIX = "/mpesa/"
# Open to any https caller with a token: Daraja's 1-way TLS APIs. (OAuth is not under /mpesa/.)
_ONE_WAY_TLS_APIS = frozenset({"/mpesa/stkpush/v1/processrequest", "/mpesa/stkpushquery/v1/query"})


def needs_client_certificate(path: str) -> bool:
    """Whether a production request to `path` must come with an organisation's certificate."""
    return path.startswith(_API_PREFIX) and path not in _ONE_WAY_TLS_APIS


def client_certificate_pem(scope: dict[str, Any]) -> str | None:
    """The verified peer certificate of the connection, PEM, from the ASGI TLS extension."""
    tls = (scope.get("extensions") or {}).get("tls")
    chain = tls.get("client_cert_chain") if tls else None
    return chain[0] if chain else None


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class ProductionTransport:
    """Admits or refuses one production request (raises a `TransportRefused`)."""

    def __init__(self, tokens: AccessTokens) -> None:
        self._tokens = tokens

    async def admit(self, scope: dict[str, Any]) -> None:
        if scope.get("scheme") != "https":
            raise HttpsRequired()
        if not needs_client_certificate(scope.get("path", "")):
            return
        pem = client_certificate_pem(scope)
        if pem is None:
            raise ClientCertificateRequired()
        # Memoised per certificate: a client keeps its certificate for its whole life.
        identity = client_identity(pem)
        if identity is None:
            # A certificate of the platform CA that names no organisation (a broker's).
            raise CertificateOrganisationMismatch()
        grant = await self._tokens.grant_of(_header(scope, b"authorization"))
        if grant is None:
            return
        if grant.organisation_id is None:
            raise AppWithoutOrganisation()
        if grant.organisation_id != identity.organisation_id:
            raise CertificateOrganisationMismatch()
