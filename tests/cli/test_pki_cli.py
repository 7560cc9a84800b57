"""`pesabox certs trust-bundle`, `certs broker` and `certs sign-csr` through Typer's runner."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from sqlalchemy import Engine
from typer.testing import CliRunner

from pesabox.cli.main import app
from pesabox.security.csr_policy import client_identity
from pesabox.storage import pki_store
from pesabox.storage.db import read_transaction
from tests.security.pki_helpers import make_csr

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_certs_trust_bundle_makes_the_ca_once(engine: Engine, database_url: str) -> None:
    printed = run("certs", "trust-bundle", "--database-url", database_url)
    assert printed.count("-----BEGIN CERTIFICATE-----") == 4
    assert run("certs", "trust-bundle", "--database-url", database_url) == printed
    with read_transaction(engine) as conn:
        assert pki_store.trust_bundle_pem(conn) == printed


def test_certs_trust_bundle_to_a_file(engine: Engine, database_url: str, tmp_path: Path) -> None:
    out = tmp_path / "pesabox-ca.pem"
    said = run("certs", "trust-bundle", "--out", str(out), "--database-url", database_url)
    assert str(out) in said
    assert len(x509.load_pem_x509_certificates(out.read_bytes())) == 4


def test_certs_broker_prints_each_environments_leaf(engine: Engine, database_url: str) -> None:
    test = x509.load_pem_x509_certificate(
        run("certs", "broker", "testbroker", "--database-url", database_url).encode()
    )
    production = run("certs", "broker", "prodbroker", "--database-url", database_url)
    assert production.count("BEGIN CERTIFICATE") == 1
    assert "testbroker.pesabox.local" in test.subject.rfc4514_string()
    with read_transaction(engine) as conn:
        chain = pki_store.broker_material(conn, "production").chain_pem
    assert chain.startswith(production)


def test_certs_sign_csr_signs_and_records(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    csr_file = tmp_path / "acme.csr"
    csr_file.write_text(make_csr(organisation="Acme Traders Ltd")[0])
    out = tmp_path / "acme.pem"
    run("certs", "sign-csr", "--organisation-id", "12", "--organisation-name",
        "Acme Traders Ltd", "--csr", str(csr_file), "--days", "30", "--out", str(out),
        "--database-url", database_url)  # fmt: skip
    identity = client_identity(out.read_text())
    assert identity is not None and identity.organisation_id == 12
    with read_transaction(engine) as conn:
        [recorded] = pki_store.client_certificates_of(conn, 12)
    assert recorded.serial_hex == identity.serial_hex
    assert recorded.change_request is None
    assert round(recorded.not_after - recorded.not_before) == 30 * 86_400 + 300


def test_certs_sign_csr_refuses_another_organisations_csr(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    csr_file = tmp_path / "other.csr"
    csr_file.write_text(make_csr(organisation="Other Ltd")[0])
    result = runner.invoke(app, ["certs", "sign-csr", "--organisation-id", "12",
        "--organisation-name", "Acme Traders Ltd", "--csr", str(csr_file),
        "--database-url", database_url])  # fmt: skip
    assert result.exit_code == 2
    assert "organisation_mismatch" in result.output
    with read_transaction(engine) as conn:
        assert pki_store.client_certificates_of(conn, 12) == []


def test_certs_sign_csr_refuses_a_missing_file(database_url: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["certs", "sign-csr", "--organisation-id", "1",
        "--organisation-name", "Acme", "--csr", str(tmp_path / "none.csr"),
        "--database-url", database_url])  # fmt: skip
    assert result.exit_code == 2
    assert "cannot read" in result.output
