"""A throwaway certificate authority for TLS tests: a root that signs leaf certificates.

It stands in for "another CA" (a business's own, or one pesabox does not trust) and issues
the server certificates of test receivers. The platform's own CA lives in the database
(storage/pki_store.py); the contexts are built by security/tls_contexts.py, as pesabox's are.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pesabox.security import tls_contexts
from pesabox.security.pki import BrokerMaterial

_ONE_DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Leaf:
    certificate_pem: str
    private_key_pem: str


@dataclass
class ThrowawayCA:
    name: str
    _key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    certificate_pem: str = ""

    def __post_init__(self) -> None:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.name)])
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _ONE_DAY)
            .not_valid_after(now + 30 * _ONE_DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False
            )
            .sign(self._key, hashes.SHA256())
        )
        self.certificate_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()

    def issue(self, common_name: str) -> Leaf:
        """A leaf for 127.0.0.1 and localhost, usable as a server and as a client."""
        key = ec.generate_private_key(ec.SECP256R1())
        issuer = x509.load_pem_x509_certificate(self.certificate_pem.encode())
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(issuer.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _ONE_DAY)
            .not_valid_after(now + 30 * _ONE_DAY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.DNSName("localhost"),
                        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    ]
                ),
                critical=False,
            )
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )
        return Leaf(
            certificate.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode(),
        )


def listener_context(server: Leaf, *, client_ca_pem: str | None) -> ssl.SSLContext:
    """A business's listener: `server` as its certificate and, with `client_ca_pem`, a client
    certificate from that CA required (mutual TLS; pesabox's own listeners only ask)."""
    material = BrokerMaterial(chain_pem=server.certificate_pem, key_pem=server.private_key_pem)
    context = tls_contexts.server_context(material, client_ca_pem=client_ca_pem)
    if client_ca_pem is not None:
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def client_context(*, trusted_pem: str, presented: Leaf | None) -> ssl.SSLContext:
    """A caller's context trusting `trusted_pem` and presenting `presented`, if given."""
    if presented is None:
        return tls_contexts.client_context(ca_pem=trusted_pem)
    return tls_contexts.client_context(
        ca_pem=trusted_pem, cert_pem=presented.certificate_pem, key_pem=presented.private_key_pem
    )
