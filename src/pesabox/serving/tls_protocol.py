"""uvicorn's httptools protocol, plus the ASGI TLS extension on every request of a TLS
connection: `scope["extensions"]["tls"]`, with the client certificate the handshake verified.

uvicorn fills in no TLS extension itself. The peer certificate is read once, when the
connection is made (asyncio calls `connection_made` after the handshake), and the same dict
is shared by every request on the connection; the app treats it as read-only.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["TlsHttpToolsProtocol", "tls_extension"]

# The ASGI TLS extension's `tls_version`: the TLS protocol number.
_TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


def tls_extension(ssl_object: ssl.SSLObject) -> dict[str, Any]:
    """The extension's dict for a finished handshake."""
    der = ssl_object.getpeercert(binary_form=True)
    return {
        "server_cert": None,
        "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [],
        "client_cert_name": None,
        "client_cert_error": None,
        "tls_version": _TLS_VERSIONS.get(ssl_object.version() or ""),
        "cipher_suite": None,
    }


class TlsHttpToolsProtocol(HttpToolsProtocol):
    _tls: dict[str, Any] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        self._tls = tls_extension(ssl_object) if ssl_object is not None else None

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._tls is not None:
            self.scope["extensions"] = {"tls": self._tls}  # type: ignore[dict-item]
