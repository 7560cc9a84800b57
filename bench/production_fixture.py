"""Phase G's production business, written before the server starts: `python -m
bench.production_fixture --platform-db P --production-db Q --customers N --out-dir D`.

Production has no seeded shortcodes, apps or operators (they come only through onboarding),
so this sets one business up directly in the databases, as onboarding would leave it:

- production's database migrated and seeded (its simulated customers and initiator-encryption
  pair), plus the benchmark's N bulk customers, the B2C payees;
- an organisation with a B2C PayBill whose Utility account holds KES 10,000,000 (as the
  sandbox's 600996), an API initiator on it with the B2C role, and an app bound to the
  organisation;
- the platform CA in the platform database, and a client certificate it signs for the
  organisation from an EC P-256 key. The certificate carries serverAuth and a 127.0.0.1 SAN
  too, so the benchmark's callback receiver serves its https listener with it, as a business
  may with its own certificate.

Files written to D: `trust-bundle.pem` (what the load generator verifies the server with),
`org-cert.pem` and `org-key.pem`. Stdout: one JSON object with the app's keys, the initiator,
the B2C shortcode and the SecurityCredential (the initiator's password encrypted with
*production's* certificate, once, as a real client does).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pesabox.domain import accounts
from pesabox.domain.ledger import Purpose, TransferRequest
from pesabox.domain.operators import OperatorKind, OperatorRole
from pesabox.domain.products import ALL_PRODUCTS
from pesabox.domain.shortcode_setup import ApiService, ShortcodeKind, ShortcodeSetup, TariffProfile
from pesabox.money import shillings_to_cents
from pesabox.sandbox.seed import seed_bulk_customers, seed_production
from pesabox.security.certificates import encrypt_credential
from pesabox.security.credentials import new_consumer_credentials, secret_digest
from pesabox.storage import (
    apps_store,
    certificates_store,
    operators_store,
    orgs_store,
    pki_store,
)
from pesabox.storage.db import make_engine, write_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.migrate import upgrade_to_head
from pesabox.storage.types import Connection

ORGANISATION = "Bench Payouts Ltd"
B2C_SHORTCODE = "4200996"
INITIATOR = "benchapi"
# Not a secret: a throwaway database's initiator, made and dropped with the benchmark.
INITIATOR_PASSWORD = "Bench#Payout1"  # noqa: S105
UTILITY_SHILLINGS = 10_000_000


@dataclass(frozen=True)
class ProductionBusiness:
    organisation_id: int
    consumer_key: str
    consumer_secret: str
    initiator: str
    b2c_shortcode: str
    security_credential: str
    trust_bundle_file: str
    cert_file: str
    key_file: str


def _business(conn: Connection, *, now: float) -> tuple[int, str, str]:
    """The organisation, its funded B2C shortcode, initiator and app; (org id, key, secret)."""
    ledger = LedgerStore()
    organisation = orgs_store.create_organisation(conn, ORGANISATION, now=now)
    setup = ShortcodeSetup(
        B2C_SHORTCODE,
        ShortcodeKind.PAYBILL,
        "Bench Payouts",
        # The sandbox's 600996 tariff, so a payout's charge is the same in both phases.
        TariffProfile.CUSTOMER_BOUQUET,
        frozenset({ApiService.B2C}),
    )
    orgs_store.add_shortcode(conn, setup, organisation=ORGANISATION, ledger=ledger, now=now)
    ledger.post(
        conn,
        [
            TransferRequest(
                f"bench:funding:utility:{B2C_SHORTCODE}",
                accounts.FLOAT.code,
                accounts.org_utility(B2C_SHORTCODE).code,
                shillings_to_cents(UTILITY_SHILLINGS),
                Purpose.FUNDING,
            )
        ],
        now=now,
    )
    operators_store.add_operator(
        conn,
        shortcode=B2C_SHORTCODE,
        username=INITIATOR,
        kind=OperatorKind.API,
        roles=[OperatorRole.B2C_INITIATOR],
        now=now,
        password=INITIATOR_PASSWORD,
    )
    key, secret = new_consumer_credentials()
    apps_store.insert_app(
        conn,
        name="bench-production",
        consumer_key=key,
        secret_digest=secret_digest(secret),
        products=ALL_PRODUCTS,
        now=now,
        organisation_id=organisation.id,
    )
    return organisation.id, key, secret


def _csr(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The organisation's CSR: its name as O, and 127.0.0.1 for its callback listener."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "bench-payouts"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
        ]
    )
    names = x509.SubjectAlternativeName(
        [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    )
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject)
        .add_extension(names, critical=False)
        .sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM)


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)


def prepare(
    platform_url: str, production_url: str, *, customers: int, out_dir: Path
) -> ProductionBusiness:
    now = time.time()
    production = make_engine(production_url)
    platform = make_engine(platform_url)
    try:
        upgrade_to_head(production)
        ledger = LedgerStore()
        with write_transaction(production) as conn:
            seed_production(conn, now=now, ledger=ledger)
            seed_bulk_customers(conn, count=customers, now=now, ledger=ledger)
            organisation_id, key, secret = _business(conn, now=now)
            certificate = certificates_store.get(conn, "production")
        assert certificate is not None  # seed_production made it
        credential = encrypt_credential(INITIATOR_PASSWORD, certificate.certificate_pem)

        private_key = ec.generate_private_key(ec.SECP256R1())
        with write_transaction(platform) as conn:
            pki_store.ensure_authority(conn, now=now)
            signed = pki_store.load_authority(conn).sign_csr(
                _csr(private_key),
                organisation_id=organisation_id,
                organisation_name=ORGANISATION,
                now=now,
                # The bench's business listens on loopback, which the platform never signs
                # for an organisation on its own (docs/concepts/certificates.md).
                allow_loopback=True,
            )
            pki_store.record_client_certificate(
                conn, signed, organisation_id=organisation_id, organisation_name=ORGANISATION,
                now=now,
            )  # fmt: skip
            bundle = pki_store.trust_bundle_pem(conn)
    finally:
        production.dispose()
        platform.dispose()

    out_dir.mkdir(parents=True, exist_ok=True)
    files = {name: out_dir / name for name in ("trust-bundle.pem", "org-cert.pem", "org-key.pem")}
    files["trust-bundle.pem"].write_text(bundle)
    files["org-cert.pem"].write_text(signed.pem)
    key_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    _write_private(files["org-key.pem"], key_pem)
    return ProductionBusiness(
        organisation_id=organisation_id,
        consumer_key=key,
        consumer_secret=secret,
        initiator=INITIATOR,
        b2c_shortcode=B2C_SHORTCODE,
        security_credential=credential,
        trust_bundle_file=str(files["trust-bundle.pem"]),
        cert_file=str(files["org-cert.pem"]),
        key_file=str(files["org-key.pem"]),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--platform-db", required=True, help="the platform database's URL")
    parser.add_argument("--production-db", required=True, help="production's database URL")
    parser.add_argument("--customers", type=int, required=True, help="bulk customers to seed")
    parser.add_argument("--out-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    business = prepare(
        args.platform_db, args.production_db, customers=args.customers, out_dir=args.out_dir
    )
    print(json.dumps(asdict(business)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
