"""https callbacks from a Platform present its environment's broker certificate (issue 6),
to a real mutual-TLS receiver on loopback: delivered when the receiver trusts the platform
CA, refused and retried (never lost) when it takes clients of another CA only."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine

from pesabox.callbacks.tls import CallbackCaFileError, load_callback_tls
from pesabox.core.platform import Platform
from pesabox.security.pki import BrokerMaterial
from pesabox.security.tls_contexts import server_context
from pesabox.settings import Settings
from pesabox.storage import pki_store
from pesabox.storage.db import read_transaction, write_transaction
from tests.callbacks import add_callback, eventually, fast_settings, load, settled
from tests.pki_support import ThrowawayCA, listener_context
from tests.security.pki_helpers import key_pem, make_csr
from tests.tls_receiver import running_tls_receiver


@pytest.fixture
def platform_ca_pem(engine: Engine) -> str:
    with write_transaction(engine) as conn:
        pki_store.ensure_authority(conn, now=time.time())
    with read_transaction(engine) as conn:
        return pki_store.client_ca_pem(conn)


@pytest.fixture
def receivers_ca() -> ThrowawayCA:
    """The CA of the business's listener certificate, trusted through callback_ca_file."""
    return ThrowawayCA("business listeners CA")


def _settings(engine: Engine, receivers_ca: ThrowawayCA, directory: Path) -> Settings:
    ca_file = directory / "extra-ca.pem"
    ca_file.write_text(receivers_ca.certificate_pem)
    return fast_settings(engine, callback_ca_file=str(ca_file))


@asynccontextmanager
async def _running_platform(
    engine: Engine, settings: Settings, environment: str
) -> AsyncIterator[Platform]:
    tls = load_callback_tls(engine, environment=environment, settings=settings)
    platform = Platform(
        settings.model_copy(update={"environment": environment}), engine=engine, callback_tls=tls
    )
    await platform.start(background=True)
    try:
        yield platform
    finally:
        await platform.stop()


@pytest.mark.parametrize(
    ("environment", "broker"),
    [("sandbox", "testbroker.pesabox.local"), ("production", "prodbroker.pesabox.local")],
)
async def test_callback_presents_the_environment_broker_certificate(
    engine: Engine,
    platform_ca_pem: str,
    receivers_ca: ThrowawayCA,
    tmp_path: Path,
    environment: str,
    broker: str,
) -> None:
    settings = _settings(engine, receivers_ca, tmp_path)
    listener = listener_context(receivers_ca.issue("shop"), client_ca_pem=platform_ca_pem)
    async with running_tls_receiver(listener) as receiver:
        callback_id = add_callback(engine, receiver.url("/cb"))
        async with _running_platform(engine, settings, environment) as platform:
            platform.dispatcher.notify()
            row = await settled(engine, callback_id)
    assert row["status"] == "delivered"
    [received] = receiver.received
    assert (received.path, received.peer_common_name) == ("/cb", broker)


async def test_callback_refused_by_another_ca_is_recorded_and_retried(
    engine: Engine, platform_ca_pem: str, receivers_ca: ThrowawayCA, tmp_path: Path
) -> None:
    settings = _settings(engine, receivers_ca, tmp_path)
    other_clients = ThrowawayCA("someone else's clients")
    listener = listener_context(
        receivers_ca.issue("shop"), client_ca_pem=other_clients.certificate_pem
    )
    async with running_tls_receiver(listener) as receiver:
        callback_id = add_callback(engine, receiver.url("/cb"), max_attempts=3)
        async with _running_platform(engine, settings, "sandbox") as platform:
            platform.dispatcher.notify()
            await eventually(lambda: load(engine, callback_id)["attempts"] >= 2)
    row = load(engine, callback_id)
    assert receiver.received == []
    first, second = row["attempts_detail"][:2]
    assert (first["outcome"], first["status_code"]) == ("retry", None)
    assert first["error"]
    assert second["attempt"] == 2


async def test_callback_to_an_untrusted_listener_is_retried(
    engine: Engine, platform_ca_pem: str, receivers_ca: ThrowawayCA, tmp_path: Path
) -> None:
    # No callback_ca_file: the listener's CA is neither the system's nor the platform's.
    settings = fast_settings(engine)
    listener = listener_context(receivers_ca.issue("shop"), client_ca_pem=None)
    async with running_tls_receiver(listener) as receiver:
        callback_id = add_callback(engine, receiver.url("/cb"), max_attempts=3)
        async with _running_platform(engine, settings, "sandbox") as platform:
            platform.dispatcher.notify()
            await eventually(lambda: load(engine, callback_id)["attempts"] >= 1)
    [first, *_] = load(engine, callback_id)["attempts_detail"]
    assert first["outcome"] == "retry"
    assert "certificate" in first["error"].lower()
    assert receiver.received == []


async def test_listener_with_a_platform_signed_certificate_needs_no_extra_ca(
    engine: Engine, platform_ca_pem: str
) -> None:
    # A business may serve its callback listener with the client certificate pesabox signed
    # for it (serverAuth too, its CSR's IP address kept as a SAN): no extra CA is needed.
    csr, key = make_csr(alternative_names=["127.0.0.1"])
    with read_transaction(engine) as conn:
        authority = pki_store.load_authority(conn)
    signed = authority.sign_csr(
        csr,
        organisation_id=1,
        organisation_name="Duka La Mama Ltd",
        now=time.time(),
        allow_loopback=True,  # the test bench's listener is on loopback
    )
    chain = BrokerMaterial(chain_pem=signed.pem + authority.intermediate_pem, key_pem=key_pem(key))
    listener = server_context(chain, client_ca_pem=None)
    async with running_tls_receiver(listener) as receiver:
        callback_id = add_callback(engine, receiver.url("/cb"))
        async with _running_platform(engine, fast_settings(engine), "sandbox") as platform:
            platform.dispatcher.notify()
            row = await settled(engine, callback_id)
    assert row["status"] == "delivered"
    assert len(receiver.received) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "No such file"),
        ("not a certificate", "no PEM certificate"),
        ("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n", "not PEM"),
    ],
)
def test_callback_ca_file_that_cannot_be_used_is_a_clear_error(
    engine: Engine, platform_ca_pem: str, tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "extra.pem"
    if content is not None:
        path.write_text(content)
    settings = fast_settings(engine, callback_ca_file=str(path))
    with pytest.raises(CallbackCaFileError, match=message):
        load_callback_tls(engine, environment="sandbox", settings=settings)
