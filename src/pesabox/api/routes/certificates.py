"""`GET /sandbox/v1/certificates/{environment}.cer`: the certificate integrators encrypt
initiator passwords with, served as Daraja's portal serves its own.

Each environment decrypts with the key in its own database. When production runs beside the
sandbox (two Platforms, two databases), the sandbox app is handed a `CertificateSource` for
production's certificate at `create_app`, so `production.cer` wraps the key production really
decrypts with; alone, the sandbox serves the pair in its own table.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from litestar import Response, Router, get
from litestar.params import FromPath

from pesabox.api.routes.common import AnyRequest, platform_of
from pesabox.errors import SandboxError
from pesabox.security.certificates import ENVIRONMENTS
from pesabox.storage import certificates_store
from pesabox.storage.db import read_transaction
from pesabox.storage.types import Connection, Engine

if TYPE_CHECKING:
    from pesabox.core.platform import Platform

__all__ = [
    "CERTIFICATE_MEDIA_TYPE",
    "PRODUCTION_CERTIFICATE_STATE",
    "CertificateSource",
    "certificates_router",
    "stored_certificate",
]

# What browsers and `curl -O` expect of a `.cer` download.
CERTIFICATE_MEDIA_TYPE = "application/x-x509-ca-cert"
_SUFFIX = ".cer"
# The app state key under which create_app keeps production's source (None: read our own).
PRODUCTION_CERTIFICATE_STATE = "production_certificate"

# Reads one environment's initiator-encryption certificate, PEM.
CertificateSource = Callable[[], Awaitable[str]]


def stored_certificate(platform: Platform, environment: str) -> CertificateSource:
    """`environment`'s certificate as kept in `platform`'s database."""

    async def read() -> str:
        pem = await asyncio.to_thread(_read_pem, platform.engine, environment)
        if pem is not None:
            return pem

        # Start-up makes the pairs; this covers a database emptied or restored since.
        def job(conn: Connection) -> str | None:
            # Wall time, not the sandbox clock: validity dates are read by clients' clocks.
            certificates_store.ensure_certificates(conn, time.time())
            return _stored_pem(conn, environment)

        made = await platform.writer.submit(job)
        assert made is not None
        return made

    return read


def _read_pem(engine: Engine, environment: str) -> str | None:
    with read_transaction(engine) as conn:
        return _stored_pem(conn, environment)


def _stored_pem(conn: Connection, environment: str) -> str | None:
    stored = certificates_store.get(conn, environment)
    return None if stored is None else stored.certificate_pem


def _source_for(request: AnyRequest, environment: str) -> CertificateSource:
    if environment == "production":
        production: CertificateSource | None = request.app.state.get(PRODUCTION_CERTIFICATE_STATE)
        if production is not None:
            return production
    return stored_certificate(platform_of(request), environment)


@get("/certificates/{filename:str}")
async def certificate(request: AnyRequest, filename: FromPath[str]) -> Response[bytes]:
    # Litestar matches whole path segments, so `.cer` arrives as part of the parameter.
    environment = filename.removesuffix(_SUFFIX)
    if not filename.endswith(_SUFFIX) or environment not in ENVIRONMENTS:
        raise SandboxError("Resource not found", error_code="404.001.01", http_status=404)
    pem = await _source_for(request, environment)()
    return Response(
        pem.encode(),
        media_type=CERTIFICATE_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


certificates_router = Router(path="/sandbox/v1", route_handlers=[certificate], tags=["sandbox"])
