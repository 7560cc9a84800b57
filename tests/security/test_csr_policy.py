from __future__ import annotations

import base64
import subprocess
import time
import warnings
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from pesabox.security.csr_policy import (
    MAX_CSR_BYTES,
    CsrRefused,
    check_csr,
    client_identity,
    normalised_hostname,
)
from tests.security.pki_helpers import Authority, key_pem, make_csr, new_authority

_PEM_HEADER = "-----BEGIN CERTIFICATE REQUEST-----\n"
ORGANISATION = {"organisation_name": "Acme Traders Ltd", "organisation_id": 7}


@pytest.fixture(scope="module")
def authority() -> Authority:
    return new_authority(now=time.time())


def _refusal(pem: str | bytes) -> CsrRefused:
    with pytest.raises(CsrRefused) as caught:
        check_csr(pem, **ORGANISATION)  # type: ignore[arg-type]
    assert caught.value.message == str(caught.value)
    return caught.value


def _tampered(pem: str) -> str:
    """The CSR with the last byte of its signature changed."""
    der = bytearray(x509.load_pem_x509_csr(pem.encode()).public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0x01
    body = base64.encodebytes(bytes(der)).decode()
    return f"-----BEGIN CERTIFICATE REQUEST-----\n{body}-----END CERTIFICATE REQUEST-----\n"


def _openssl_csr(tmp_path: Path, digest: str) -> str:
    """A CSR signed with `digest` by the openssl tool: cryptography refuses to make SHA-1 or
    MD5 signatures, and some organisations' old tooling still does."""
    key = tmp_path / "key.pem"
    key.write_text(key_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    return subprocess.run(
        ["openssl", "req", "-new", f"-{digest}", "-key", str(key), "-subj", "/CN=old.example"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def test_check_csr_accepts_an_ec_p256_csr_and_reports_its_facts() -> None:
    pem, _ = make_csr(
        organisation="Acme Traders Ltd",
        alternative_names=["api.acme.co.ke", "10.0.0.5", "2001:db8::5"],
        emails=["ops@acme.co.ke"],
    )
    facts = check_csr(pem, **ORGANISATION)  # type: ignore[arg-type]
    assert facts.common_name == "Acme API client"
    assert facts.key_description == "EC secp256r1"
    assert facts.dns_names == ("api.acme.co.ke",)
    assert facts.ip_addresses == ("10.0.0.5", "2001:db8::5")


@pytest.mark.parametrize(
    ("key", "description"),
    [
        (rsa.generate_private_key(public_exponent=65537, key_size=2048), "RSA-2048"),
        (ec.generate_private_key(ec.SECP384R1()), "EC secp384r1"),
        (ec.generate_private_key(ec.SECP521R1()), "EC secp521r1"),
    ],
)
def test_check_csr_accepts_strong_keys(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, description: str
) -> None:
    pem, _ = make_csr(key=key)
    assert check_csr(pem, **ORGANISATION).key_description == description  # type: ignore[arg-type]


def test_check_csr_accepts_keytools_new_certificate_request_header() -> None:
    pem, _ = make_csr()
    keytool_pem = pem.replace("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST")
    assert check_csr(keytool_pem, **ORGANISATION).common_name == "Acme API client"  # type: ignore[arg-type]


def test_check_csr_accepts_bytes_and_the_organisation_named_any_case_with_spaces() -> None:
    pem, _ = make_csr(organisation="  ACME traders LTD ", organisation_identifier="PBX-ORG-7")
    assert check_csr(pem.encode(), **ORGANISATION).common_name == "Acme API client"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("hello", "csr_not_pem"),
        ("", "csr_not_pem"),
        (_PEM_HEADER + "bm90IGEgY3Ny\n-----END CERTIFICATE REQUEST-----\n", "csr_unreadable"),
        (_PEM_HEADER + "A" * MAX_CSR_BYTES, "csr_too_large"),
    ],
)
def test_check_csr_refuses_what_is_not_a_csr(text: str, code: str) -> None:
    assert _refusal(text).code == code


def test_check_csr_refuses_a_certificate_in_place_of_a_csr(authority: Authority) -> None:
    assert _refusal(authority.root.cert_pem).code == "csr_not_pem"


def test_check_csr_refuses_binary_garbage() -> None:
    assert _refusal(b"\x00\xff" * 100).code == "csr_not_pem"


def test_check_csr_refuses_a_tampered_signature() -> None:
    pem, _ = make_csr()
    refusal = _refusal(_tampered(pem))
    assert refusal.code == "bad_csr_signature"


def test_check_csr_refuses_a_small_rsa_key() -> None:
    pem, _ = make_csr(key=rsa.generate_private_key(public_exponent=65537, key_size=1024))
    refusal = _refusal(pem)
    assert refusal.code == "rsa_key_too_small"
    assert "1024 bits" in refusal.message


def test_check_csr_refuses_another_curve() -> None:
    pem, _ = make_csr(key=ec.generate_private_key(ec.SECP256K1()))
    refusal = _refusal(pem)
    assert refusal.code == "ec_curve_refused"
    assert "secp256k1" in refusal.message


@pytest.mark.parametrize(
    ("key", "name"),
    [
        (dsa.generate_private_key(key_size=2048), "DSA"),
        (ed25519.Ed25519PrivateKey.generate(), "Ed25519"),
    ],
)
def test_check_csr_refuses_other_key_types(
    key: dsa.DSAPrivateKey | ed25519.Ed25519PrivateKey, name: str
) -> None:
    pem, _ = make_csr(key=key)
    refusal = _refusal(pem)
    assert refusal.code == "key_type_refused"
    assert name in refusal.message


@pytest.mark.parametrize("digest", ["sha1", "md5"])
def test_check_csr_refuses_weak_signature_hashes(tmp_path: Path, digest: str) -> None:
    refusal = _refusal(_openssl_csr(tmp_path, digest))
    assert refusal.code == "weak_signature_hash"
    assert digest.upper() in refusal.message


def test_check_csr_refuses_another_organisation_name() -> None:
    pem, _ = make_csr(organisation="Other Ltd")
    refusal = _refusal(pem)
    assert refusal.code == "organisation_mismatch"
    assert "'Other Ltd'" in refusal.message


@pytest.mark.parametrize("identifier", ["PBX-ORG-8", "PBX-ORG-07", "pbx-org-7", "7"])
def test_check_csr_refuses_another_organisation_identifier(identifier: str) -> None:
    pem, _ = make_csr(organisation_identifier=identifier)
    assert _refusal(pem).code == "organisation_identifier_mismatch"


@pytest.mark.parametrize(
    ("common_names", "code"),
    [
        ((), "missing_common_name"),
        ((" ",), "missing_common_name"),
        (("a.example", "b.example"), "several_common_names"),
    ],
)
def test_check_csr_refuses_a_bad_common_name(common_names: tuple[str, ...], code: str) -> None:
    pem, _ = make_csr(common_names=common_names, organisation="Acme Traders Ltd")
    assert _refusal(pem).code == code


def test_check_csr_refuses_a_common_name_too_long_to_sign() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    # cryptography warns about (but will write) a CN over 64 characters; other tools do too.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        long_name = x509.NameAttribute(NameOID.COMMON_NAME, "a" * 65, _validate=False)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([long_name]))
        .sign(key, hashes.SHA256())
    )
    assert _refusal(csr.public_bytes(serialization.Encoding.PEM)).code == "common_name_too_long"


@pytest.mark.parametrize("organisation_name", ["x" * 65, "  "])
def test_check_csr_refuses_an_organisation_a_certificate_cannot_name(
    organisation_name: str,
) -> None:
    pem, _ = make_csr()
    with pytest.raises(CsrRefused) as caught:
        check_csr(pem, organisation_name=organisation_name, organisation_id=7)
    assert caught.value.code == "organisation_name_unusable"


def test_check_csr_rejects_an_impossible_organisation_id() -> None:
    pem, _ = make_csr()
    with pytest.raises(ValueError, match="start at 1"):
        check_csr(pem, organisation_name="Acme", organisation_id=0)


def test_check_csr_refuses_an_alternative_name_that_is_no_host_name() -> None:
    pem, _ = make_csr(alternative_names=["good.example", "not a host"])
    refusal = _refusal(pem)
    assert refusal.code == "bad_alternative_name"
    assert "'not a host'" in refusal.message


def test_check_csr_normalises_alternative_names() -> None:
    pem, _ = make_csr(alternative_names=["API.Acme.CO.KE.", "Pay.Acme.co.ke", "2001:DB8::0001"])
    facts = check_csr(pem, **ORGANISATION)  # type: ignore[arg-type]
    assert facts.dns_names == ("api.acme.co.ke", "pay.acme.co.ke")
    assert facts.ip_addresses == ("2001:db8::1",)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("*.acme.co.ke", "wildcard_alternative_name"),
        ("localhost", "reserved_alternative_name"),
        ("api.localhost", "reserved_alternative_name"),
        ("127.0.0.1", "reserved_alternative_name"),
        ("127.8.9.10", "reserved_alternative_name"),
        ("::1", "reserved_alternative_name"),
        ("0.0.0.0", "reserved_alternative_name"),
        ("testbroker.pesabox.local", "reserved_alternative_name"),
        ("pesabox.local", "reserved_alternative_name"),
    ],
)
def test_check_csr_refuses_a_host_name_the_organisation_cannot_own(name: str, code: str) -> None:
    # The certificate also serves (serverAuth) and every pesabox client trusts the CA.
    pem, _ = make_csr(alternative_names=["api.acme.co.ke", name])
    refusal = _refusal(pem)
    assert refusal.code == code
    assert repr(normalised_hostname(name)) in refusal.message


