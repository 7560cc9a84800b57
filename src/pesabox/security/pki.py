"""The platform's certificate authority: a root, an issuing intermediate (the "CA chain"), the
broker certificates the listeners and callbacks present, and client certificates signed from
organisations' CSRs (issue 6, docs/concepts/certificates.md).

This is not the initiator-encryption pair of `certificates.py`: that one encrypts passwords,
this one authenticates TLS peers. Every key here is EC P-256: handshakes on the mutual-TLS
listener sign with the broker key on every connection, and P-256 signs far faster than RSA.
Times are epoch seconds, as everywhere in pesabox.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pesabox.security.csr_policy import (
    CsrFacts,
    SubjectPublicKey,
    check_csr,
    normalised_hostname,
    subject_text,
)

__all__ = [
    "BROKER_NAMES",
    "DEFAULT_CLIENT_CERT_VALIDITY_DAYS",
    "ENVIRONMENT_BROKERS",
    "BrokerMaterial",
    "BrokerName",
    "CertificateAuthority",
    "IssuedMaterial",
    "SignedCertificate",
    "broker_subject_hostname",
    "certificate_hostnames",
    "certificate_not_after",
    "new_broker",
    "new_intermediate",
    "new_root",
    "organisation_identifier",
]

BrokerName = Literal["testbroker", "prodbroker"]
BROKER_NAMES: tuple[BrokerName, ...] = ("testbroker", "prodbroker")
# Which broker certificate each environment's listeners and callbacks present.
ENVIRONMENT_BROKERS: dict[str, BrokerName] = {"sandbox": "testbroker", "production": "prodbroker"}
DEFAULT_CLIENT_CERT_VALIDITY_DAYS = 365

ROOT_COMMON_NAME = "pesabox Root CA"
INTERMEDIATE_COMMON_NAME = "pesabox Issuing CA"
_ORGANISATION = "pesabox"
_COUNTRY = "KE"
_ROOT_VALIDITY = timedelta(days=20 * 365)
_INTERMEDIATE_VALIDITY = timedelta(days=10 * 365)
_BROKER_VALIDITY = timedelta(days=2 * 365)
# A peer whose clock is a few minutes behind ours must not see a certificate not yet valid.
_CLOCK_SKEW = timedelta(minutes=5)
# Every broker certificate answers for the loopback names, so a local client can verify it.
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class IssuedMaterial:
    """A certificate and its private key, both PEM (the key unencrypted PKCS#8: the platform
    database is the key store, as for the initiator-encryption pair)."""

    cert_pem: str
    key_pem: str


@dataclass(frozen=True, slots=True)
class BrokerMaterial:
    """What a TLS endpoint presents: the broker leaf followed by the intermediate, and the
    leaf's key."""

    chain_pem: str
    key_pem: str


@dataclass(frozen=True, slots=True)
class SignedCertificate:
    pem: str
    serial_hex: str
    subject: str
    not_before: float
    not_after: float


def organisation_identifier(organisation_id: int) -> str:
    """The subject's organizationIdentifier that binds a client certificate to a production
    organisation: the key the mutual-TLS listener matches against the calling app's org."""
    return f"PBX-ORG-{organisation_id}"


def broker_subject_hostname(name: BrokerName) -> str:
    return f"{name}.pesabox.local"


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _cert_pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _moment(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


def _pesabox_name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, _COUNTRY),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORGANISATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _leaf_key_usage(*, rsa_key: bool) -> x509.KeyUsage:
    # digitalSignature is what (EC)DHE handshakes need. keyEncipherment only for an RSA key,
    # for TLS 1.2's RSA key exchange that some business stacks still use; an EC key cannot
    # encipher, and RFC 8813 says not to claim it.
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=rsa_key,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


_BOTH_WAYS = x509.ExtendedKeyUsage(
    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
)


def _general_names(hostnames: Iterable[str]) -> list[x509.GeneralName]:
    """DNS names and IP addresses, each once, in the order given (ValueError for a name
    that is neither)."""
    names: list[x509.GeneralName] = []
    normalised = (normalised_hostname(name) for name in hostnames if name.strip())
    for hostname in dict.fromkeys(normalised):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(hostname)))
        except ValueError:
            names.append(x509.DNSName(hostname))
    return names


def new_root(*, now: float) -> IssuedMaterial:
    """The self-signed root: trusted by clients, used only to sign the intermediate."""
    key = _new_key()
    name = _pesabox_name(ROOT_COMMON_NAME)
    start = _moment(now) - _CLOCK_SKEW
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + _ROOT_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return IssuedMaterial(_cert_pem(certificate), _key_pem(key))


