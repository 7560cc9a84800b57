from __future__ import annotations

import ipaddress
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import verification
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy import Engine, func, select

from pesabox.security.csr_policy import CsrRefused
from pesabox.security.pki import BROKER_NAMES, new_broker
from pesabox.storage import pki_store
from pesabox.storage.db import make_engine, read_transaction, write_transaction
from pesabox.storage.tables_pki import pki_material
from tests.security.pki_helpers import Authority, make_csr, new_authority

NOW = time.time()
DAY_S = 86_400.0


@pytest.fixture(scope="module")
def authority() -> Authority:
    return new_authority(now=NOW, hostnames=["gateway.example.co.ke", "10.1.2.3"])


def _load(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def _pems(bundle: str) -> list[str]:
    marker = "-----END CERTIFICATE-----\n"
    return [part + marker for part in bundle.split(marker) if part.strip()]


def _extension(certificate: x509.Certificate, kind: type[x509.ExtensionType]) -> object:
    return certificate.extensions.get_extension_for_class(kind).value


def _store(authority: Authority) -> verification.Store:
    return verification.Store([_load(authority.root.cert_pem)])


def _openssl_verify(tmp_path: Path, *, root_pem: str, intermediate_pem: str, leaf_pem: str) -> str:
    files = {"root": root_pem, "intermediate": intermediate_pem, "leaf": leaf_pem}
    for name, pem in files.items():
        (tmp_path / f"{name}.pem").write_text(pem)
    result = subprocess.run(
        [
            "openssl",
            "verify",
            "-x509_strict",
            "-CAfile",
            str(tmp_path / "root.pem"),
            "-untrusted",
            str(tmp_path / "intermediate.pem"),
            str(tmp_path / "leaf.pem"),
        ],
        capture_output=True,
        text=True,
    )
    return result.stdout + result.stderr


def _sign(authority: Authority, **overrides: object) -> x509.Certificate:
    csr_pem, _ = make_csr(alternative_names=["api.acme.co.ke", "192.0.2.10"])
    arguments: dict[str, object] = {
        "organisation_id": 7,
        "organisation_name": "Acme Traders Ltd",
        "now": NOW,
        **overrides,
    }
    signed = authority.ca.sign_csr(csr_pem, **arguments)  # type: ignore[arg-type]
    return _load(signed.pem)


def test_root_is_a_self_signed_ca_for_one_level_below(authority: Authority) -> None:
    root = _load(authority.root.cert_pem)
    assert root.subject == root.issuer
    assert root.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "pesabox Root CA"
    constraints = _extension(root, x509.BasicConstraints)
    assert constraints == x509.BasicConstraints(ca=True, path_length=1)
    usage = _extension(root, x509.KeyUsage)
    assert isinstance(usage, x509.KeyUsage)
    assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature
    lifetime = root.not_valid_after_utc - root.not_valid_before_utc
    assert lifetime == timedelta(days=20 * 365)
    assert isinstance(root.public_key(), ec.EllipticCurvePublicKey)


def test_intermediate_is_signed_by_the_root_and_signs_no_ca(authority: Authority) -> None:
    root = _load(authority.root.cert_pem)
    intermediate = _load(authority.intermediate.cert_pem)
    intermediate.verify_directly_issued_by(root)
    assert _extension(intermediate, x509.BasicConstraints) == x509.BasicConstraints(
        ca=True, path_length=0
    )
    common_name = intermediate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert common_name == "pesabox Issuing CA"
    key_identifier = _extension(intermediate, x509.AuthorityKeyIdentifier)
    assert isinstance(key_identifier, x509.AuthorityKeyIdentifier)
    assert (
        key_identifier.key_identifier
        == x509.SubjectKeyIdentifier.from_public_key(
            root.public_key()  # type: ignore[arg-type]
        ).digest
    )


@pytest.mark.parametrize("name", BROKER_NAMES)
def test_broker_certificate_verifies_for_loopback_and_configured_names(
    authority: Authority, name: str
) -> None:
    leaf = _load(authority.brokers[name].cert_pem)
    intermediate = _load(authority.intermediate.cert_pem)
    common_name = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert common_name == f"{name}.pesabox.local"
    for host in ("localhost", f"{name}.pesabox.local", "gateway.example.co.ke"):
        verifier = (
            verification.PolicyBuilder()
            .store(_store(authority))
            .build_server_verifier(verification.DNSName(host))
        )
        verifier.verify(leaf, [intermediate])
    for address in ("127.0.0.1", "::1", "10.1.2.3"):
        verifier = (
            verification.PolicyBuilder()
            .store(_store(authority))
            .build_server_verifier(verification.IPAddress(ipaddress.ip_address(address)))
        )
        verifier.verify(leaf, [intermediate])
    usages = _extension(leaf, x509.ExtendedKeyUsage)
    assert list(usages) == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]  # type: ignore[call-overload]
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc == timedelta(days=2 * 365)


