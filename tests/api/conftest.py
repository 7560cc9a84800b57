from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine

from pesabox.sandbox.seed import SandboxCredentials
from pesabox.settings import Settings
from tests.gateway import Gateway, open_gateway, running_receiver
from tests.support import CallbackReceiver

__all__ = ["Gateway"]


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
    async with running_receiver() as receiver:
        yield receiver


@pytest.fixture
async def gateway(
    settings: Settings, seeded_engine: tuple[Engine, SandboxCredentials]
) -> AsyncIterator[Gateway]:
    async with open_gateway(Gateway, settings, seeded_engine) as gateway:
        yield gateway
