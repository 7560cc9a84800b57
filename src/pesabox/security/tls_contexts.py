"""TLS contexts (stdlib `ssl`) for pesabox's listeners, its callbacks, and tests' clients.

`ssl` loads certificate chains and keys only from files, and the platform's keys live in the
database; each load writes them to a private temporary file (mode 0600, in a 0700 directory)
that is removed as soon as the context has read it.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pesabox.security.pki import BrokerMaterial

__all__ = ["callback_client_context", "client_context", "server_context"]


@contextmanager
def _private_files(cert_pem: str, key_pem: str) -> Iterator[tuple[str, str]]:
    # mkdtemp makes the directory 0700 and the files are created 0600: no other user can
    # read the key in the moment it is on disk.
    directory = tempfile.mkdtemp(prefix="pesabox-tls-")
    cert_path = Path(directory, "chain.pem")
    key_path = Path(directory, "key.pem")
    try:
        for path, text in ((cert_path, cert_pem), (key_path, key_pem)):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(text)
        yield str(cert_path), str(key_path)
    finally:
        for path in (cert_path, key_path):
            path.unlink(missing_ok=True)
        os.rmdir(directory)


def _load_chain(context: ssl.SSLContext, *, cert_pem: str, key_pem: str) -> None:
    with _private_files(cert_pem, key_pem) as (cert_path, key_path):
        context.load_cert_chain(cert_path, key_path)


def server_context(material: BrokerMaterial, *, client_ca_pem: str | None) -> ssl.SSLContext:
    """A listener's context: TLS 1.2 or newer, presenting the broker chain.

    With `client_ca_pem` (the platform CA) a client certificate is asked for and verified,
    but not required: a certificate from another CA or an expired one fails the handshake,
    while a client without one gets through to the app, which answers with a Daraja-shaped
    error that says what is missing (a failed handshake tells the integrator nothing)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    _load_chain(context, cert_pem=material.chain_pem, key_pem=material.key_pem)
    if client_ca_pem is not None:
        context.load_verify_locations(cadata=client_ca_pem)
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


def callback_client_context(
    material: BrokerMaterial, *, extra_ca_pem: str | None
) -> ssl.SSLContext:
    """The context callbacks are delivered with: verifies the receiver against the system
    store plus `extra_ca_pem` (the platform CA, PESABOX_CALLBACK_CA_FILE), and presents the
    environment's broker certificate to receivers that ask for a client certificate."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if extra_ca_pem:
        context.load_verify_locations(cadata=extra_ca_pem)
    _load_chain(context, cert_pem=material.chain_pem, key_pem=material.key_pem)
    return context


def client_context(
    *, ca_pem: str, cert_pem: str | None = None, key_pem: str | None = None
) -> ssl.SSLContext:
    """A client trusting only `ca_pem`, optionally presenting a certificate (for tests, the
    benchmark and the bundled client). `cert_pem` may hold the leaf followed by its chain."""
    if (cert_pem is None) != (key_pem is None):
        raise ValueError("give both cert_pem and key_pem, or neither")
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=ca_pem)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert_pem is not None and key_pem is not None:
        _load_chain(context, cert_pem=cert_pem, key_pem=key_pem)
    return context
