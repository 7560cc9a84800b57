"""What the inspector's service and page tests do first: an STK push whose callback reaches
the receiver, and the logged request it left."""

from __future__ import annotations

import asyncio
from typing import Any

from pesabox.core.inspector import CallbackView, InspectorFilter, InspectorService, RequestView
from tests.gateway import accepted_push
from tests.inspector.conftest import Gateway
from tests.support import CallbackReceiver


async def push(gateway: Gateway, receiver: CallbackReceiver, phone: str) -> dict[str, Any]:
    accepted = await accepted_push(gateway, receiver, phone=phone, amount=10)
    await receiver.wait_for_stk(accepted["CheckoutRequestID"])
    return accepted


async def delivered(service: InspectorService, checkout_id: str, attempts: int) -> CallbackView:
    """The callback once `attempts` attempts are recorded (the receiver hears of it first)."""
    wanted = InspectorFilter(transaction_id=checkout_id)
    for _ in range(200):
        found = await service.callbacks(wanted)
        if found and len(found[0].attempts) >= attempts:
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no callback with {attempts} attempts for {checkout_id}")


async def delivered_push(
    gateway: Gateway, receiver: CallbackReceiver, service: InspectorService, phone: str
) -> tuple[dict[str, Any], CallbackView]:
    """A push to `phone` and its callback, once the first attempt is recorded."""
    accepted = await push(gateway, receiver, phone)
    return accepted, await delivered(service, accepted["CheckoutRequestID"], 1)


async def logged_request(
    gateway: Gateway, service: InspectorService, checkout_id: str
) -> RequestView:
    """The one logged request that carries `checkout_id`, once the log is written."""
    await gateway.platform.request_log.flush()
    [request] = await service.requests(InspectorFilter(transaction_id=checkout_id))
    return request
