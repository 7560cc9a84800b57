"""Phase G's setup: the production business bench/production_fixture.py writes, the load
generator's TLS client against a real TLS listener on loopback (the receiver's, serving the
organisation's certificate), and the jobs phase G derives from phases C and E."""

from __future__ import annotations

import base64
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from aiohttp import web
from bench.loadgen import B2cRun, Prepared, RequestFailed, new_client
from bench.production_fixture import B2C_SHORTCODE, INITIATOR_PASSWORD, ProductionBusiness, prepare
from bench.receiver import make_app, tls_context
from bench.tls_cost import make_certificate, measure
from cryptography.hazmat.primitives.asymmetric import padding
from sqlalchemy import func, select

from bench import tls_phase
from pesabox.domain import accounts
from pesabox.sandbox.seed import seed
from pesabox.security.certificates import load_private_key
from pesabox.security.csr_policy import client_identity
from pesabox.storage import apps_store, certificates_store, operators_store, orgs_store
from pesabox.storage.db import make_engine, write_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.migrate import upgrade_to_head
from pesabox.storage.tables import customers

PAYEES = 20


@pytest.fixture(scope="module")
def business(tmp_path_factory: pytest.TempPathFactory) -> tuple[ProductionBusiness, Path]:
    """A sandbox platform database as `pesabox migrate` and `seed` leave it, then the fixture."""
    workdir = tmp_path_factory.mktemp("tls-phase")
    platform = make_engine(f"sqlite:///{workdir / 'platform.db'}")
    upgrade_to_head(platform)
    with write_transaction(platform) as conn:
        seed(conn, now=time.time(), ledger=LedgerStore())
    platform.dispose()
    made = prepare(
        f"sqlite:///{workdir / 'platform.db'}",
        f"sqlite:///{workdir / 'production.db'}",
        customers=PAYEES,
        out_dir=workdir / "tls",
    )
    return made, workdir


def test_production_holds_the_business_funded_with_its_payees(
    business: tuple[ProductionBusiness, Path],
) -> None:
    made, workdir = business
    engine = make_engine(f"sqlite:///{workdir / 'production.db'}")
    try:
        with engine.connect() as conn:
            shortcode = orgs_store.get_shortcode(conn, B2C_SHORTCODE)
            assert shortcode is not None and shortcode.organisation_id == made.organisation_id
            utility = LedgerStore().balance_cents(conn, accounts.org_utility(B2C_SHORTCODE).code)
            assert utility == 10_000_000 * 100
            operator = operators_store.get_operator(
                conn, shortcode=B2C_SHORTCODE, username=made.initiator
            )
            assert operator is not None
            app = apps_store.find_app_by_key(conn, made.consumer_key)
            assert app is not None and app.organisation_id == made.organisation_id
            bulk = conn.execute(
                select(func.count()).where(customers.c.msisdn.like("2547200%"))
            ).scalar_one()
            assert bulk == PAYEES
            # The SecurityCredential opens with production's own key, not the sandbox's.
            stored = certificates_store.get(conn, "production")
            assert stored is not None
    finally:
        engine.dispose()
    key = load_private_key(stored.private_key_pem)
    password = key.decrypt(base64.b64decode(made.security_credential), padding.PKCS1v15())
    assert password.decode() == INITIATOR_PASSWORD


def test_the_client_certificate_names_the_organisation_and_verifies(
    business: tuple[ProductionBusiness, Path],
) -> None:
    made, _ = business
    identity = client_identity(Path(made.cert_file).read_text())
    assert identity is not None and identity.organisation_id == made.organisation_id
    assert Path(made.key_file).stat().st_mode & 0o077 == 0
    # It verifies against the trust bundle, as the mutual-TLS listener's CA and the
    # server's callback trust would.
    context = ssl.create_default_context(cafile=made.trust_bundle_file)
    context.load_cert_chain(made.cert_file, made.key_file)


