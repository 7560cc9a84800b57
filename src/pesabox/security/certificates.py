"""The initiator-encryption certificates: one RSA-2048 key pair and self-signed X.509
certificate per environment, and the client's side of a SecurityCredential (daraja-api.md §3).

Daraja publishes a sandbox and a production certificate; an integrator encrypts the
initiator's password with the certificate's public key (RSA, PKCS#1 v1.5, not OAEP) and sends
the base64 of the ciphertext. pesabox cannot hold Safaricom's private keys, so it issues its
own pair per environment and publishes the certificates the same way.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

__all__ = [
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

Environment = Literal["sandbox", "production"]
ENVIRONMENTS: tuple[Environment, ...] = ("sandbox", "production")
KEY_SIZE_BITS = 2048
# 256 bytes of ciphertext in base64: what every Daraja SecurityCredential measures.
CREDENTIAL_LENGTH = 344
_PUBLIC_EXPONENT = 65537
# Long enough that nobody re-downloads a certificate in a project's lifetime; expiry is never
# checked anyway (the integration FAQ), but a certificate dated sensibly keeps tools quiet.
_VALIDITY = timedelta(days=10 * 365)
# A client clock a little behind ours must not see a certificate that is not yet valid.
_BACKDATE = timedelta(days=1)


# The key exists to have passwords encrypted to it, never to sign anything but itself.
_ENCRYPTION_ONLY = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=True,
    data_encipherment=True,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


@dataclass(frozen=True, slots=True)
class CertificateMaterial:
    environment: Environment
    private_key_pem: str
    certificate_pem: str


def subject_common_name(environment: Environment) -> str:
    return f"pesabox {environment} initiator encryption"


def new_certificate_material(environment: Environment, *, now: float) -> CertificateMaterial:
    """A fresh key pair and a certificate for it, valid from a day before `now`."""
    key = rsa.generate_private_key(public_exponent=_PUBLIC_EXPONENT, key_size=KEY_SIZE_BITS)
    issued = datetime.fromtimestamp(now, UTC) - _BACKDATE
    certificate_pem = self_signed_certificate_pem(
        key,
        common_name=subject_common_name(environment),
        not_before=issued,
        not_after=issued + _VALIDITY,
    )
    # Unencrypted PKCS#8: the database is the key store for now (docs/decisions.md,
    # "Initiator credentials").
    private_key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return CertificateMaterial(environment, private_key_pem, certificate_pem)


def self_signed_certificate_pem(
    key: rsa.RSAPrivateKey, *, common_name: str, not_before: datetime, not_after: datetime
) -> str:
    """A certificate for `key`, signed by itself. Any validity period is allowed, including
    one wholly in the past: clients encrypt with expired certificates all the time."""
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pesabox"),
        ]
    )
    public_key = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_ENCRYPTION_ONLY, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    certificate = builder.sign(key, hashes.SHA256())
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def certificate_der(certificate_pem: str) -> bytes:
    """The same certificate in DER, the binary form some portals serve as `.cer`."""
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    return certificate.public_bytes(serialization.Encoding.DER)


def load_public_key(certificate_pem_or_der: str | bytes) -> rsa.RSAPublicKey:
    """The RSA public key of a certificate in PEM or DER. Its dates are not looked at."""
    data = (
        certificate_pem_or_der.encode()
        if isinstance(certificate_pem_or_der, str)
        else certificate_pem_or_der
    )
    if b"-----BEGIN" in data:
        certificate = x509.load_pem_x509_certificate(data)
    else:
        certificate = x509.load_der_x509_certificate(data)
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise ValueError("the certificate's key is not an RSA key")
    return public_key


def load_private_key(private_key_pem: str) -> rsa.RSAPrivateKey:
    # pesabox made and stored these keys itself: the full RSA consistency check (about 85 ms
    # a key) would only re-prove that, on every process start.
    key = serialization.load_pem_private_key(
        private_key_pem.encode(), password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size != KEY_SIZE_BITS:
        raise ValueError(f"an initiator key must be RSA-{KEY_SIZE_BITS}")
    return key


def encrypt_credential(password: str, certificate_pem_or_der: str | bytes) -> str:
    """A SecurityCredential as Daraja clients make it: base64(RSA_PKCS1v15(password)).

    The raw UTF-8 password is encrypted, not its base64 (the docs' wording misleads), and
    PKCS#1 v1.5 is randomised, so each call gives a different, equally valid credential.
    """
    public_key = load_public_key(certificate_pem_or_der)
    ciphertext = public_key.encrypt(password.encode(), padding.PKCS1v15())
    return base64.b64encode(ciphertext).decode()
