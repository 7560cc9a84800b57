from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import Engine

from pesabox.api.app import create_app
from pesabox.core.platform import Platform
from pesabox.sandbox.seed import SandboxCredentials
from pesabox.settings import Settings
from tests.support import CallbackReceiver, basic_auth


@dataclass
class Gateway:
    client: AsyncTestClient  # type: ignore[type-arg]
    platform: Platform
    credentials: SandboxCredentials
    token: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        customer_delay_s=0,
        poll_interval_s=0.05,
        callback_backoff_base_s=0.01,
        callback_backoff_cap_s=0.05,
        stk_prompt_timeout_s=60,
    )


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture
async def gateway(
    settings: Settings, seeded_engine: tuple[Engine, SandboxCredentials]
) -> AsyncIterator[Gateway]:
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
        yield Gateway(client, platform, seeded, reply.json()["access_token"])
