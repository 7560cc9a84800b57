"""The change-request routes in the real app: present on the sandbox app, answering 404 when
the process serves no onboarding, and asking for the developer's credentials when it does."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from pesabox.api.app import create_app
from pesabox.core.onboarding_services import OnboardingServices, onboarding_services
from pesabox.core.platform import Platform
from pesabox.settings import Settings
from tests.change_requests.conftest import World

BASE = "/onboarding/v1/change-requests"
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
async def platforms(database_url: str, world: World) -> AsyncIterator[tuple[Platform, Platform]]:
    settings = Settings(database_url=database_url, poll_interval_s=0.05)
    sandbox = Platform(settings, engine=world.platform)
    production = Platform(
        settings.model_copy(update={"environment": "production"}), engine=world.production
    )
    yield sandbox, production
    await production.stop()


@pytest.mark.parametrize("served", [False, True])
async def test_routes_are_mounted(platforms: tuple[Platform, Platform], served: bool) -> None:
    sandbox, production = platforms
    services: OnboardingServices | None = (
        onboarding_services(sandbox, production) if served else None
    )
    app = create_app(sandbox.settings, platform=sandbox, onboarding=services)
    async with AsyncTestClient(app=app) as client:
        reply = await client.get(f"{BASE}/CRQ000000000000")
    body = reply.json()
    if served:
        assert (reply.status_code, body["errorCode"]) == (401, "401.002.01")
    else:
        assert (reply.status_code, body["errorCode"]) == (404, "404.001.01")
