"""What the platform CA accepts in a certificate signing request, and who a client
certificate names (issue 6, docs/concepts/certificates.md).

A CSR is refused before anything is signed, with a short code for machines and a sentence for
the person who uploaded it. The rules are the ones a bank's CA applies: a key strong enough for
the certificate's lifetime, a signature hash that is not broken, proof the requester holds the
key (the CSR's own signature), and no claim to be an organisation the requester is not.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import ssl
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

__all__ = [
    "ACCEPTED_CURVES",
    "MAX_CSR_BYTES",
    "MIN_RSA_KEY_BITS",
    "ClientIdentity",
    "CsrFacts",
    "CsrRefused",
    "SubjectPublicKey",
    "check_csr",
    "client_identity",
    "normalised_hostname",
    "subject_text",
]

MAX_CSR_BYTES = 16 * 1024
MIN_RSA_KEY_BITS = 2048
ACCEPTED_CURVES = frozenset({"secp256r1", "secp384r1", "secp521r1"})
_WEAK_HASHES = frozenset({"md5", "sha1", "sha224"})
# RFC 5280's upper bound for a common name; the certificate builder refuses longer ones.
_MAX_COMMON_NAME = 64
_MAX_ORGANISATION_NAME = 64
_MAX_HOSTNAME = 253
_HOSTNAME = re.compile(
    r"(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*"
)
_ORGANISATION_IDENTIFIER_PREFIX = "PBX-ORG-"
_PEM_HEADERS = (b"-----BEGIN CERTIFICATE REQUEST-----", b"-----BEGIN NEW CERTIFICATE REQUEST-----")
_SUBJECT_NAMES = {NameOID.ORGANIZATION_IDENTIFIER: "organizationIdentifier"}

SubjectPublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


class CsrRefused(ValueError):
    """A CSR the CA will not sign. `code` is stable for machines; str() is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class CsrFacts:
    """What a CSR that passed the checks contributes to the certificate."""

    common_name: str
    public_key: SubjectPublicKey
    key_description: str
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ClientIdentity:
    """The organisation a verified client certificate speaks for."""

    organisation_id: int
    organisation_name: str
    serial_hex: str
    not_after: float


def subject_text(name: x509.Name) -> str:
    """A subject as RFC 4514 text, with organizationIdentifier by name rather than OID."""
    return name.rfc4514_string(_SUBJECT_NAMES)


def _load(pem: bytes | str) -> x509.CertificateSigningRequest:
    data = pem.encode() if isinstance(pem, str) else pem
    if len(data) > MAX_CSR_BYTES:
        raise CsrRefused(
            "csr_too_large", f"The CSR is larger than {MAX_CSR_BYTES // 1024} KB; a CSR is ~1 KB."
        )
    # Java's keytool and Windows' certreq write "NEW CERTIFICATE REQUEST"; both parse.
    if not any(header in data for header in _PEM_HEADERS):
        raise CsrRefused(
            "csr_not_pem",
            "This is not a PEM certificate signing request: expected text beginning "
            "-----BEGIN CERTIFICATE REQUEST-----.",
        )
    try:
        return x509.load_pem_x509_csr(data)
    except (ValueError, x509.InvalidVersion):  # InvalidVersion is no ValueError
        raise CsrRefused(
            "csr_unreadable", "The certificate signing request is damaged and cannot be read."
        ) from None


def _key_facts(csr: x509.CertificateSigningRequest) -> tuple[SubjectPublicKey, str]:
    try:
        key = csr.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise CsrRefused(
            "key_type_refused", "The CSR's key is of a type the CA does not sign."
        ) from None
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_KEY_BITS:
            raise CsrRefused(
                "rsa_key_too_small",
                f"The CSR's RSA key has {key.key_size} bits; at least {MIN_RSA_KEY_BITS} "
                "are required.",
            )
        return key, f"RSA-{key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in ACCEPTED_CURVES:
            raise CsrRefused(
                "ec_curve_refused",
                f"The CSR's EC key is on curve {key.curve.name}; use P-256, P-384 or P-521.",
            )
        return key, f"EC {key.curve.name}"
    raise CsrRefused(
        "key_type_refused",
        f"The CSR's key is {_key_type_name(key)}; use RSA (2048 bits or more) or EC (P-256, "
        "P-384, P-521).",
    )


def _key_type_name(key: object) -> str:
    for key_type, name in (
        (dsa.DSAPublicKey, "DSA"),
        (ed25519.Ed25519PublicKey, "Ed25519"),
        (ed448.Ed448PublicKey, "Ed448"),
    ):
        if isinstance(key, key_type):
            return name
    return "of a type the CA does not sign"


def _check_signature(csr: x509.CertificateSigningRequest) -> None:
    try:
        algorithm = csr.signature_hash_algorithm
    except UnsupportedAlgorithm:
        raise CsrRefused(
            "signature_refused", "The CSR is signed with an algorithm the CA does not accept."
        ) from None
    if algorithm is None or algorithm.name in _WEAK_HASHES:
        name = "no hash" if algorithm is None else algorithm.name.upper()
        raise CsrRefused(
            "weak_signature_hash",
            f"The CSR is signed with {name}; sign it with SHA-256 or stronger.",
        )
    try:
        valid = csr.is_signature_valid
    except (ValueError, InvalidSignature):
        valid = False
    if not valid:
        raise CsrRefused(
            "bad_csr_signature",
            "The CSR's signature does not match its key: it was altered or not signed by "
            "the key it carries.",
        )


