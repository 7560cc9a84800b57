"""The platform CA's material and the client certificates it signed, in the platform database.

The root, intermediate and broker certificates are made on first start and kept: the trust
bundle handed to integrators must stay valid across restarts. A broker certificate alone is
reissued (by the same intermediate, so every trust bundle still verifies it) when it nears
its end or lacks a host name the operator has since configured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from pesabox.security.csr_policy import normalised_hostname
from pesabox.security.pki import (
    BROKER_NAMES,
    ENVIRONMENT_BROKERS,
    BrokerMaterial,
    BrokerName,
    CertificateAuthority,
    IssuedMaterial,
    SignedCertificate,
    certificate_hostnames,
    certificate_not_after,
    new_broker,
    new_intermediate,
    new_root,
)
from pesabox.storage.tables_pki import client_certificates, pki_material

__all__ = [
    "AuthorityMissing",
    "ClientCertificateRecord",
    "broker_material",
    "client_ca_pem",
    "client_certificates_of",
    "ensure_authority",
    "find_client_certificate",
    "load_authority",
    "record_client_certificate",
    "trust_bundle_pem",
]

ROOT = "root"
INTERMEDIATE = "intermediate"
# A broker certificate this close to its end is replaced on start, before any peer sees it
# expire.
_BROKER_RENEWAL_S = 30 * 86_400


class AuthorityMissing(LookupError):
    """The CA has not been created in this database: run `ensure_authority` (on start)."""


@dataclass(frozen=True, slots=True)
class ClientCertificateRecord:
    id: int
    organisation_id: int
    organisation_name: str
    serial_hex: str
    subject: str
    cert_pem: str
    not_before: float
    not_after: float
    change_request: str | None
    created_at: float


def _insert_if_absent(conn: Connection, name: str, material: IssuedMaterial, now: float) -> None:
    """Insert the row unless one by that name exists: of two processes racing on a fresh
    database, the second keeps the first's material, and reads it back below."""
    values = {
        "name": name,
        "cert_pem": material.cert_pem,
        "key_pem": material.key_pem,
        "created_at": now,
    }
    statement: Insert
    if conn.dialect.name == "postgresql":
        statement = postgresql.insert(pki_material).on_conflict_do_nothing()
    else:
        statement = sqlite.insert(pki_material).on_conflict_do_nothing()
    conn.execute(statement.values(**values))


def _stored(conn: Connection) -> dict[str, IssuedMaterial]:
    rows = conn.execute(
        select(pki_material.c.name, pki_material.c.cert_pem, pki_material.c.key_pem)
    )
    return {row.name: IssuedMaterial(row.cert_pem, row.key_pem) for row in rows}


def _broker_is_current(material: IssuedMaterial, *, now: float, hostnames: Sequence[str]) -> bool:
    if certificate_not_after(material.cert_pem) - now < _BROKER_RENEWAL_S:
        return False
    wanted = {normalised_hostname(name) for name in hostnames if name.strip()}
    return wanted <= certificate_hostnames(material.cert_pem)


def _renew_broker(
    conn: Connection, name: BrokerName, *, old: IssuedMaterial, fresh: IssuedMaterial, now: float
) -> None:
    # Conditional on the certificate read: a process that renewed it meanwhile wins.
    conn.execute(
        update(pki_material)
        .where(pki_material.c.name == name, pki_material.c.cert_pem == old.cert_pem)
        .values(cert_pem=fresh.cert_pem, key_pem=fresh.key_pem, created_at=now)
    )