@pytest.mark.parametrize("name", ["Gateway.Example.Test", "10.1.2.3"])
def test_check_csr_refuses_the_brokers_configured_host_names(name: str) -> None:
    pem, _ = make_csr(alternative_names=[name])
    with pytest.raises(CsrRefused) as caught:
        check_csr(
            pem,
            **ORGANISATION,
            reserved_hostnames=["gateway.example.test", "10.1.2.3"],  # type: ignore[arg-type]
        )
    assert caught.value.code == "reserved_alternative_name"


def test_check_csr_allows_loopback_only_when_asked() -> None:
    pem, _ = make_csr(alternative_names=["localhost", "127.0.0.1", "::1"])
    assert _refusal(pem).code == "reserved_alternative_name"
    facts = check_csr(pem, **ORGANISATION, allow_loopback=True)  # type: ignore[arg-type]
    assert facts.dns_names == ("localhost",)
    assert facts.ip_addresses == ("127.0.0.1", "::1")


def test_sign_csr_passes_the_reserved_names_on(authority: Authority) -> None:
    pem, _ = make_csr(alternative_names=["gateway.example.test"])
    with pytest.raises(CsrRefused):
        authority.ca.sign_csr(
            pem,
            **ORGANISATION,
            now=time.time(),
            reserved_hostnames=["gateway.example.test"],  # type: ignore[arg-type]
        )


