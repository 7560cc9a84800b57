"""An in-process gateway whose request log the tests flush themselves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import Engine, select

from pesabox.sandbox.seed import SandboxCredentials
from pesabox.settings import Settings
from pesabox.storage.db import read_transaction
from pesabox.storage.tables import apps, inspector_requests
from tests.gateway import Gateway as BaseGateway
from tests.gateway import open_gateway, running_receiver
from tests.support import CallbackReceiver


class Gateway(BaseGateway):
    """The API gateway, plus what inspector tests read back: the app name and the request log."""

    @property
    def app_name(self) -> str:
        with read_transaction(self.platform.engine) as conn:
            query = select(apps.c.name).where(apps.c.consumer_key == self.credentials.consumer_key)
            return str(conn.execute(query).scalar_one())

    async def logged(self) -> list[dict[str, Any]]:
        """Every logged request, oldest first, after writing what is still buffered."""
        await self.platform.request_log.flush()
        with read_transaction(self.platform.inspector_engine) as conn:
            query = select(inspector_requests).order_by(inspector_requests.c.id)
            return [dict(row) for row in conn.execute(query).mappings()]


def gateway_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "customer_delay_s": 0,
        "poll_interval_s": 0.05,
        "callback_backoff_base_s": 0.01,
        "callback_backoff_cap_s": 0.05,
        "web_cookie_secure": False,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return gateway_settings(database_url)


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    async with running_receiver() as receiver:
        yield receiver


@pytest.fixture
async def gateway(
    settings: Settings, seeded_engine: tuple[Engine, SandboxCredentials]
) -> AsyncIterator[Gateway]:
    async with open_gateway(Gateway, settings, seeded_engine) as gateway:
        yield gateway