def ensure_authority(conn: Connection, *, now: float, hostnames: Sequence[str] = ()) -> None:
    """Create whatever CA material is missing and keep what exists; idempotent.

    `hostnames` (PESABOX_TLS_HOSTNAMES) are added to the loopback names of both broker
    certificates. Run it in a write db transaction on the platform database."""
    stored = _stored(conn)
    if ROOT not in stored:
        _insert_if_absent(conn, ROOT, new_root(now=now), now)
        stored = _stored(conn)
    if INTERMEDIATE not in stored:
        _insert_if_absent(conn, INTERMEDIATE, new_intermediate(stored[ROOT], now=now), now)
        stored = _stored(conn)
    intermediate = stored[INTERMEDIATE]
    for name in BROKER_NAMES:
        existing = stored.get(name)
        if existing is not None and _broker_is_current(existing, now=now, hostnames=hostnames):
            continue
        fresh = new_broker(name, intermediate, now=now, hostnames=hostnames)
        if existing is None:
            _insert_if_absent(conn, name, fresh, now)
        else:
            _renew_broker(conn, name, old=existing, fresh=fresh, now=now)


def _material(conn: Connection, *names: str) -> list[IssuedMaterial]:
    stored = _stored(conn)
    missing = [name for name in names if name not in stored]
    if missing:
        raise AuthorityMissing(
            f"the platform CA has no {', '.join(missing)} yet; start pesabox once to make it"
        )
    return [stored[name] for name in names]


def load_authority(conn: Connection) -> CertificateAuthority:
    root, intermediate = _material(conn, ROOT, INTERMEDIATE)
    return CertificateAuthority(root_pem=root.cert_pem, intermediate=intermediate)


def client_ca_pem(conn: Connection) -> str:
    """Root and intermediate: what the mutual-TLS listener verifies client certificates
    against, and what a callback receiver trusts for pesabox's brokers."""
    root, intermediate = _material(conn, ROOT, INTERMEDIATE)
    return root.cert_pem + intermediate.cert_pem


def trust_bundle_pem(conn: Connection) -> str:
    """Root, intermediate, testbroker and prodbroker, in that order: the file integrators
    download to trust pesabox's listeners and verify its callbacks."""
    materials = _material(conn, ROOT, INTERMEDIATE, *BROKER_NAMES)
    return "".join(material.cert_pem for material in materials)


def broker_material(conn: Connection, environment: str) -> BrokerMaterial:
    """The broker certificate chain (leaf + intermediate) and key an environment's
    listeners and callbacks present: testbroker for sandbox, prodbroker for production."""
    broker = ENVIRONMENT_BROKERS.get(environment)
    if broker is None:
        raise ValueError(f"unknown environment {environment!r}")
    leaf, intermediate = _material(conn, broker, INTERMEDIATE)
    return BrokerMaterial(chain_pem=leaf.cert_pem + intermediate.cert_pem, key_pem=leaf.key_pem)


def record_client_certificate(
    conn: Connection,
    signed: SignedCertificate,
    *,
    organisation_id: int,
    organisation_name: str,
    change_request: str | None = None,
    now: float,
) -> ClientCertificateRecord:
    row = conn.execute(
        client_certificates.insert()
        .values(
            organisation_id=organisation_id,
            organisation_name=organisation_name,
            serial_hex=signed.serial_hex,
            subject=signed.subject,
            cert_pem=signed.pem,
            not_before=signed.not_before,
            not_after=signed.not_after,
            change_request=change_request,
            created_at=now,
        )
        .returning(*client_certificates.c)
    ).one()
    return _record(row)


def _record(row: object) -> ClientCertificateRecord:
    return ClientCertificateRecord(
        **{column.name: getattr(row, column.name) for column in client_certificates.c}
    )


def client_certificates_of(conn: Connection, organisation_id: int) -> list[ClientCertificateRecord]:
    """An organisation's certificates, newest first."""
    rows = conn.execute(
        select(client_certificates)
        .where(client_certificates.c.organisation_id == organisation_id)
        .order_by(client_certificates.c.created_at.desc(), client_certificates.c.id.desc())
    )
    return [_record(row) for row in rows]


def find_client_certificate(conn: Connection, serial_hex: str) -> ClientCertificateRecord | None:
    row = conn.execute(
        select(client_certificates).where(
            client_certificates.c.serial_hex == serial_hex.strip().lower()
        )
    ).first()
    return None if row is None else _record(row)
