"""`pesabox serve` without background work plus a separate `pesabox worker` process: the
gateway accepts and settles what is due at once, the worker delivers every callback."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e import (
    PESABOX,
    LaunchServer,
    Sandbox,
    bearer,
    fetch_token,
    forward_to,
    pesabox_env,
    push_body,
)
from tests.e2e.receiver import CallbackReceiver


@pytest.fixture
def worker(sandbox: Sandbox, receiver: CallbackReceiver, tmp_path: Path) -> Iterator[None]:
    log = (tmp_path / "worker.log").open("wb")
    env = pesabox_env(
        sandbox.database_url,
        {**forward_to(receiver.base_url), "PESABOX_POLL_INTERVAL_S": "0.1"},
    )
    process = subprocess.Popen(  # noqa: S603 - our own CLI
        [*PESABOX, "worker"], env=env, stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()


def test_gateway_accepts_and_the_worker_settles_and_delivers(
    sandbox: Sandbox, receiver: CallbackReceiver, launch_server: LaunchServer, worker: None
) -> None:
    server = launch_server(
        sandbox, {**forward_to(receiver.base_url), "PESABOX_RUN_BACKGROUND": "false"}
    )
    with httpx.Client(timeout=10) as client:
        token = fetch_token(client, server.base_url, sandbox)
        paid = client.post(
            f"{server.base_url}/mpesa/stkpush/v1/processrequest",
            json=push_body(amount=3),
            headers=bearer(token),
        )
        assert paid.status_code == 200, paid.text
        callback = receiver.wait_for(paid.json()["CheckoutRequestID"], timeout_s=20)
        assert callback.json()["Body"]["stkCallback"]["ResultCode"] == 0

        # The prompt of 254711000002 is never answered; moving the clock on the gateway times
        # it out, and the worker (another process, with no lease on the row) delivers it.
        ignored = client.post(
            f"{server.base_url}/mpesa/stkpush/v1/processrequest",
            json=push_body(phone="254711000002", amount=4),
            headers=bearer(token),
        )
        assert ignored.status_code == 200, ignored.text
        moved = client.post(f"{server.base_url}/sandbox/v1/clock", json={"advance_s": 61})
        assert moved.status_code == 200
        timed_out = receiver.wait_for(ignored.json()["CheckoutRequestID"], timeout_s=20)
        assert timed_out.json()["Body"]["stkCallback"]["ResultCode"] == 1037
