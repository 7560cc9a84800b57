"""The platform CA's material, loaded once by the serving parent, and the listeners' SSL
contexts built from it in each process (an SSLContext cannot cross a process boundary; PEM
text can). Callbacks' contexts are callbacks/tls.py's.

Ensuring the CA writes to the platform database, so the parent does it before any worker
starts: workers only read what it made.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass

from pesabox.callbacks.tls import load_callback_tls
from pesabox.security.pki import BrokerMaterial
from pesabox.security.tls_contexts import server_context
from pesabox.serving.listeners import Listener
from pesabox.settings import Settings
from pesabox.storage import pki_store
from pesabox.storage.db import make_engine, write_transaction

__all__ = ["TlsMaterial", "listener_context", "load_tls_material"]


@dataclass(frozen=True, slots=True)
class TlsMaterial:
    # Each served environment's broker chain and key (testbroker, prodbroker).
    brokers: dict[str, BrokerMaterial]
    # Root and intermediate: what client certificates are verified against.
    client_ca_pem: str


def load_tls_material(settings: Settings) -> TlsMaterial:
    """Make whatever CA material is missing in the platform database, then read it.
    Raises `CallbackCaFileError` for an unusable PESABOX_CALLBACK_CA_FILE, before any
    listener opens."""
    engine = make_engine(settings.database_url)
    try:
        with write_transaction(engine) as conn:
            # Wall time: the certificates' validity is read by clients' clocks.
            pki_store.ensure_authority(
                conn, now=time.time(), hostnames=settings.tls_hostname_list()
            )
            brokers: dict[str, BrokerMaterial] = {
                environment: pki_store.broker_material(conn, environment)
                for environment in settings.served_environments
            }
            client_ca_pem = pki_store.client_ca_pem(conn)
        for environment in settings.served_environments:
            load_callback_tls(engine, environment=environment, settings=settings)
    finally:
        engine.dispose()
    return TlsMaterial(brokers, client_ca_pem)


def listener_context(listener: Listener, material: TlsMaterial) -> ssl.SSLContext | None:
    """None for plain http. The mutual-TLS listener asks for a client certificate and
    verifies it against the platform CA (another CA's or an expired one fails the
    handshake); a client without one is let through for the app to refuse in words."""
    if listener.kind == "http":
        return None
    client_ca = material.client_ca_pem if listener.kind == "mtls" else None
    return server_context(material.brokers[listener.environment], client_ca_pem=client_ca)
