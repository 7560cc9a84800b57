"""An in-process gateway (the app on a test client, holding a bearer token) for API-level tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from litestar.testing import AsyncTestClient
from sqlalchemy import Engine

from pesabox.api.app import create_app
from pesabox.core.platform import Platform
from pesabox.sandbox.seed import SandboxCredentials
from pesabox.settings import Settings
from tests.support import CallbackReceiver, basic_auth, stk_body


@dataclass
class Gateway:
    client: AsyncTestClient  # type: ignore[type-arg]
    platform: Platform
    credentials: SandboxCredentials
    token: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


GatewayT = TypeVar("GatewayT", bound=Gateway)

STK_PUSH = "/mpesa/stkpush/v1/processrequest"


async def accepted_push(
    gateway: Gateway, receiver: CallbackReceiver, *, phone: str, amount: int
) -> dict[str, Any]:
    """An STK push whose callback goes to `receiver`, accepted (200): the reply's body."""
    body = stk_body(phone=phone, amount=amount, callback_url=receiver.url)
    reply = await gateway.client.post(STK_PUSH, json=body, headers=gateway.bearer)
    assert reply.status_code == 200, reply.text
    accepted: dict[str, Any] = reply.json()
    return accepted


@asynccontextmanager
async def open_gateway(
    kind: type[GatewayT],
    settings: Settings,
    seeded_engine: tuple[Engine, SandboxCredentials],
) -> AsyncIterator[GatewayT]:
    """The app on the seeded engine, with an OAuth token already issued to the seeded app."""
    engine, seeded = seeded_engine
    platform = Platform(settings, engine=engine)
    app = create_app(settings, platform=platform)
    async with AsyncTestClient(app=app) as client:
        reply = await client.get(
            "/oauth/v1/generate",
            params={"grant_type": "client_credentials"},
            headers={"Authorization": basic_auth(seeded.consumer_key, seeded.consumer_secret)},
        )
        assert reply.status_code == 200, reply.text
        yield kind(client, platform, seeded, reply.json()["access_token"])


@asynccontextmanager
async def running_receiver() -> AsyncIterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()
