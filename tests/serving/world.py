"""Both environments' databases, made ready for serving tests through the stores: the
platform database seeded as the sandbox, production's with a bound app, and client
certificates from the platform CA (the organisation's, another organisation's, an expired
one).

Production's organisations, shortcodes and initiator come from the sandbox seed run on the
production database: a test shortcut for what onboarding does there (its own data, in its
own database, so nothing is shared with the sandbox's).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from pesabox.domain.products import ALL_PRODUCTS
from pesabox.sandbox.fixtures import INITIATOR_PASSWORD
from pesabox.sandbox.seed import seed
from pesabox.security.certificates import encrypt_credential
from pesabox.security.credentials import new_consumer_credentials, secret_digest
from pesabox.serving.environments import prepare_databases
from pesabox.settings import Settings
from pesabox.storage import apps_store, certificates_store, pki_store
from pesabox.storage.db import make_engine, write_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.tables import organisations
from pesabox.storage.types import Connection

SHOP = "https://shop.example"
# The production organisation whose app calls the mutual-TLS APIs, and another one.
ORGANISATION = "Safaricom Daraja 000"
PAYBILL = "600000"
OTHER_ORGANISATION = "Safaricom Daraja 996"
_DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class ClientCertificate:
    cert_pem: str
    key_pem: str


@dataclass(frozen=True, slots=True)
class App:
    key: str
    secret: str


@dataclass(frozen=True, slots=True)
class World:
    settings: Settings
    # Root and intermediate: what clients trust for pesabox's listeners.
    ca_pem: str
    sandbox_app: App
    production_app: App
    # An app of the production database that belongs to no organisation.
    unbound_app: App
    organisation_id: int
    organisation_certificate: ClientCertificate
    other_organisation_certificate: ClientCertificate
    expired_certificate: ClientCertificate
    # The production initiator's password, encrypted with production's certificate.
    production_credential: str


def _client_csr() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shop-api-client")]))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return csr.public_bytes(serialization.Encoding.PEM).decode(), key_pem


def sign_client_certificate(
    conn: Connection, *, organisation_id: int, name: str, now: float, days: int = 30
) -> ClientCertificate:
    csr_pem, key_pem = _client_csr()
    signed = pki_store.load_authority(conn).sign_csr(
        csr_pem, organisation_id=organisation_id, organisation_name=name, validity_days=days,
        now=now,
    )  # fmt: skip
    return ClientCertificate(signed.pem, key_pem)


def organisation_id_of(conn: Connection, name: str) -> int:
    found = conn.execute(select(organisations.c.id).where(organisations.c.name == name)).scalar()
    assert found is not None, name
    return int(found)


def new_app(conn: Connection, *, name: str, organisation_id: int | None, now: float) -> App:
    key, secret = new_consumer_credentials()
    apps_store.insert_app(
        conn, name=name, consumer_key=key, secret_digest=secret_digest(secret),
        products=ALL_PRODUCTS, now=now, organisation_id=organisation_id,
    )  # fmt: skip
    return App(key, secret)


def build_world(settings: Settings) -> World:
    now = time.time()
    prepare_databases(settings)
    platform = make_engine(settings.database_url)
    production = make_engine(settings.production_url())
    try:
        with write_transaction(platform) as conn:
            seeded = seed(conn, now=now, ledger=LedgerStore())
            pki_store.ensure_authority(conn, now=now)
            ca_pem = pki_store.client_ca_pem(conn)
        with write_transaction(production) as conn:
            unbound = seed(conn, now=now, ledger=LedgerStore())
            organisation_id = organisation_id_of(conn, ORGANISATION)
            other_id = organisation_id_of(conn, OTHER_ORGANISATION)
            bound = new_app(conn, name="shop", organisation_id=organisation_id, now=now)
            certificate = certificates_store.get(conn, "production")
            assert certificate is not None
            credential = encrypt_credential(INITIATOR_PASSWORD, certificate.certificate_pem)
        with write_transaction(platform) as conn:
            own = sign_client_certificate(
                conn, organisation_id=organisation_id, name=ORGANISATION, now=now
            )
            other = sign_client_certificate(
                conn, organisation_id=other_id, name=OTHER_ORGANISATION, now=now
            )
            expired = sign_client_certificate(
                conn, organisation_id=organisation_id, name=ORGANISATION,
                now=now - 10 * _DAY_S, days=2,
            )  # fmt: skip
    finally:
        platform.dispose()
        production.dispose()
    return World(
        settings=settings,
        ca_pem=ca_pem,
        sandbox_app=App(seeded.consumer_key, seeded.consumer_secret),
        production_app=bound,
        unbound_app=App(unbound.consumer_key, unbound.consumer_secret),
        organisation_id=organisation_id,
        organisation_certificate=own,
        other_organisation_certificate=other,
        expired_certificate=expired,
        production_credential=credential,
    )


def balance_body(world: World) -> dict[str, Any]:
    """An Account Balance query of the organisation's PayBill by the production initiator."""
    return {
        "Initiator": "testapi",
        "SecurityCredential": world.production_credential,
        "CommandID": "AccountBalance",
        "PartyA": PAYBILL,
        "IdentifierType": "4",
        "Remarks": "ok",
        "QueueTimeOutURL": f"{SHOP}/balance/queue",
        "ResultURL": f"{SHOP}/balance/result",
    }
