"""The certificates table on both databases: made once, never replaced."""

from __future__ import annotations

import time

from sqlalchemy import Engine

from pesabox.security.certificates import encrypt_credential
from pesabox.security.credential_check import CredentialDecryptor
from pesabox.storage import certificates_store
from pesabox.storage.db import read_transaction, write_transaction
from pesabox.storage.tables import certificates


def test_store_ensure_certificates_is_idempotent(engine: Engine) -> None:
    first_now = time.time()
    with write_transaction(engine) as conn:
        certificates_store.ensure_certificates(conn, first_now)
    with read_transaction(engine) as conn:
        first = certificates_store.get_all(conn)
    with write_transaction(engine) as conn:
        certificates_store.ensure_certificates(conn, first_now + 60)
    with read_transaction(engine) as conn:
        assert certificates_store.get_all(conn) == first
    assert sorted(first) == ["production", "sandbox"]
    assert first["sandbox"].private_key_pem != first["production"].private_key_pem
    assert {stored.created_at for stored in first.values()} == {first_now}


def test_store_ensure_certificates_fills_in_a_missing_environment(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        certificates_store.ensure_certificates(conn, time.time())
        sandbox = certificates_store.get(conn, "sandbox")
        conn.execute(certificates.delete().where(certificates.c.environment == "production"))
    with write_transaction(engine) as conn:
        certificates_store.ensure_certificates(conn, time.time())
        assert certificates_store.get(conn, "sandbox") == sandbox
        assert certificates_store.get(conn, "production") is not None


def test_store_get_unknown_environment_is_none(engine: Engine) -> None:
    with read_transaction(engine) as conn:
        assert certificates_store.get(conn, "sandbox") is None
        assert certificates_store.get(conn, "staging") is None


def test_store_pairs_build_a_working_decryptor(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        certificates_store.ensure_certificates(conn, time.time())
    with read_transaction(engine) as conn:
        stored = certificates_store.get_all(conn)
    decryptor = CredentialDecryptor({env: s.private_key_pem for env, s in stored.items()})
    for environment, pair in stored.items():
        credential = encrypt_credential("Safaricom999!*!", pair.certificate_pem)
        assert decryptor.candidates(environment, credential) == ("Safaricom999!*!",)