def _attribute_values(name: x509.Name, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(attribute.value) for attribute in name.get_attributes_for_oid(oid)]


def _subject(csr: x509.CertificateSigningRequest) -> x509.Name:
    # cryptography warns (a UserWarning per read) about attributes longer than RFC 5280
    # allows; the length rule below refuses those with a message of its own.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return csr.subject


def _common_name(subject: x509.Name) -> str:
    names = [value.strip() for value in _attribute_values(subject, NameOID.COMMON_NAME)]
    if not names or not names[0]:
        raise CsrRefused(
            "missing_common_name", "The CSR's subject has no common name (CN); add one."
        )
    if len(names) > 1:
        raise CsrRefused("several_common_names", "The CSR's subject has more than one CN.")
    if len(names[0]) > _MAX_COMMON_NAME:
        raise CsrRefused(
            "common_name_too_long",
            f"The CSR's common name is longer than {_MAX_COMMON_NAME} characters.",
        )
    return names[0]


def _check_organisation(
    subject: x509.Name, *, organisation_name: str, organisation_id: int
) -> None:
    expected_name = organisation_name.strip().casefold()
    for value in _attribute_values(subject, NameOID.ORGANIZATION_NAME):
        if value.strip().casefold() != expected_name:
            raise CsrRefused(
                "organisation_mismatch",
                f"The CSR names organisation (O) {value.strip()!r}, but it was uploaded for "
                f"{organisation_name.strip()!r}; use the registered name or leave O out.",
            )
    expected_identifier = f"{_ORGANISATION_IDENTIFIER_PREFIX}{organisation_id}"
    for value in _attribute_values(subject, NameOID.ORGANIZATION_IDENTIFIER):
        if value.strip() != expected_identifier:
            raise CsrRefused(
                "organisation_identifier_mismatch",
                f"The CSR's organizationIdentifier is {value.strip()!r}, not "
                f"{expected_identifier!r}; correct it or leave it out.",
            )


def _alternative_names(csr: x509.CertificateSigningRequest) -> tuple[list[str], list[str]]:
    """DNS names and IP addresses requested; other name types are not copied."""
    try:
        extension = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return [], []
    names = extension.value
    addresses = [str(address) for address in names.get_values_for_type(x509.IPAddress)]
    dns_names = []
    for requested in names.get_values_for_type(x509.DNSName):
        try:
            dns_names.append(normalised_hostname(requested))
        except ValueError:
            raise CsrRefused(
                "bad_alternative_name",
                f"The CSR asks for the DNS name {requested!r}, which is not a host name.",
            ) from None
    return dns_names, addresses


def normalised_hostname(name: str) -> str:
    """A host name as certificates carry it: an IP address in its canonical text, a DNS
    name lower-case in ASCII (IDNA for non-ASCII), without a trailing dot. A leading `*.`
    wildcard label is allowed. ValueError for anything else."""
    candidate = name.strip()
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        pass
    try:
        ascii_name = candidate.rstrip(".").encode("idna").decode().lower()
    except UnicodeError:
        raise ValueError(f"{name!r} is not a host name or IP address") from None
    if len(ascii_name) > _MAX_HOSTNAME or not _HOSTNAME.fullmatch(ascii_name):
        raise ValueError(f"{name!r} is not a host name or IP address")
    return ascii_name


def _check_organisation_record(*, organisation_name: str, organisation_id: int) -> None:
    """The organisation's own record must fit a certificate subject (O is at most 64
    characters in X.509; an organisation's registered name may be up to 100)."""
    if organisation_id < 1:
        raise ValueError(f"organisation ids start at 1, not {organisation_id}")
    name = organisation_name.strip()
    if not name or len(name) > _MAX_ORGANISATION_NAME:
        raise CsrRefused(
            "organisation_name_unusable",
            f"The organisation's registered name must be 1 to {_MAX_ORGANISATION_NAME} "
            "characters to appear in a certificate; ask the platform's support to shorten it.",
        )


# The platform's own private-use names (the brokers' subjects).
_PLATFORM_DOMAIN = "pesabox.local"