@pytest.mark.parametrize(
    ("name", "normal"),
    [
        (" Gateway.Example.com ", "gateway.example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("10.0.0.1", "10.0.0.1"),
        ("2001:DB8::1", "2001:db8::1"),
        ("*.example.com", "*.example.com"),
        ("localhost", "localhost"),
    ],
)
def test_normalised_hostname_gives_the_form_certificates_carry(name: str, normal: str) -> None:
    assert normalised_hostname(name) == normal


@pytest.mark.parametrize("name", ["", "a b", "-bad.example", "a..b", "x." * 130, "a.*.b"])
def test_normalised_hostname_refuses_what_is_no_host_name(name: str) -> None:
    with pytest.raises(ValueError, match="not a host name"):
        normalised_hostname(name)


_VALID_CSR_PEM, _ = make_csr(organisation="Acme Traders Ltd", alternative_names=["a.example"])
_VALID_CSR_DER = x509.load_pem_x509_csr(_VALID_CSR_PEM.encode()).public_bytes(
    serialization.Encoding.DER
)


def _armoured(der: bytes) -> str:
    body = base64.encodebytes(der).decode()
    return f"{_PEM_HEADER}{body}-----END CERTIFICATE REQUEST-----\n"


@settings(max_examples=300, deadline=None)
@given(position=st.integers(0, len(_VALID_CSR_DER) - 1), value=st.integers(0, 255))
def test_sign_csr_on_a_damaged_csr_signs_or_refuses_but_never_fails(
    authority: Authority, position: int, value: int
) -> None:
    damaged = bytearray(_VALID_CSR_DER)
    damaged[position] = value
    try:
        authority.ca.sign_csr(_armoured(bytes(damaged)), **ORGANISATION, now=time.time())  # type: ignore[arg-type]
    except CsrRefused:
        pass


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=2048))
def test_check_csr_on_random_bytes_in_armour_refuses(body: bytes) -> None:
    with pytest.raises(CsrRefused):
        check_csr(_armoured(body), **ORGANISATION)  # type: ignore[arg-type]


def test_client_identity_reads_the_organisation_from_der_and_pem(authority: Authority) -> None:
    pem, _ = make_csr()
    signed = authority.ca.sign_csr(pem, **ORGANISATION, now=time.time())  # type: ignore[arg-type]
    der = x509.load_pem_x509_certificate(signed.pem.encode()).public_bytes(
        serialization.Encoding.DER
    )
    identity = client_identity(der)
    assert identity is not None
    assert (identity.organisation_id, identity.organisation_name) == (7, "Acme Traders Ltd")
    assert identity.serial_hex == signed.serial_hex
    assert identity.not_after == signed.not_after
    assert client_identity(signed.pem) == identity
    assert client_identity(signed.pem.encode()) == identity


def test_client_identity_is_none_for_a_certificate_naming_no_organisation(
    authority: Authority,
) -> None:
    assert client_identity(authority.brokers["testbroker"].cert_pem) is None


@pytest.mark.parametrize("garbage", [b"", b"\x30\x03\x02\x01\x01", "-----BEGIN CERTIFICATE-----\n"])
def test_client_identity_is_none_for_garbage(garbage: bytes | str) -> None:
    assert client_identity(garbage) is None


@pytest.mark.parametrize(
    "common_name", ["localhost", "127.0.0.1", "::1", "api.acme.co.ke", "testbroker.pesabox.local"]
)
def test_check_csr_refuses_a_common_name_that_names_a_host_alone(common_name: str) -> None:
    # With no DNS SAN, verifiers fall back to the CN: it must not be the only host name.
    pem, _ = make_csr(common_names=[common_name])
    assert _refusal(pem).code == "common_name_is_a_host"


def test_check_csr_accepts_a_host_name_cn_that_repeats_a_permitted_san() -> None:
    pem, _ = make_csr(common_names=["API.Acme.co.ke"], alternative_names=["api.acme.co.ke"])
    assert check_csr(pem, **ORGANISATION).dns_names == ("api.acme.co.ke",)  # type: ignore[arg-type]
    single_label, _ = make_csr(common_names=["shop-api-client"])
    assert check_csr(single_label, **ORGANISATION).common_name == "shop-api-client"  # type: ignore[arg-type]
