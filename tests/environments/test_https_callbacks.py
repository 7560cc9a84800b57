"""With both environments served, what pesabox POSTs to a business's https listener carries
the sending environment's broker certificate: the sandbox's C2B validation and confirmation
present testbroker (production's Results present prodbroker: test_cross_environment)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import orjson
import pytest
from sqlalchemy import update

from pesabox.storage.db import write_transaction
from pesabox.storage.tables import shortcodes
from tests.environments.harness import Environments
from tests.pki_support import ThrowawayCA, listener_context
from tests.tls_receiver import TlsReceiver, threaded_tls_receiver

PAYBILL = "600000"
CUSTOMER = "254708374149"


@pytest.fixture
def shop_listener(environments: Environments, listener_ca: ThrowawayCA) -> Iterator[TlsReceiver]:
    context = listener_context(
        listener_ca.issue("shop"), client_ca_pem=environments.platform_ca_pem()
    )
    # Validation is answered while the test client's call holds this loop.
    with threaded_tls_receiver(context) as receiver:
        yield receiver


async def test_sandbox_c2b_validation_and_confirmation_present_testbroker(
    environments: Environments, shop_listener: TlsReceiver
) -> None:
    token = await environments.sandbox_token()
    registered = await environments.sandbox_client.post(
        "/mpesa/c2b/v1/registerurl",
        json={
            "ShortCode": PAYBILL,
            "ResponseType": "Cancelled",
            "ConfirmationURL": shop_listener.url("/confirm"),
            "ValidationURL": shop_listener.url("/validate"),
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert registered.status_code == 200, registered.text
    with write_transaction(environments.sandbox.engine) as conn:
        conn.execute(
            update(shortcodes)
            .where(shortcodes.c.shortcode == PAYBILL)
            .values(validation_enabled=True)
        )
    environments.sandbox.shortcodes.clear()
    paid = await environments.sandbox_client.post(
        f"/sandbox/v1/handsets/{CUSTOMER}/paybill",
        json={"business_number": PAYBILL, "account_number": "INV-9", "amount": 100,
              "pin": "1234"},
    )  # fmt: skip
    assert paid.status_code == 200, paid.text
    # ResponseType Cancelled: only an answer from the listener lets the payment complete.
    assert paid.json()["status"] == "completed"
    await _wait_for(shop_listener, "/confirm")
    seen = {(item.path, item.peer_common_name) for item in shop_listener.received}
    assert seen == {
        ("/validate", "testbroker.pesabox.local"),
        ("/confirm", "testbroker.pesabox.local"),
    }
    [confirmation] = [item for item in shop_listener.received if item.path == "/confirm"]
    assert orjson.loads(confirmation.body)["TransID"] == paid.json()["TransID"]


async def _wait_for(receiver: TlsReceiver, path: str) -> None:
    for _ in range(500):
        if any(item.path == path for item in receiver.received):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"nothing arrived at {path}")
