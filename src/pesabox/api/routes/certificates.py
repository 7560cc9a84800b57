"""`GET /sandbox/v1/certificates/{environment}.cer`: the certificate integrators encrypt
initiator passwords with, served as Daraja's portal serves its own."""

from __future__ import annotations

import asyncio
import time

from litestar import Response, Router, get
from litestar.params import FromPath

from pesabox.api.routes.common import AnyRequest, platform_of
from pesabox.errors import SandboxError
from pesabox.security.certificates import ENVIRONMENTS
from pesabox.storage import certificates_store
from pesabox.storage.db import read_transaction
from pesabox.storage.types import Connection, Engine

# What browsers and `curl -O` expect of a `.cer` download.
CERTIFICATE_MEDIA_TYPE = "application/x-x509-ca-cert"
_SUFFIX = ".cer"


def _read_pem(engine: Engine, environment: str) -> str | None:
    with read_transaction(engine) as conn:
        stored = certificates_store.get(conn, environment)
    return None if stored is None else stored.certificate_pem


@get("/certificates/{filename:str}")
async def certificate(request: AnyRequest, filename: FromPath[str]) -> Response[bytes]:
    # Litestar matches whole path segments, so `.cer` arrives as part of the parameter.
    environment = filename.removesuffix(_SUFFIX)
    if not filename.endswith(_SUFFIX) or environment not in ENVIRONMENTS:
        raise SandboxError("Resource not found", error_code="404.001.01", http_status=404)
    platform = platform_of(request)
    pem = await asyncio.to_thread(_read_pem, platform.engine, environment)
    if pem is None:
        # Start-up makes the pairs; this covers a database emptied or restored since.
        def job(conn: Connection) -> str | None:
            # Wall time, not the sandbox clock: validity dates are read by clients' clocks.
            certificates_store.ensure_certificates(conn, time.time())
            stored = certificates_store.get(conn, environment)
            return None if stored is None else stored.certificate_pem

        pem = await platform.writer.submit(job)
    assert pem is not None
    return Response(
        pem.encode(),
        media_type=CERTIFICATE_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


certificates_router = Router(path="/sandbox/v1", route_handlers=[certificate], tags=["sandbox"])
