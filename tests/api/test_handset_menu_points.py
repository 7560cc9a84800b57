"""Bonga points on the settle paths, through the real app: a payment earns once however
many times its settle step runs, and a payment that does not happen earns nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, update

from pesabox.domain.c2b import ValidationAnswer
from pesabox.domain.services import c2b_payment
from pesabox.domain.services.c2b_payment import C2bContext
from pesabox.domain.services.stk_settle import SettleContext, settle_request
from pesabox.sandbox.scenarios import Action
from pesabox.storage.db import read_transaction, write_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.parties_store import ShortcodeCache
from pesabox.storage.tables import shortcodes, transfers
from tests.api.conftest import Gateway
from tests.gateway import accepted_push
from tests.support import CallbackReceiver, threaded

HANDSET = "/sandbox/v1/handsets"
JOHN = "254708374149"
# Never answers a prompt on its own: the test answers it.
WAITER = "254711000002"
PAYBILL = "600000"


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    # Validation is answered on the receiver's own thread while the app waits for it.
    with threaded(CallbackReceiver()) as running:
        yield running


async def _points(gateway: Gateway, msisdn: str) -> int:
    points = await gateway.platform.bonga.balance(msisdn)
    assert points is not None
    return points


def _issued(gateway: Gateway, transaction_id: str) -> int:
    with read_transaction(gateway.platform.engine) as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(transfers)
                .where(transfers.c.id == f"{transaction_id}:bonga")
            ).scalar_one()
        )


async def _push(gateway: Gateway, receiver: CallbackReceiver) -> str:
    accepted = await accepted_push(gateway, receiver, phone=WAITER, amount=500)
    return str(accepted["CheckoutRequestID"])


async def test_an_stk_payment_settled_twice_earns_once(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    before = await _points(gateway, WAITER)
    checkout_id = await _push(gateway, receiver)
    accepted = await gateway.client.post(
        f"{HANDSET}/{WAITER}/prompts/{checkout_id}/accept", json={"pin": "1234"}
    )
    assert accepted.json()["ResultCode"] == 0
    # The settle step run again (a timer firing late, another process): nothing new.
    context = SettleContext(
        ledger=LedgerStore(), max_callback_attempts=1, shortcodes=ShortcodeCache(),
        bonga_points_per_100_kes=gateway.platform.settings.bonga_points_per_100_kes,
    )  # fmt: skip
    with write_transaction(gateway.platform.engine) as conn:
        again = settle_request(
            conn, context, checkout_request_id=checkout_id, now=gateway.platform.clock.now(),
            action=Action.ACCEPT,
        )  # fmt: skip
    assert again is None
    assert await _points(gateway, WAITER) == before + 50
    assert _issued(gateway, checkout_id) == 1


async def test_a_declined_stk_push_earns_nothing(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    before = await _points(gateway, WAITER)
    checkout_id = await _push(gateway, receiver)
    declined = await gateway.client.post(f"{HANDSET}/{WAITER}/prompts/{checkout_id}/decline")
    assert declined.json()["ResultCode"] == 1032
    assert await _points(gateway, WAITER) == before
    assert _issued(gateway, checkout_id) == 0


async def _pay_with_validation(
    gateway: Gateway, receiver: CallbackReceiver, answer: dict[str, str]
) -> dict[str, Any]:
    base = receiver.url.rsplit("/", 1)[0]
    registered = await gateway.client.post(
        "/mpesa/c2b/v1/registerurl",
        json={"ShortCode": PAYBILL, "ResponseType": "Completed",
              "ConfirmationURL": f"{base}/confirm", "ValidationURL": f"{base}/validate"},
        headers=gateway.bearer,
    )  # fmt: skip
    assert registered.status_code == 200, registered.text
    with write_transaction(gateway.platform.engine) as conn:
        conn.execute(
            update(shortcodes)
            .where(shortcodes.c.shortcode == PAYBILL)
            .values(validation_enabled=True)
        )
    receiver.validation_answer = answer
    paid = await gateway.client.post(
        f"{HANDSET}/{JOHN}/paybill",
        json={"business_number": PAYBILL, "account_number": "A", "amount": 300, "pin": "1234"},
    )
    assert paid.status_code == 200, paid.text
    body: dict[str, Any] = paid.json()
    return body


async def test_a_c2b_payment_decided_twice_earns_once(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    before = await _points(gateway, JOHN)
    paid = await _pay_with_validation(gateway, receiver, {"ResultCode": "0", "ResultDesc": "OK"})
    assert paid["status"] == "completed"
    trans_id = paid["TransID"]
    # The decision made again (the overdue sweeper racing a slow answer): nothing new.
    context = C2bContext(
        ledger=LedgerStore(), max_callback_attempts=1, validation_timeout_s=8,
        bonga_points_per_100_kes=gateway.platform.settings.bonga_points_per_100_kes,
    )  # fmt: skip
    with write_transaction(gateway.platform.engine) as conn:
        again = c2b_payment.decide_payment(
            conn, context, trans_id, ValidationAnswer(True, "0"), now=gateway.platform.clock.now()
        )
    assert again is None
    assert await _points(gateway, JOHN) == before + 30
    assert _issued(gateway, trans_id) == 1


async def test_a_c2b_payment_rejected_by_validation_earns_nothing(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    before = await _points(gateway, JOHN)
    answer = {"ResultCode": "C2B00012", "ResultDesc": "Rejected"}
    paid = await _pay_with_validation(gateway, receiver, answer)
    assert paid["status"] == "cancelled"
    assert await _points(gateway, JOHN) == before
    assert _issued(gateway, paid["TransID"]) == 0
