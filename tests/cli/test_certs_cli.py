"""`pesabox certs export` and `pesabox credential encrypt` through Typer's runner."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from sqlalchemy import Engine
from typer.testing import CliRunner

from pesabox.cli.main import app
from pesabox.security.credential_check import CredentialDecryptor
from pesabox.storage import certificates_store
from pesabox.storage.db import read_transaction

runner = CliRunner()
PASSWORD = "Safaricom999!*!"


def run(*args: str, input: str | None = None) -> bytes:
    result = runner.invoke(app, list(args), input=input)
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def decryptor_for(engine: Engine) -> CredentialDecryptor:
    with read_transaction(engine) as conn:
        pairs = certificates_store.get_all(conn)
    return CredentialDecryptor({env: pair.private_key_pem for env, pair in pairs.items()})


def test_certs_export_pem_makes_the_pairs_then_keeps_them(
    engine: Engine, database_url: str
) -> None:
    first = run("certs", "export", "--database-url", database_url)
    again = run("certs", "export", "--environment", "sandbox", "--database-url", database_url)
    assert first == again
    assert x509.load_pem_x509_certificate(first)
    with read_transaction(engine) as conn:
        stored = certificates_store.get(conn, "sandbox")
    assert stored is not None and first.decode() == stored.certificate_pem
    production = run("certs", "export", "--environment", "production", "--database-url",
                     database_url)  # fmt: skip
    assert production != first


def test_certs_export_der_to_a_file(engine: Engine, database_url: str, tmp_path: Path) -> None:
    out = tmp_path / "production.cer"
    said = run("certs", "export", "--environment", "production", "--format", "der",
               "--out", str(out), "--database-url", database_url)  # fmt: skip
    assert str(out).encode() in said
    der = x509.load_der_x509_certificate(out.read_bytes())
    pem = run("certs", "export", "--environment", "production", "--database-url", database_url)
    assert der == x509.load_pem_x509_certificate(pem)


def test_credential_encrypt_with_an_environment(engine: Engine, database_url: str) -> None:
    credential = run("credential", "encrypt", "--password", PASSWORD, "--environment",
                     "production", "--database-url", database_url).decode().strip()  # fmt: skip
    assert len(credential) == 344
    decryptor = decryptor_for(engine)
    assert decryptor.candidates("production", credential) == (PASSWORD,)
    assert PASSWORD not in decryptor.candidates("sandbox", credential)


def test_credential_encrypt_asks_for_the_password(engine: Engine, database_url: str) -> None:
    output = run("credential", "encrypt", "--database-url", database_url, input=PASSWORD + "\n")
    credential = output.decode().strip().splitlines()[-1]
    assert PASSWORD not in output.decode()
    assert decryptor_for(engine).candidates("sandbox", credential) == (PASSWORD,)


def test_credential_encrypt_with_a_certificate_file(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    certificate = tmp_path / "sandbox.cer"
    run("certs", "export", "--format", "der", "--out", str(certificate), "--database-url",
        database_url)  # fmt: skip
    # No database is needed: the file is all a client has.
    credential = run("credential", "encrypt", "--password", PASSWORD, "--certificate",
                     str(certificate)).decode().strip()  # fmt: skip
    assert decryptor_for(engine).candidates("sandbox", credential) == (PASSWORD,)


def test_credential_encrypt_refuses_both_sources(tmp_path: Path) -> None:
    result = runner.invoke(app, ["credential", "encrypt", "--password", PASSWORD,
                                 "--environment", "sandbox", "--certificate",
                                 str(tmp_path / "x.cer")])  # fmt: skip
    assert result.exit_code == 2
    assert "not both" in result.output


def test_credential_encrypt_refuses_an_unreadable_certificate(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["credential", "encrypt", "--password", PASSWORD,
                                  "--certificate", str(tmp_path / "none.cer")])  # fmt: skip
    assert missing.exit_code == 2
    junk = tmp_path / "junk.cer"
    junk.write_bytes(b"not a certificate")
    unreadable = runner.invoke(app, ["credential", "encrypt", "--password", PASSWORD,
                                     "--certificate", str(junk)])  # fmt: skip
    assert unreadable.exit_code == 2
    assert "cannot use" in unreadable.output
