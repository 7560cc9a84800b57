"""Production's transport rules, checked on every request before any other work.

Production is served over TLS only. OAuth and M-Pesa Express (push and query) need nothing
more, as on Daraja's 1-way TLS gateway, nor do the paths that are no integrator API (health,
the /ui pages, the API docs): an allowlist, `OPEN_PATHS` and `OPEN_PREFIXES`. Every other
path needs a client certificate from the platform CA (ssl verified it during the handshake)
whose organizationIdentifier names the organisation of the app making the call. A path that
is not canonical (an empty, `.` or `..` segment, also when percent-encoded) is refused
before the decision, as the router may still match it to an API (404.001.01).

The certificate reaches the app through the ASGI TLS extension
(`scope["extensions"]["tls"]["client_cert_chain"]`), which pesabox's uvicorn protocol fills in
(serving/tls_protocol.py). The sandbox has none of these rules.

A request with more than one Authorization header is refused (404.001.04 Invalid
Authentication Header): the organisation check and the API must read the same one.

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
    InvalidAuthenticationHeader,
    ResourceNotFound,
)
from pesabox.security.csr_policy import client_identity
from pesabox.security.oauth import AccessTokens

__all__ = [
    "OPEN_PATHS",
    "OPEN_PREFIXES",
    "ProductionTransport",
    "authorization_header",
    "client_certificate_pem",
    "is_canonical_path",
    "needs_client_certificate",
]

# Open to any https caller: OAuth and M-Pesa Express (Daraja's 1-way TLS APIs), and what is
# not an integrator API. Everything else needs the organisation's certificate, so a route
# added later is protected until it is opened here on purpose.
OPEN_PATHS = frozenset(
    {
        "/oauth/v1/generate",
        "/mpesa/stkpush/v1/processrequest",
        "/mpesa/stkpushquery/v1/query",
        "/healthz",
        "/ui",
        "/docs",
    }
)
# The /ui pages and their static files; the OpenAPI documents.
OPEN_PREFIXES = ("/ui/", "/docs/")


def is_canonical_path(path: str) -> bool:
    """Whether `path` (percent-decoded, as in the ASGI scope) has no empty, `.` or `..`
    segment; a trailing slash is allowed."""
    if not path.startswith("/"):
        return False
    segments = path[1:].split("/")
    if len(segments) > 1 and segments[-1] == "":
        segments.pop()
    return not any(segment in ("", ".", "..") for segment in segments) or path == "/"


def needs_client_certificate(path: str) -> bool:
    """Whether a production request to the canonical `path` must come with an organisation's
    certificate: every path but the open ones."""
    bare = path.rstrip("/") or "/"
    return bare not in OPEN_PATHS and not path.startswith(OPEN_PREFIXES)


def client_certificate_pem(scope: dict[str, Any]) -> str | None:
    """The verified peer certificate of the connection, PEM, from the ASGI TLS extension."""
    tls = (scope.get("extensions") or {}).get("tls")
    chain = tls.get("client_cert_chain") if tls else None
    return chain[0] if chain else None


def authorization_header(scope: dict[str, Any]) -> str | None:
    """The request's one Authorization header. Two or more are refused: the organisation
    check here and the API behind it could otherwise each read a different one."""
    values = [value for key, value in scope["headers"] if key.lower() == b"authorization"]
    if len(values) > 1:
        raise InvalidAuthenticationHeader()
    return bytes(values[0]).decode("latin-1") if values else None


class ProductionTransport:
    """Admits or refuses one production request (raises a `TransportRefused`)."""

    def __init__(self, tokens: AccessTokens) -> None:
        self._tokens = tokens

    async def admit(self, scope: dict[str, Any]) -> None:
        if scope.get("scheme") != "https":
            raise HttpsRequired()
        path = scope.get("path", "")
        if not is_canonical_path(path):
            # The router may still match `//mpesa/...` or `/ui/../mpesa/...` to an API.
            raise ResourceNotFound()
        authorization = authorization_header(scope)
        if not needs_client_certificate(path):
            return
        pem = client_certificate_pem(scope)
        if pem is None:
            raise ClientCertificateRequired()
        # Memoised per certificate: a client keeps its certificate for its whole life.
        identity = client_identity(pem)
        if identity is None:
            # A certificate of the platform CA that names no organisation (a broker's).
            raise CertificateOrganisationMismatch()
        grant = await self._tokens.grant_of(authorization)
        if grant is None:
            return
        if grant.organisation_id is None:
            raise AppWithoutOrganisation()
        if grant.organisation_id != identity.organisation_id:
            raise CertificateOrganisationMismatch()
