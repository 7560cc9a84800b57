"""The certificates integrators encrypt with, and the client's side of a credential."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from pesabox.security import certificates
from pesabox.security.certificates import (
    CREDENTIAL_LENGTH,
    CertificateMaterial,
    certificate_der,
    encrypt_credential,
    load_private_key,
    load_public_key,
    self_signed_certificate_pem,
)


def test_certificates_exports_are_pinned() -> None:
    assert sorted(certificates.__all__) == sorted(
        [
            "CREDENTIAL_LENGTH",
            "ENVIRONMENTS",
            "KEY_SIZE_BITS",
            "CertificateMaterial",
            "Environment",
            "certificate_der",
            "encrypt_credential",
            "load_private_key",
            "load_public_key",
            "new_certificate_material",
            "self_signed_certificate_pem",
            "subject_common_name",
        ]
    )


@pytest.mark.parametrize("environment", ["sandbox", "production"])
def test_material_is_rsa_2048_self_signed_for_years(
    materials: dict[str, CertificateMaterial], environment: str
) -> None:
    material = materials[environment]
    certificate = x509.load_pem_x509_certificate(material.certificate_pem.encode())
    common_name = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert common_name == f"pesabox {environment} initiator encryption"
    assert certificate.issuer == certificate.subject
    public_key = certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size == 2048
    assert certificate.not_valid_before_utc.timestamp() <= time.time()
    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert lifetime.days >= 5 * 365
    key = load_private_key(material.private_key_pem)
    assert key.public_key().public_numbers() == public_key.public_numbers()


def test_material_environments_have_their_own_keys(
    materials: dict[str, CertificateMaterial],
) -> None:
    sandbox, production = materials["sandbox"], materials["production"]
    assert sandbox.private_key_pem != production.private_key_pem
    assert load_public_key(sandbox.certificate_pem).public_numbers() != (
        load_public_key(production.certificate_pem).public_numbers()
    )


def test_certificate_der_is_the_same_certificate(
    materials: dict[str, CertificateMaterial],
) -> None:
    pem = materials["sandbox"].certificate_pem
    der = certificate_der(pem)
    assert x509.load_der_x509_certificate(der) == x509.load_pem_x509_certificate(pem.encode())


@pytest.mark.parametrize("form", ["pem text", "pem bytes", "der"])
def test_encrypt_credential_is_344_characters_of_fresh_base64(
    materials: dict[str, CertificateMaterial], form: str
) -> None:
    pem = materials["sandbox"].certificate_pem
    certificate: str | bytes = {
        "pem text": pem,
        "pem bytes": pem.encode(),
        "der": certificate_der(pem),
    }[form]
    first = encrypt_credential("Safaricom999!*!", certificate)
    second = encrypt_credential("Safaricom999!*!", certificate)
    assert len(first) == CREDENTIAL_LENGTH
    assert len(base64.b64decode(first, validate=True)) == 256
    # PKCS#1 v1.5 pads with random bytes: the same password never encrypts the same twice.
    assert first != second


def test_load_public_key_refuses_a_non_rsa_certificate() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ec")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    with pytest.raises(ValueError, match="not an RSA key"):
        encrypt_credential("pw", certificate.public_bytes(serialization.Encoding.PEM))


def test_self_signed_certificate_may_be_wholly_expired(
    materials: dict[str, CertificateMaterial],
) -> None:
    key = load_private_key(materials["sandbox"].private_key_pem)
    pem = self_signed_certificate_pem(
        key,
        common_name="apicrypt.safaricom.co.ke",
        not_before=datetime(2014, 11, 12, tzinfo=UTC),
        not_after=datetime(2016, 11, 11, tzinfo=UTC),
    )
    certificate = x509.load_pem_x509_certificate(pem.encode())
    assert certificate.not_valid_after_utc < datetime.now(UTC)
    assert len(encrypt_credential("pw", pem)) == CREDENTIAL_LENGTH
