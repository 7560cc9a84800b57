"""The TLS context https callbacks go out with, built from the platform database.

Each environment presents its own broker certificate as the client certificate (`testbroker`
for the sandbox, `prodbroker` for production), so a business's mutual-TLS listener can tell
pesabox's callbacks from anyone's, and which environment sent them. Receivers are verified
against the system's CAs, the platform CA (a business may serve its callback listener with
the client certificate pesabox signed for it) and PESABOX_CALLBACK_CA_FILE, when set.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from pesabox.security.tls_contexts import callback_client_context
from pesabox.settings import Settings
from pesabox.storage import pki_store
from pesabox.storage.db import read_transaction
from pesabox.storage.types import Connection, Engine

__all__ = ["CallbackCaFileError", "callback_tls", "load_callback_tls"]


class CallbackCaFileError(ValueError):
    """PESABOX_CALLBACK_CA_FILE cannot be read, or holds no certificate ssl accepts."""


def load_callback_tls(
    platform_engine: Engine, *, environment: str, settings: Settings
) -> ssl.SSLContext:
    """`callback_tls` in its own read db transaction on the platform database (the CA must
    exist: `pki_store.ensure_authority` runs first)."""
    with read_transaction(platform_engine) as conn:
        return callback_tls(conn, environment=environment, settings=settings)


def callback_tls(conn: Connection, *, environment: str, settings: Settings) -> ssl.SSLContext:
    """The context for `Platform(callback_tls=...)` of `environment`."""
    trusted = pki_store.client_ca_pem(conn) + _extra_ca_pem(settings.callback_ca_file)
    material = pki_store.broker_material(conn, environment)
    try:
        return callback_client_context(material, extra_ca_pem=trusted)
    except ssl.SSLError as error:
        # The platform's own PEMs are known good, so a bad one came from the file.
        raise CallbackCaFileError(
            f"PESABOX_CALLBACK_CA_FILE {settings.callback_ca_file}: not PEM certificates "
            f"ssl accepts ({error.reason or error})"
        ) from None


def _extra_ca_pem(path: str | None) -> str:
    if not path:
        return ""
    try:
        text = Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise CallbackCaFileError(f"PESABOX_CALLBACK_CA_FILE {path}: {error}") from None
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise CallbackCaFileError(f"PESABOX_CALLBACK_CA_FILE {path}: no PEM certificate in it")
    # A newline between the bundles, in case the platform CA's PEM lacks a final one.
    return "\n" + text
