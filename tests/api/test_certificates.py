"""`GET /sandbox/v1/certificates/{environment}.cer`, and the pairs made on first start."""

from __future__ import annotations

import time

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from sqlalchemy import Engine

from pesabox.core.platform import Platform
from pesabox.security.certificates import encrypt_credential
from pesabox.security.credential_check import CredentialDecryptor
from pesabox.settings import Settings
from pesabox.storage import certificates_store
from pesabox.storage.db import read_transaction, write_transaction
from pesabox.storage.tables import certificates
from tests.api.conftest import Gateway

API = "/sandbox/v1/certificates"


def stored_pairs(engine: Engine) -> dict[str, certificates_store.StoredCertificate]:
    with read_transaction(engine) as conn:
        return certificates_store.get_all(conn)


@pytest.mark.parametrize("environment", ["sandbox", "production"])
async def test_certificate_route_serves_the_stored_pem(gateway: Gateway, environment: str) -> None:
    reply = await gateway.client.get(f"{API}/{environment}.cer")
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("application/x-x509-ca-cert")
    assert f'filename="{environment}.cer"' in reply.headers["content-disposition"]
    stored = stored_pairs(gateway.platform.engine)[environment]
    assert reply.text == stored.certificate_pem
    certificate = x509.load_pem_x509_certificate(reply.content)
    common_name = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert common_name == f"pesabox {environment} initiator encryption"


async def test_certificate_route_download_makes_credentials_the_key_opens(
    gateway: Gateway,
) -> None:
    pem = (await gateway.client.get(f"{API}/production.cer")).text
    pairs = stored_pairs(gateway.platform.engine)
    decryptor = CredentialDecryptor({env: p.private_key_pem for env, p in pairs.items()})
    credential = encrypt_credential("Safaricom999!*!", pem)
    assert decryptor.candidates("production", credential) == ("Safaricom999!*!",)


@pytest.mark.parametrize(
    "filename", ["staging.cer", "sandbox", "sandbox.pem", "SANDBOX.cer", ".cer", "sandbox.cer.cer"]
)
async def test_certificate_route_unknown_is_a_daraja_404(gateway: Gateway, filename: str) -> None:
    reply = await gateway.client.get(f"{API}/{filename}")
    assert reply.status_code == 404, reply.text
    body = reply.json()
    assert body["errorCode"] == "404.001.01"
    assert body["errorMessage"] == "Resource not found"
    assert body["requestId"]


async def test_certificate_route_makes_a_missing_pair(gateway: Gateway) -> None:
    engine = gateway.platform.engine
    with write_transaction(engine) as conn:
        conn.execute(certificates.delete())
    reply = await gateway.client.get(f"{API}/sandbox.cer")
    assert reply.status_code == 200, reply.text
    pairs = stored_pairs(engine)
    assert sorted(pairs) == ["production", "sandbox"]
    assert reply.text == pairs["sandbox"].certificate_pem


async def start_and_stop(settings: Settings, engine: Engine) -> None:
    platform = Platform(settings, engine=engine)
    await platform.start(background=False)
    await platform.stop()


async def test_platform_start_makes_the_pairs_once(settings: Settings, engine: Engine) -> None:
    assert stored_pairs(engine) == {}
    await start_and_stop(settings, engine)
    first = stored_pairs(engine)
    assert sorted(first) == ["production", "sandbox"]
    assert all(pair.created_at <= time.time() for pair in first.values())
    await start_and_stop(settings, engine)
    assert stored_pairs(engine) == first
