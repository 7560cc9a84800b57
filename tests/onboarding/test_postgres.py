"""The whole path on PostgreSQL: the platform database and production's in two schemas."""

from __future__ import annotations

import pytest

from pesabox.domain.onboarding.states import ApplicationState, LnmoState
from pesabox.storage.db import make_engine, read_transaction
from pesabox.storage.migrate import upgrade_to_head
from pesabox.storage.parties_store import get_shortcode
from tests.databases import fresh_postgres_url
from tests.onboarding.conftest import open_world, operator, submitted

pytestmark = pytest.mark.postgres


def _migrate(url: str) -> None:
    engine = make_engine(url)
    upgrade_to_head(engine)
    engine.dispose()


async def test_onboarding_on_postgresql_from_sign_up_to_passkey() -> None:
    with fresh_postgres_url() as platform_url, fresh_postgres_url() as production_url:
        _migrate(platform_url)
        _migrate(production_url)
        world = await open_world(platform_url, production_url)
        try:
            owner = await world.service.accounts.sign_up(
                email="pg@shop.example", name="Pg Dev", phone="254712345678",
                password="Kiosk#Sale2026",
            )  # fmt: skip
            reviewer = await operator(world)
            application = await submitted(world, owner)
            await world.service.applications.start_review(reviewer, application.id)
            done = await world.service.applications.approve(reviewer, application.id)
            assert done.state is ApplicationState.APPROVED
            lnmo = await world.service.lnmo.apply(owner, application.id)
            await world.service.lnmo.start_review(reviewer, lnmo.id)
            world.clock.advance(7 * 86_400)
            decided = await world.service.lnmo.approve(reviewer, lnmo.id)
            assert decided.state is LnmoState.APPROVED
            with read_transaction(world.production.engine) as conn:
                shortcode = get_shortcode(conn, done.shortcode or "")
            assert shortcode is not None and shortcode.passkey == decided.passkey
            # The name is held: a second application for it is refused by the database too.
            with pytest.raises(Exception, match="exists already|already open"):
                await submitted(world, owner)
        finally:
            await world.sandbox.stop()
            await world.production.stop()
