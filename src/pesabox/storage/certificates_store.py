"""The certificates table: each environment's initiator-encryption key pair, made once.

A certificate is published to integrators who encrypt with it for ever after, so the pair
is created on first start and never replaced here; a new pair would silently break every
credential already in clients' configuration.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from pesabox.security.certificates import ENVIRONMENTS, new_certificate_material
from pesabox.storage.tables import certificates

__all__ = ["StoredCertificate", "ensure_certificates", "get", "get_all"]


@dataclass(frozen=True, slots=True)
class StoredCertificate:
    environment: str
    private_key_pem: str
    certificate_pem: str
    created_at: float


def _record(row: object) -> StoredCertificate:
    return StoredCertificate(
        environment=row.environment,  # type: ignore[attr-defined]
        private_key_pem=row.private_key_pem,  # type: ignore[attr-defined]
        certificate_pem=row.certificate_pem,  # type: ignore[attr-defined]
        created_at=row.created_at,  # type: ignore[attr-defined]
    )


def ensure_certificates(conn: Connection, now: float) -> None:
    """Create the pair of every environment that has none; leave existing ones alone.

    Run it in a write db transaction: writers take turns (see `write_transaction`), so two
    processes starting together cannot both find a row missing and both insert it.
    """
    present = set(get_all(conn))
    for environment in ENVIRONMENTS:
        if environment in present:
            continue
        # Key generation takes about 60 ms per environment, once per database.
        material = new_certificate_material(environment, now=now)
        conn.execute(
            certificates.insert().values(
                environment=environment,
                private_key_pem=material.private_key_pem,
                certificate_pem=material.certificate_pem,
                created_at=now,
            )
        )


def get(conn: Connection, environment: str) -> StoredCertificate | None:
    row = conn.execute(
        select(certificates).where(certificates.c.environment == environment)
    ).first()
    return None if row is None else _record(row)


def get_all(conn: Connection) -> dict[str, StoredCertificate]:
    """Every environment's pair, for building a `CredentialDecryptor`."""
    rows = conn.execute(select(certificates).order_by(certificates.c.environment))
    return {row.environment: _record(row) for row in rows}