def _issuer(material: IssuedMaterial) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    certificate = x509.load_pem_x509_certificate(material.cert_pem.encode())
    key = serialization.load_pem_private_key(material.key_pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("a pesabox CA key must be an EC key")
    return certificate, key


def _issued_by(
    issuer: x509.Certificate,
    *,
    subject: x509.Name,
    public_key: SubjectPublicKey,
    not_before: datetime,
) -> x509.CertificateBuilder:
    """A builder with what every certificate the CA issues shares: issuer, serial, AKI/SKI."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def new_intermediate(root: IssuedMaterial, *, now: float) -> IssuedMaterial:
    """The issuing CA, signed by the root: it signs broker and client certificates, and may
    sign no further CA (path length 0)."""
    root_certificate, root_key = _issuer(root)
    key = _new_key()
    start = _moment(now) - _CLOCK_SKEW
    end = min(start + _INTERMEDIATE_VALIDITY, root_certificate.not_valid_after_utc)
    certificate = (
        _issued_by(
            root_certificate,
            subject=_pesabox_name(INTERMEDIATE_COMMON_NAME),
            public_key=key.public_key(),
            not_before=start,
        )
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    return IssuedMaterial(_cert_pem(certificate), _key_pem(key))


def new_broker(
    name: BrokerName, intermediate: IssuedMaterial, *, now: float, hostnames: Sequence[str] = ()
) -> IssuedMaterial:
    """A broker leaf for serverAuth (listeners) and clientAuth (callbacks), answering for
    its own name, the loopback names and `hostnames`."""
    issuer_certificate, issuer_key = _issuer(intermediate)
    key = _new_key()
    start = _moment(now) - _CLOCK_SKEW
    end = min(start + _BROKER_VALIDITY, issuer_certificate.not_valid_after_utc)
    own_name = broker_subject_hostname(name)
    certificate = (
        _issued_by(
            issuer_certificate,
            subject=_pesabox_name(own_name),
            public_key=key.public_key(),
            not_before=start,
        )
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_leaf_key_usage(rsa_key=False), critical=True)
        .add_extension(_BOTH_WAYS, critical=False)
        .add_extension(
            x509.SubjectAlternativeName(_general_names([own_name, *_LOOPBACK_NAMES, *hostnames])),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256())
    )
    return IssuedMaterial(_cert_pem(certificate), _key_pem(key))


def certificate_hostnames(cert_pem: str) -> frozenset[str]:
    """The DNS names and IP addresses (as text) a certificate answers for."""
    certificate = x509.load_pem_x509_certificate(cert_pem.encode())
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return frozenset()
    dns = names.value.get_values_for_type(x509.DNSName)
    addresses = names.value.get_values_for_type(x509.IPAddress)
    return frozenset([*dns, *(str(address) for address in addresses)])


def certificate_not_after(cert_pem: str) -> float:
    certificate = x509.load_pem_x509_certificate(cert_pem.encode())
    return certificate.not_valid_after_utc.timestamp()


class CertificateAuthority:
    """The issuing intermediate at work: it signs organisations' client certificates."""

    def __init__(self, *, root_pem: str, intermediate: IssuedMaterial) -> None:
        self.root_pem = root_pem
        self.intermediate_pem = intermediate.cert_pem
        self._certificate, self._key = _issuer(intermediate)

    @property
    def chain_pem(self) -> str:
        """Root and intermediate: what a verifier of client certificates loads."""
        return self.root_pem + self.intermediate_pem

    def sign_csr(
        self,
        csr_pem: bytes | str,
        *,
        organisation_id: int,
        organisation_name: str,
        validity_days: int = DEFAULT_CLIENT_CERT_VALIDITY_DAYS,
        now: float,
        reserved_hostnames: Sequence[str] = (),
        allow_loopback: bool = False,
    ) -> SignedCertificate:
        """A client certificate for `organisation_id` from its CSR, checked first by
        `check_csr` (raises `CsrRefused`; `reserved_hostnames` and `allow_loopback` as
        there). The subject is the platform's, not the CSR's:
        CN from the CSR, O and organizationIdentifier from the organisation's record."""
        if validity_days < 1:
            raise ValueError("a client certificate must be valid for at least one day")
        facts = check_csr(
            csr_pem,
            organisation_name=organisation_name,
            organisation_id=organisation_id,
            reserved_hostnames=reserved_hostnames,
            allow_loopback=allow_loopback,
        )
        return self._sign(
            facts,
            organisation_id=organisation_id,
            organisation_name=organisation_name.strip(),
            validity_days=validity_days,
            now=now,
        )

    def _sign(
        self,
        facts: CsrFacts,
        *,
        organisation_id: int,
        organisation_name: str,
        validity_days: int,
        now: float,
    ) -> SignedCertificate:
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, _COUNTRY),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation_name),
                x509.NameAttribute(
                    NameOID.ORGANIZATION_IDENTIFIER, organisation_identifier(organisation_id)
                ),
                x509.NameAttribute(NameOID.COMMON_NAME, facts.common_name),
            ]
        )
        start = _moment(now) - _CLOCK_SKEW
        # Never outlive the issuer: a verifier would refuse the tail of such a certificate.
        end = min(
            _moment(now) + timedelta(days=validity_days), self._certificate.not_valid_after_utc
        )
        builder = (
            _issued_by(
                self._certificate, subject=subject, public_key=facts.public_key, not_before=start
            )
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                _leaf_key_usage(rsa_key=isinstance(facts.public_key, rsa.RSAPublicKey)),
                critical=True,
            )
            .add_extension(_BOTH_WAYS, critical=False)
        )
        alternative_names = _general_names([*facts.dns_names, *facts.ip_addresses])
        if alternative_names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(alternative_names), critical=False
            )
        certificate = builder.sign(self._key, hashes.SHA256())
        return SignedCertificate(
            pem=_cert_pem(certificate),
            serial_hex=f"{certificate.serial_number:x}",
            subject=subject_text(certificate.subject),
            not_before=certificate.not_valid_before_utc.timestamp(),
            not_after=certificate.not_valid_after_utc.timestamp(),
        )