@pytest.fixture
async def https_receiver(
    business: tuple[ProductionBusiness, Path],
) -> AsyncIterator[str]:
    """The receiver's app on a TLS listener with the organisation's certificate."""
    made, _ = business
    runner = web.AppRunner(make_app(), access_log=None)
    await runner.setup()
    context = tls_context(made.cert_file, made.key_file)
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    try:
        yield f"https://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def test_the_raw_client_reuses_one_tls_connection(
    business: tuple[ProductionBusiness, Path], https_receiver: str
) -> None:
    made, _ = business
    tls = {
        "ca_file": made.trust_bundle_file,
        "cert_file": made.cert_file,
        "key_file": made.key_file,
    }
    client = new_client("raw", https_receiver, 1, tls)
    try:
        await client.warm(1)
        for _ in range(3):
            status, body = await client.send(Prepared("GET", f"{https_receiver}/healthz", {}))
            assert (status, orjson.loads(body)) == (200, {"status": "ok"})
        assert client.opened == 1  # type: ignore[attr-defined]
    finally:
        await client.close()


async def test_a_server_outside_the_trust_bundle_is_refused(
    business: tuple[ProductionBusiness, Path], https_receiver: str, tmp_path: Path
) -> None:
    # Trusting another self-signed certificate (production's initiator certificate) only:
    # the handshake fails, and so does the request.
    _, workdir = business
    engine = make_engine(f"sqlite:///{workdir / 'production.db'}")
    try:
        with engine.connect() as conn:
            stored = certificates_store.get(conn, "production")
    finally:
        engine.dispose()
    assert stored is not None
    other = tmp_path / "other-ca.pem"
    other.write_text(stored.certificate_pem)
    client = new_client("raw", https_receiver, 1, {"ca_file": str(other)})
    try:
        with pytest.raises(RequestFailed, match="CERTIFICATE_VERIFY_FAILED"):
            await client.send(Prepared("GET", f"{https_receiver}/healthz", {}))
    finally:
        await client.close()


def test_an_https_job_without_tls_is_refused() -> None:
    with pytest.raises(ValueError, match="no `tls`"):
        new_client("raw", "https://127.0.0.1:1", 1, None)


def test_phase_g_jobs_are_c_and_e_over_tls(business: tuple[ProductionBusiness, Path]) -> None:
    made, _ = business
    plain_e2e = {"receiver_url": "http://127.0.0.1:2", "bucket": "e2e", "concurrency": 128}
    stk = tls_phase.stk_job(plain_e2e, "https://127.0.0.1:3", made.trust_bundle_file)
    assert stk["concurrency"] == 128 and stk["tls"] == {"ca_file": made.trust_bundle_file}
    assert stk["callback_url"] == "http://127.0.0.1:2/cb/e2e-https"

    plain_b2c = {
        "receiver_url": "http://127.0.0.1:2",
        "receiver_pid": 1,
        "bucket": "payout",
        "initiator": "testapi",
        "security_credential": "sandbox",
        "concurrency": 128,
        "max_in_flight": 4,
        "warmup_s": 0.0,
        "duration_s": 60.0,
        "msisdn_first": 52_000,
        "msisdn_stop": 60_000,
    }
    job = tls_phase.b2c_job(
        plain_b2c,
        base_url="https://127.0.0.1:4",
        business=made.__dict__,
        receiver_pid=7,
        receiver_url="http://127.0.0.1:5",
        receiver_https_url="https://127.0.0.1:6",
        payees=PAYEES,
    )
    assert job["tls"]["cert_file"] == made.cert_file and job["concurrency"] == 128
    doc = orjson.loads(B2cRun(job, None, None, "token")._next()[1])  # type: ignore[arg-type]
    assert doc["PartyA"] == B2C_SHORTCODE and doc["InitiatorName"] == made.initiator
    assert doc["SecurityCredential"] == made.security_credential
    assert doc["PartyB"] == "254720000000"
    assert doc["ResultURL"] == "https://127.0.0.1:6/b2c/payout-mtls/result"


def test_tls_cost_measures_both_transports(tmp_path: Path) -> None:
    tls = make_certificate(tmp_path)
    for transport in (None, tls):
        run = measure(transport, connections=2, exchanges=200)
        assert run["exchanges"] == 200
        # CPU is read in clock ticks: a short run may show none.
        assert run["server_us"] >= 0 and run["client_us"] >= 0
