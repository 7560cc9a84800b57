"""A platform CA made in memory, and CSRs as an organisation's tools make them."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID

from pesabox.security.pki import (
    BROKER_NAMES,
    BrokerMaterial,
    CertificateAuthority,
    IssuedMaterial,
    new_broker,
    new_intermediate,
    new_root,
)


@dataclass(frozen=True)
class Authority:
    root: IssuedMaterial
    intermediate: IssuedMaterial
    brokers: dict[str, IssuedMaterial]

    @property
    def ca(self) -> CertificateAuthority:
        return CertificateAuthority(root_pem=self.root.cert_pem, intermediate=self.intermediate)

    @property
    def chain_pem(self) -> str:
        return self.root.cert_pem + self.intermediate.cert_pem

    def broker(self, name: str) -> BrokerMaterial:
        leaf = self.brokers[name]
        return BrokerMaterial(leaf.cert_pem + self.intermediate.cert_pem, leaf.key_pem)


def new_authority(*, now: float, hostnames: Sequence[str] = ()) -> Authority:
    root = new_root(now=now)
    intermediate = new_intermediate(root, now=now)
    brokers = {
        name: new_broker(name, intermediate, now=now, hostnames=hostnames) for name in BROKER_NAMES
    }
    return Authority(root, intermediate, brokers)


def key_pem(key: CertificateIssuerPrivateKeyTypes) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def make_csr(
    *,
    key: CertificateIssuerPrivateKeyTypes | None = None,
    common_names: Sequence[str] = ("Acme API client",),
    organisation: str | None = None,
    organisation_identifier: str | None = None,
    alternative_names: Sequence[str] = (),
    emails: Sequence[str] = (),
    hash_algorithm: hashes.HashAlgorithm | None = None,
) -> tuple[str, CertificateIssuerPrivateKeyTypes]:
    """A PEM CSR and its key (EC P-256 unless given). `alternative_names` are DNS names or
    IP addresses."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, name) for name in common_names]
    if organisation is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    if organisation_identifier is not None:
        attributes.append(
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, organisation_identifier)
        )
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attributes))
    general_names: list[x509.GeneralName] = []
    for name in alternative_names:
        try:
            general_names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            general_names.append(x509.DNSName(name))
    general_names.extend(x509.RFC822Name(email) for email in emails)
    if general_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(general_names), critical=False)
    # Edwards keys sign without a separate hash; every other key type takes one.
    hashless = isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey)
    if hash_algorithm is None and not hashless:
        hash_algorithm = hashes.SHA256()
    csr = builder.sign(key, hash_algorithm)  # type: ignore[arg-type]
    return csr.public_bytes(serialization.Encoding.PEM).decode(), key


def client_certificate(
    authority: Authority,
    *,
    organisation_id: int = 7,
    organisation_name: str = "Acme Traders Ltd",
    now: float,
    validity_days: int = 30,
) -> tuple[str, str]:
    """A client certificate signed by `authority` for the organisation, and its key (PEM)."""
    csr_pem, key = make_csr(alternative_names=["localhost", "127.0.0.1"])
    signed = authority.ca.sign_csr(
        csr_pem,
        organisation_id=organisation_id,
        organisation_name=organisation_name,
        validity_days=validity_days,
        now=now,
        allow_loopback=True,  # served on the test bench's loopback listeners
    )
    return signed.pem, key_pem(key)
