"""With both environments served, what pesabox POSTs to a business's https listener carries
the sending environment's broker certificate: the sandbox's C2B validation and confirmation
present testbroker, production's STK callback prodbroker (its B2C Results too:
test_cross_environment)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import orjson
import pytest
from sqlalchemy import update

from pesabox.core.platform import Platform
from pesabox.storage.db import read_transaction, write_transaction
from pesabox.storage.ledger_queries import account_balance
from pesabox.storage.tables import shortcodes
from tests.environments.harness import Environments
from tests.pki_support import ThrowawayCA, listener_context
from tests.support import stk_body
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


async def test_production_stk_callback_presents_prodbroker_and_moves_productions_money_only(
    environments: Environments, shop_listener: TlsReceiver
) -> None:
    business = environments.business
    before = {name: _wallet_cents(platform) for name, platform in _platforms(environments)}
    token = await environments.production_token()
    body = stk_body(
        phone=CUSTOMER,
        amount=10,
        shortcode=business.paybill,
        passkey=business.passkey,
        callback_url=shop_listener.url("/stk"),
    )
    pushed = await environments.production_client.post(
        "/mpesa/stkpush/v1/processrequest", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert pushed.status_code == 200, pushed.text
    # No scenarios in production: the simulated customer accepts by default.
    await _wait_for(shop_listener, "/stk")
    [callback] = [item for item in shop_listener.received if item.path == "/stk"]
    assert callback.peer_common_name == "prodbroker.pesabox.local"
    result = orjson.loads(callback.body)["Body"]["stkCallback"]
    assert (result["CheckoutRequestID"], result["ResultCode"]) == (
        pushed.json()["CheckoutRequestID"],
        0,
    )
    after = {name: _wallet_cents(platform) for name, platform in _platforms(environments)}
    assert after == {"sandbox": before["sandbox"], "production": before["production"] - 10_00}


def _platforms(environments: Environments) -> list[tuple[str, Platform]]:
    return [("sandbox", environments.sandbox), ("production", environments.production)]


def _wallet_cents(platform: Platform) -> int:
    with read_transaction(platform.engine) as conn:
        wallet = account_balance(conn, f"wallet:{CUSTOMER}")
    assert wallet is not None
    return wallet["balance_cents"]
