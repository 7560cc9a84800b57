"""`pesabox worker` delivers both environments' callbacks, each presenting its own broker
certificate, from a real process (beside a `serve` with PESABOX_RUN_BACKGROUND=false)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Engine

from pesabox.storage import pki_store
from pesabox.storage.db import make_engine, read_transaction, write_transaction
from pesabox.storage.migrate import upgrade_to_head
from tests.callbacks import add_callback
from tests.environments.databases import EnvironmentUrls
from tests.pki_support import ThrowawayCA, listener_context
from tests.tls_receiver import TlsReceiver, running_tls_receiver

_STOP_TIMEOUT_S = 20.0


def _migrated_engines(urls: EnvironmentUrls) -> tuple[Engine, Engine]:
    engines: list[Engine] = []
    for url in (urls.platform, urls.production):
        engine = make_engine(url)
        upgrade_to_head(engine)
        engines.append(engine)
    return engines[0], engines[1]


def _platform_ca_pem(urls: EnvironmentUrls) -> str:
    engine = make_engine(urls.platform)
    with write_transaction(engine) as conn:
        pki_store.ensure_authority(conn, now=time.time())
    with read_transaction(engine) as conn:
        pem = pki_store.client_ca_pem(conn)
    engine.dispose()
    return pem


async def _arrived(receiver: TlsReceiver, count: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(1000):
        if len(receiver.received) >= count:
            return
        assert process.poll() is None, "the worker ended early"
        await asyncio.sleep(0.02)
    raise AssertionError(f"{len(receiver.received)} of {count} callbacks arrived")


async def test_worker_delivers_each_environments_callbacks_with_its_broker(
    environment_urls: EnvironmentUrls, tmp_path: Path
) -> None:
    urls = environment_urls
    platform_engine, production_engine = _migrated_engines(urls)
    listener_ca = ThrowawayCA("shop listener CA")
    ca_file = tmp_path / "listener-ca.pem"
    ca_file.write_text(listener_ca.certificate_pem)
    context = listener_context(listener_ca.issue("shop"), client_ca_pem=_platform_ca_pem(urls))
    # None of the caller's PESABOX_* (a developer's PESABOX_ENVIRONMENT, say) leaks in.
    env = {name: value for name, value in os.environ.items() if not name.startswith("PESABOX_")}
    env |= {
        "PESABOX_DATABASE_URL": urls.platform,
        "PESABOX_PRODUCTION_DATABASE_URL": urls.production,
        "PESABOX_ENVIRONMENTS": "sandbox,production",
        "PESABOX_CALLBACK_CA_FILE": str(ca_file),
        "PESABOX_POLL_INTERVAL_S": "0.05",
    }
    async with running_tls_receiver(context) as receiver:
        add_callback(platform_engine, receiver.url("/sandbox"), transaction_id="ws_CO_S")
        add_callback(production_engine, receiver.url("/production"), transaction_id="ws_CO_P")
        process = subprocess.Popen(
            [sys.executable, "-m", "pesabox", "worker"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            await _arrived(receiver, 2, process)
        finally:
            process.send_signal(signal.SIGINT)
            output, _ = await asyncio.to_thread(process.communicate, timeout=_STOP_TIMEOUT_S)
    for engine in (platform_engine, production_engine):
        engine.dispose()
    assert process.returncode == 0, output.decode(errors="replace")
    seen = {(item.path, item.peer_common_name) for item in receiver.received}
    assert seen == {
        ("/sandbox", "testbroker.pesabox.local"),
        ("/production", "prodbroker.pesabox.local"),
    }
