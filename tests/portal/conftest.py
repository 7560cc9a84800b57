from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine

from pesabox.core.platform import Platform
from pesabox.domain.operators import OperatorKind, OperatorRole
from pesabox.sandbox import fixtures
from pesabox.sandbox.seed import SandboxCredentials
from pesabox.security.web_sessions import PortalSession
from pesabox.settings import Settings
from pesabox.storage import operators_store
from pesabox.storage.db import write_transaction


@pytest.fixture
async def platform(
    database_url: str, seeded_engine: tuple[Engine, SandboxCredentials]
) -> AsyncIterator[Platform]:
    engine, _ = seeded_engine
    settings = Settings(database_url=database_url, poll_interval_s=0.05)
    platform = Platform(settings, engine=engine)
    yield platform
    await platform.stop()


async def sign_in(platform: Platform, shortcode: str) -> PortalSession:
    """The seeded web operator of `shortcode`'s organisation, signed in."""
    result = await platform.portal_sessions.sign_in(
        shortcode=shortcode,
        username=fixtures.WEB_OPERATOR_NAME,
        password=fixtures.WEB_OPERATOR_PASSWORD,
    )
    assert result.token is not None, result.refusal
    session = await platform.portal_sessions.resolve(result.token)
    assert session is not None
    return session


def add_web_operator(
    engine: Engine,
    *,
    shortcode: str,
    username: str,
    role: OperatorRole,
    password: str,
    now: float,
) -> None:
    """Another web operator of `shortcode`, holding one role, its password set at `now`."""
    with write_transaction(engine) as conn:
        operators_store.add_operator(
            conn,
            shortcode=shortcode,
            username=username,
            kind=OperatorKind.WEB,
            roles=[role],
            password=password,
            now=now,
        )