def _check_host_names(
    dns_names: list[str],
    ip_addresses: list[str],
    *,
    reserved_hostnames: Sequence[str],
    allow_loopback: bool,
) -> None:
    """A client certificate also serves (serverAuth, for a business's callback listener), and
    every client of pesabox trusts the platform CA: a name the organisation cannot own would
    let it impersonate pesabox's own listeners or anyone's. So no wildcard, no loopback (but
    where the caller allows it, a test bench), no platform name, no reserved name."""
    reserved = set()
    for name in reserved_hostnames:
        try:
            reserved.add(normalised_hostname(name))
        except ValueError:
            continue  # not a host name, so no SAN can equal it
    for name in dns_names:
        if name.startswith("*."):
            raise CsrRefused(
                "wildcard_alternative_name",
                f"The CSR asks for the wildcard {name!r}; name each host instead.",
            )
        loopback = name == "localhost" or name.endswith(".localhost")
        platform = name == _PLATFORM_DOMAIN or name.endswith("." + _PLATFORM_DOMAIN)
        if platform or name in reserved or (loopback and not allow_loopback):
            raise CsrRefused(
                "reserved_alternative_name",
                f"The CSR asks for the host name {name!r}, which the organisation cannot own.",
            )
    for text in ip_addresses:
        address = ipaddress.ip_address(text)
        refused = address.is_unspecified or address.is_multicast or text in reserved
        if refused or (address.is_loopback and not allow_loopback):
            raise CsrRefused(
                "reserved_alternative_name",
                f"The CSR asks for the IP address {text!r}, which the organisation cannot own.",
            )


def _check_common_name_host(
    common_name: str, dns_names: list[str], ip_addresses: list[str]
) -> None:
    """A CN that reads as a host name is what a verifier falls back to when the certificate
    has no DNS SAN (Python's `hostname_checks_common_name`, OpenSSL's default): it may only
    repeat a SAN that passed the checks, so it never names a host on its own."""
    try:
        host = normalised_hostname(common_name)
    except ValueError:
        return  # "Acme API client": no verifier can match it to a host
    dotted_or_address = "." in host or host == "localhost" or ":" in host
    if dotted_or_address and host not in (*dns_names, *ip_addresses):
        raise CsrRefused(
            "common_name_is_a_host",
            f"The CSR's common name {common_name!r} is a host name that is not also one of its "
            "subject alternative names; add it as a DNS or IP SAN, or use a plain label.",
        )


def check_csr(
    pem: bytes | str,
    *,
    organisation_name: str,
    organisation_id: int,
    reserved_hostnames: Sequence[str] = (),
    allow_loopback: bool = False,
) -> CsrFacts:
    """The facts of an acceptable CSR for this organisation; `CsrRefused` otherwise.

    `reserved_hostnames`: names no organisation may have in its certificate (the brokers'
    PESABOX_TLS_HOSTNAMES). `allow_loopback`: accept localhost and loopback addresses as
    SANs, for a test bench's listener only; the platform's own callers never set it.

    Checks run cheapest first, and the signature before the subject, so a forged request
    learns nothing about the organisation rules."""
    _check_organisation_record(organisation_name=organisation_name, organisation_id=organisation_id)
    csr = _load(pem)
    try:
        public_key, key_description = _key_facts(csr)
        _check_signature(csr)
        subject = _subject(csr)
        common_name = _common_name(subject)
        _check_organisation(
            subject, organisation_name=organisation_name, organisation_id=organisation_id
        )
        dns_names, ip_addresses = _alternative_names(csr)
        _check_host_names(
            dns_names,
            ip_addresses,
            reserved_hostnames=reserved_hostnames,
            allow_loopback=allow_loopback,
        )
        _check_common_name_host(common_name, dns_names, ip_addresses)
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as error:
        if isinstance(error, CsrRefused):
            raise
        raise CsrRefused(
            "csr_unreadable", "The certificate signing request is damaged and cannot be read."
        ) from None
    return CsrFacts(
        common_name=common_name,
        public_key=public_key,
        key_description=key_description,
        dns_names=tuple(dns_names),
        ip_addresses=tuple(ip_addresses),
    )


def _certificate(certificate: bytes | str) -> x509.Certificate:
    if isinstance(certificate, str):
        certificate = ssl.PEM_cert_to_DER_cert(certificate)
    elif certificate.lstrip().startswith(b"-----BEGIN"):
        certificate = ssl.PEM_cert_to_DER_cert(certificate.decode())
    return x509.load_der_x509_certificate(certificate)


@functools.lru_cache(maxsize=1024)
def client_identity(certificate: bytes | str) -> ClientIdentity | None:
    """Who a client certificate (DER bytes, or PEM) speaks for; None when it names no
    pesabox organisation. Memoised: the mutual-TLS listener asks for every request, and a
    client reconnects with the same certificate for its whole life.

    The certificate is trusted as given: ssl verified it against the platform CA during the
    handshake."""
    try:
        parsed = _certificate(certificate)
        identifiers = _attribute_values(parsed.subject, NameOID.ORGANIZATION_IDENTIFIER)
        names = _attribute_values(parsed.subject, NameOID.ORGANIZATION_NAME)
    except (ValueError, UnicodeDecodeError):
        return None
    if len(identifiers) != 1 or len(names) != 1:
        return None
    number = identifiers[0].removeprefix(_ORGANISATION_IDENTIFIER_PREFIX)
    if number == identifiers[0] or not number.isascii() or not number.isdigit():
        return None
    return ClientIdentity(
        organisation_id=int(number),
        organisation_name=names[0],
        serial_hex=f"{parsed.serial_number:x}",
        not_after=parsed.not_valid_after_utc.timestamp(),
    )
