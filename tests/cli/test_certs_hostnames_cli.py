"""`pesabox certs` makes the broker certificates with PESABOX_TLS_HOSTNAMES, as `serve` does,
so what it prints is what the listeners present."""

from __future__ import annotations

import ipaddress

import pytest
from cryptography import x509
from sqlalchemy import Engine
from typer.testing import CliRunner

from pesabox.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize("command", [["broker", "testbroker"], ["trust-bundle"]])
def test_certs_commands_name_the_configured_hostnames(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("PESABOX_TLS_HOSTNAMES", "gateway.example.test,10.1.2.3")
    result = runner.invoke(app, ["certs", *command, "--database-url", database_url])
    assert result.exit_code == 0, result.output
    names: set[object] = set()
    for certificate in x509.load_pem_x509_certificates(result.stdout.encode()):
        try:
            san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        except x509.ExtensionNotFound:
            continue
        names |= set(san.value.get_values_for_type(x509.DNSName))
        names |= set(san.value.get_values_for_type(x509.IPAddress))
    assert {"gateway.example.test", ipaddress.ip_address("10.1.2.3")} <= names
