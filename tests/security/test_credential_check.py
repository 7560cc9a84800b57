"""Server-side decryption of SecurityCredentials: what decrypts, what does not, the
timestamp suffix, certificates past their dates, and the cache."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pesabox.security import credential_check
from pesabox.security.certificates import (
    CertificateMaterial,
    encrypt_credential,
    load_private_key,
    self_signed_certificate_pem,
)
from pesabox.security.credential_check import CredentialDecryptor, looks_well_formed

PASSWORD = "Safaricom999!*!"


@pytest.fixture(scope="module")
def decryptor(materials: dict[str, CertificateMaterial]) -> CredentialDecryptor:
    return CredentialDecryptor({env: m.private_key_pem for env, m in materials.items()})


def certificate_of(materials: dict[str, CertificateMaterial], environment: str) -> str:
    return materials[environment].certificate_pem


def test_credential_check_exports_are_pinned() -> None:
    assert sorted(credential_check.__all__) == sorted(
        [
            "DEFAULT_CACHE_MAX",
            "TIMESTAMP_SUFFIX_LENGTH",
            "CredentialDecryptor",
            "looks_well_formed",
        ]
    )


@pytest.mark.parametrize("environment", ["sandbox", "production"])
def test_decryptor_round_trip(
    materials: dict[str, CertificateMaterial],
    decryptor: CredentialDecryptor,
    environment: str,
) -> None:
    credential = encrypt_credential(PASSWORD, certificate_of(materials, environment))
    assert decryptor.password_from(environment, credential) == PASSWORD
    assert decryptor.candidates(environment, credential) == (PASSWORD,)


@pytest.mark.parametrize(
    ("made_with", "checked_in"), [("sandbox", "production"), ("production", "sandbox")]
)
def test_decryptor_other_environments_certificate_gives_no_candidates(
    materials: dict[str, CertificateMaterial],
    decryptor: CredentialDecryptor,
    made_with: str,
    checked_in: str,
) -> None:
    # With implicit rejection (OpenSSL 3.2+) a wrong key yields pseudo-random bytes, which
    # about one time in 500 happen to be a short printable string. That string can never be
    # the password; "no candidates" is asserted for at least one of three credentials, which
    # fails by chance about once in a hundred million runs.
    results = [
        decryptor.candidates(
            checked_in, encrypt_credential(PASSWORD, certificate_of(materials, made_with))
        )
        for _ in range(3)
    ]
    assert all(PASSWORD not in candidates for candidates in results)
    assert () in results


def _not_below_any_modulus() -> str:
    # 0xFF... is above every 2048-bit modulus: it cannot be a ciphertext for any key.
    return base64.b64encode(b"\xff" * 256).decode()


GARBAGE = [
    pytest.param("", id="empty"),
    pytest.param("abc", id="short"),
    pytest.param("A" * 343, id="343 characters"),
    pytest.param("A" * 345, id="345 characters"),
    pytest.param("!" * 344, id="not base64"),
    pytest.param("é" * 344, id="not ascii"),
    pytest.param("A" * 344, id="258 bytes without padding"),
    pytest.param("A" * 170 + "\n" + "A" * 171 + "==", id="embedded newline"),
    pytest.param(_not_below_any_modulus(), id="not below the modulus"),
]


@pytest.mark.parametrize("credential", GARBAGE)
def test_decryptor_garbage_gives_no_candidates(
    decryptor: CredentialDecryptor, credential: str
) -> None:
    assert decryptor.password_from("sandbox", credential) is None
    assert decryptor.candidates("sandbox", credential) == ()


@pytest.mark.parametrize("credential", GARBAGE[:-1])
def test_looks_well_formed_refuses_garbage(credential: str) -> None:
    assert not looks_well_formed(credential)


def test_looks_well_formed_accepts_any_256_bytes(
    materials: dict[str, CertificateMaterial],
) -> None:
    # The lenient setting's test: the shape of a credential, whoever's key made it.
    assert looks_well_formed(base64.b64encode(os.urandom(256)).decode())
    assert looks_well_formed(_not_below_any_modulus())
    assert looks_well_formed(encrypt_credential(PASSWORD, certificate_of(materials, "sandbox")))


def test_decryptor_unknown_environment_gives_no_candidates(
    materials: dict[str, CertificateMaterial], decryptor: CredentialDecryptor
) -> None:
    credential = encrypt_credential(PASSWORD, certificate_of(materials, "sandbox"))
    assert decryptor.candidates("staging", credential) == ()


@pytest.mark.parametrize(
    ("plaintext", "expected"),
    [
        pytest.param(
            PASSWORD + "20250131235959",
            (PASSWORD + "20250131235959", PASSWORD),
            id="timestamp suffix: both, as sent first",
        ),  # fmt: skip
        pytest.param("Pass99999999999999", ("Pass99999999999999",), id="14 digits, no date"),
        pytest.param("Pass2025013123595", ("Pass2025013123595",), id="13 digits"),
        pytest.param("20250131235959", ("20250131235959",), id="only a timestamp"),
        pytest.param(PASSWORD, (PASSWORD,), id="no suffix"),
    ],
)
def test_decryptor_candidates_timestamp_suffix(
    materials: dict[str, CertificateMaterial],
    decryptor: CredentialDecryptor,
    plaintext: str,
    expected: tuple[str, ...],
) -> None:
    credential = encrypt_credential(plaintext, certificate_of(materials, "sandbox"))
    assert decryptor.candidates("sandbox", credential) == expected


@pytest.mark.parametrize("password", ["", "pässword", "tab\there"])
def test_decryptor_text_that_is_no_password_gives_no_candidates(
    materials: dict[str, CertificateMaterial], decryptor: CredentialDecryptor, password: str
) -> None:
    # A password is printable ASCII (Daraja's charset); nothing else is read as one, which is
    # also what tells the pseudo-random output of a wrong key from a password.
    credential = encrypt_credential(password, certificate_of(materials, "sandbox"))
    assert decryptor.candidates("sandbox", credential) == ()


def _expired_certificate(key: rsa.RSAPrivateKey) -> str:
    # The dates of the apicrypt certificate Safaricom's sandbox still accepts.
    pem = self_signed_certificate_pem(
        key,
        common_name="apicrypt.safaricom.co.ke",
        not_before=datetime(2014, 11, 12, tzinfo=UTC),
        not_after=datetime(2016, 11, 11, tzinfo=UTC),
    )
    assert x509.load_pem_x509_certificate(pem.encode()).not_valid_after_utc < datetime.now(UTC)
    return pem


def test_decryptor_accepts_an_expired_certificate_wrapping_the_environments_key(
    materials: dict[str, CertificateMaterial], decryptor: CredentialDecryptor
) -> None:
    # The decryptor never sees a certificate, only the key, so expiry cannot be checked: the
    # FAQ's rule holds by construction. What counts is whose key the certificate carries.
    environment_key = load_private_key(materials["production"].private_key_pem)
    expired = _expired_certificate(environment_key)
    credential = encrypt_credential(PASSWORD, expired)
    assert decryptor.candidates("production", credential) == (PASSWORD,)


def test_decryptor_refuses_an_expired_certificate_wrapping_another_key(
    decryptor: CredentialDecryptor,
) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    expired = _expired_certificate(stranger)
    results = [
        decryptor.candidates("production", encrypt_credential(PASSWORD, expired)) for _ in range(3)
    ]
    assert all(PASSWORD not in candidates for candidates in results)
    assert () in results


def test_decryptor_cache_returns_the_same_answer(
    materials: dict[str, CertificateMaterial],
) -> None:
    decryptor = CredentialDecryptor({"sandbox": materials["sandbox"].private_key_pem})
    credential = encrypt_credential(PASSWORD, certificate_of(materials, "sandbox"))
    first = decryptor.candidates("sandbox", credential)
    assert decryptor.cache_size == 1
    assert decryptor.candidates("sandbox", credential) == first == (PASSWORD,)
    assert decryptor.cache_size == 1


def test_decryptor_cache_is_bounded(materials: dict[str, CertificateMaterial]) -> None:
    decryptor = CredentialDecryptor({"sandbox": materials["sandbox"].private_key_pem}, cache_max=2)
    credentials = [
        encrypt_credential(f"password-{n}", certificate_of(materials, "sandbox")) for n in range(3)
    ]
    for n, credential in enumerate(credentials):
        assert decryptor.password_from("sandbox", credential) == f"password-{n}"
    assert decryptor.cache_size == 2
    # The one pushed out is decrypted again, correctly.
    assert decryptor.password_from("sandbox", credentials[0]) == "password-0"


def test_decryptor_cache_keeps_out_what_is_not_a_credential(
    materials: dict[str, CertificateMaterial],
) -> None:
    decryptor = CredentialDecryptor({"sandbox": materials["sandbox"].private_key_pem})
    for credential in ("", "!" * 344, "A" * 343):
        decryptor.candidates("sandbox", credential)
    decryptor.candidates(
        "production", encrypt_credential(PASSWORD, materials["sandbox"].certificate_pem)
    )
    assert decryptor.cache_size == 0


def test_decryptor_refuses_a_key_that_is_not_rsa_2048() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = small.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    with pytest.raises(ValueError, match="RSA-2048"):
        CredentialDecryptor({"sandbox": pem})


def test_decryptor_accepts_mpesakits_own_credential(
    materials: dict[str, CertificateMaterial], decryptor: CredentialDecryptor, tmp_path: Path
) -> None:
    from mpesakit.security.get_credential import generate_security_credential

    certificate = tmp_path / "pesabox-sandbox.cer"
    certificate.write_text(materials["sandbox"].certificate_pem)
    credential = generate_security_credential(PASSWORD, cert_path=str(certificate))
    # mpesakit appends a 14-digit timestamp before encrypting; the bare password comes second.
    candidates = decryptor.candidates("sandbox", credential)
    assert len(candidates) == 2
    assert candidates[0].startswith(PASSWORD) and candidates[0][len(PASSWORD) :].isdigit()
    assert candidates[1] == PASSWORD