def test_broker_certificate_does_not_verify_for_another_host(authority: Authority) -> None:
    verifier = (
        verification.PolicyBuilder()
        .store(_store(authority))
        .build_server_verifier(verification.DNSName("elsewhere.example"))
    )
    with pytest.raises(verification.VerificationError):
        verifier.verify(
            _load(authority.brokers["testbroker"].cert_pem),
            [_load(authority.intermediate.cert_pem)],
        )


def test_sign_csr_makes_a_client_certificate_bound_to_the_organisation(
    authority: Authority,
) -> None:
    certificate = _sign(authority, organisation_name=" Acme Traders Ltd ", validity_days=90)
    subject = {attribute.oid: attribute.value for attribute in certificate.subject}
    assert subject == {
        NameOID.COUNTRY_NAME: "KE",
        NameOID.ORGANIZATION_NAME: "Acme Traders Ltd",
        NameOID.ORGANIZATION_IDENTIFIER: "PBX-ORG-7",
        NameOID.COMMON_NAME: "Acme API client",
    }
    assert certificate.issuer == _load(authority.intermediate.cert_pem).subject
    assert 0 < certificate.serial_number < 2**159
    issued_at = datetime.fromtimestamp(int(NOW), UTC)
    assert certificate.not_valid_before_utc == issued_at - timedelta(minutes=5)
    assert certificate.not_valid_after_utc == issued_at + timedelta(days=90)
    names = _extension(certificate, x509.SubjectAlternativeName)
    assert isinstance(names, x509.SubjectAlternativeName)
    assert names.get_values_for_type(x509.DNSName) == ["api.acme.co.ke"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["192.0.2.10"]
    usages = _extension(certificate, x509.ExtendedKeyUsage)
    assert set(usages) == {ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH}  # type: ignore[call-overload]


def test_sign_csr_result_verifies_as_a_client_with_cryptography_and_openssl(
    authority: Authority, tmp_path: Path
) -> None:
    certificate = _sign(authority)
    verifier = verification.PolicyBuilder().store(_store(authority)).build_client_verifier()
    verified = verifier.verify(certificate, [_load(authority.intermediate.cert_pem)])
    assert verified.chain[-1] == _load(authority.root.cert_pem)
    output = _openssl_verify(
        tmp_path,
        root_pem=authority.root.cert_pem,
        intermediate_pem=authority.intermediate.cert_pem,
        leaf_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
    )
    assert output.strip().endswith(": OK"), output


def test_sign_csr_keeps_key_encipherment_for_rsa_keys_only(authority: Authority) -> None:
    csr_pem, _ = make_csr(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    signed = authority.ca.sign_csr(
        csr_pem, organisation_id=7, organisation_name="Acme Traders Ltd", now=NOW
    )
    rsa_usage = _extension(_load(signed.pem), x509.KeyUsage)
    ec_usage = _extension(_sign(authority), x509.KeyUsage)
    assert isinstance(rsa_usage, x509.KeyUsage) and isinstance(ec_usage, x509.KeyUsage)
    assert rsa_usage.key_encipherment and not ec_usage.key_encipherment


def test_sign_csr_never_outlives_the_intermediate(authority: Authority) -> None:
    certificate = _sign(authority, validity_days=100 * 365)
    intermediate = _load(authority.intermediate.cert_pem)
    assert certificate.not_valid_after_utc == intermediate.not_valid_after_utc


def test_sign_csr_refuses_a_zero_validity(authority: Authority) -> None:
    with pytest.raises(ValueError, match="at least one day"):
        _sign(authority, validity_days=0)


def test_sign_csr_checks_the_csr_first(authority: Authority) -> None:
    csr_pem, _ = make_csr(organisation="Someone Else Ltd")
    with pytest.raises(CsrRefused) as caught:
        authority.ca.sign_csr(
            csr_pem, organisation_id=7, organisation_name="Acme Traders Ltd", now=NOW
        )
    assert caught.value.code == "organisation_mismatch"


def _serials(engine: Engine) -> dict[str, int]:
    with read_transaction(engine) as conn:
        rows = conn.execute(select(pki_material.c.name, pki_material.c.cert_pem))
        return {row.name: _load(row.cert_pem).serial_number for row in rows}


def test_ensure_authority_creates_everything_once_and_keeps_it(
    engine: Engine, database_url: str
) -> None:
    with write_transaction(engine) as conn:
        pki_store.ensure_authority(conn, now=NOW)
    first = _serials(engine)
    assert set(first) == {"root", "intermediate", "testbroker", "prodbroker"}
    with write_transaction(engine) as conn:
        pki_store.ensure_authority(conn, now=NOW + DAY_S)
    restarted = make_engine(database_url, pool_size=1)
    try:
        with write_transaction(restarted) as conn:
            pki_store.ensure_authority(conn, now=NOW + 2 * DAY_S)
        assert _serials(restarted) == first
    finally:
        restarted.dispose()


def test_ensure_authority_from_two_threads_at_once_makes_one_authority(engine: Engine) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            with write_transaction(engine) as conn:
                pki_store.ensure_authority(conn, now=NOW)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with read_transaction(engine) as conn:
        assert conn.execute(select(func.count()).select_from(pki_material)).scalar_one() == 4


def test_ensure_authority_reissues_brokers_for_a_new_hostname_only(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        pki_store.ensure_authority(conn, now=NOW)
        old_bundle = pki_store.trust_bundle_pem(conn)
    before = _serials(engine)
    with write_transaction(engine) as conn:
        pki_store.ensure_authority(conn, now=NOW, hostnames=["pesabox.example.co.ke"])
        material = pki_store.broker_material(conn, "production")
    after = _serials(engine)
    assert (after["root"], after["intermediate"]) == (before["root"], before["intermediate"])
    assert after["testbroker"] != before["testbroker"]
    assert after["prodbroker"] != before["prodbroker"]
    # The trust bundle handed out before still verifies the reissued certificate.
    leaf, intermediate = (_load(pem) for pem in _pems(material.chain_pem))
    root = _load(_pems(old_bundle)[0])
    verifier = (
        verification.PolicyBuilder()
        .store(verification.Store([root]))
        .build_server_verifier(verification.DNSName("pesabox.example.co.ke"))
    )
    verifier.verify(leaf, [intermediate])
    with write_transaction(engine) as conn:
        pki_store.ensure_authority(conn, now=NOW, hostnames=["pesabox.example.co.ke"])
    assert _serials(engine) == after


def test_ensure_authority_compares_host_names_as_certificates_carry_them(
    engine: Engine,
) -> None:
    with write_transaction(engine) as conn:
        pki_store.ensure_authority(conn, now=NOW, hostnames=["Gateway.Example.com", "::0001"])
    before = _serials(engine)
    with write_transaction(engine) as conn:
        pki_store.ensure_authority(conn, now=NOW, hostnames=["gateway.example.com.", " ", "::1"])
    assert _serials(engine) == before


def test_new_broker_refuses_a_name_that_is_no_host_name(authority: Authority) -> None:
    with pytest.raises(ValueError, match="'bad name' is not a host name"):
        new_broker("testbroker", authority.intermediate, now=NOW, hostnames=["bad name"])


def test_ensure_authority_renews_a_broker_near_its_end(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        pki_store.ensure_authority(conn, now=NOW)
    before = _serials(engine)
    with write_transaction(engine) as conn:
        pki_store.ensure_authority(conn, now=NOW + (2 * 365 - 20) * DAY_S)
    after = _serials(engine)
    assert after["root"] == before["root"]
    assert after["testbroker"] != before["testbroker"]


def test_readers_refuse_a_database_without_the_authority(engine: Engine) -> None:
    with read_transaction(engine) as conn:
        with pytest.raises(pki_store.AuthorityMissing, match="start pesabox once"):
            pki_store.load_authority(conn)
        with pytest.raises(pki_store.AuthorityMissing):
            pki_store.trust_bundle_pem(conn)


def test_trust_bundle_and_broker_material_come_from_the_database(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        pki_store.ensure_authority(conn, now=NOW)
    with read_transaction(engine) as conn:
        bundle = _pems(pki_store.trust_bundle_pem(conn))
        client_ca = pki_store.client_ca_pem(conn)
        sandbox = pki_store.broker_material(conn, "sandbox")
        with pytest.raises(ValueError, match="unknown environment"):
            pki_store.broker_material(conn, "staging")
    names = [_load(pem).subject.rfc4514_string() for pem in bundle]
    assert names == [
        "CN=pesabox Root CA,O=pesabox,C=KE",
        "CN=pesabox Issuing CA,O=pesabox,C=KE",
        "CN=testbroker.pesabox.local,O=pesabox,C=KE",
        "CN=prodbroker.pesabox.local,O=pesabox,C=KE",
    ]
    assert client_ca == bundle[0] + bundle[1]
    assert _pems(sandbox.chain_pem) == [bundle[2], bundle[1]]
    key = serialization.load_pem_private_key(sandbox.key_pem.encode(), password=None)
    assert key.public_key() == _load(bundle[2]).public_key()


def test_client_certificates_are_recorded_and_found(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        pki_store.ensure_authority(conn, now=NOW)
        ca = pki_store.load_authority(conn)
        recorded = []
        for offset in range(2):
            csr_pem, _ = make_csr()
            signed = ca.sign_csr(
                csr_pem, organisation_id=7, organisation_name="Acme Traders Ltd", now=NOW
            )
            recorded.append(
                pki_store.record_client_certificate(
                    conn,
                    signed,
                    organisation_id=7,
                    organisation_name="Acme Traders Ltd",
                    change_request="CRQ000000000001" if offset else None,
                    now=NOW + offset,
                )
            )
    with read_transaction(engine) as conn:
        assert pki_store.client_certificates_of(conn, 7) == recorded[::-1]
        assert pki_store.client_certificates_of(conn, 8) == []
        found = pki_store.find_client_certificate(conn, recorded[1].serial_hex.upper())
        assert pki_store.find_client_certificate(conn, "abc") is None
    assert found == recorded[1]
    assert found.change_request == "CRQ000000000001"
    assert "organizationIdentifier=PBX-ORG-7" in found.subject
