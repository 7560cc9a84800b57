"""What the initiator API tests (B2C, B2B, balance, status, reversal) share: the sandbox
initiator's SecurityCredential, and balance reads."""

from __future__ import annotations

from sqlalchemy import select

from pesabox.sandbox import fixtures
from pesabox.security.certificates import encrypt_credential
from pesabox.storage import certificates_store
from pesabox.storage.db import read_transaction, write_transaction
from pesabox.storage.tables import accounts
from tests.api.conftest import Gateway


def sandbox_credential(gateway: Gateway, password: str = fixtures.INITIATOR_PASSWORD) -> str:
    """A SecurityCredential made as a client makes it, with the sandbox certificate."""
    with write_transaction(gateway.platform.engine) as conn:
        certificates_store.ensure_certificates(conn, 0.0)
        certificate = certificates_store.get(conn, "sandbox")
    assert certificate is not None
    return encrypt_credential(password, certificate.certificate_pem)


def balance_cents(gateway: Gateway, code: str) -> int:
    """An account's posted balance; 0 for an account not created yet."""
    with read_transaction(gateway.platform.engine) as conn:
        found = conn.execute(
            select(accounts.c.credits_posted - accounts.c.debits_posted).where(
                accounts.c.code == code
            )
        ).scalar()
    return int(found or 0)
