"""Portal sessions end when they should: an expired password signs nobody in, a lock or a
new password ends the sessions an operator already has."""

from __future__ import annotations

import pytest

from pesabox.core.org_portal import PortalForbidden
from pesabox.core.platform import Platform
from pesabox.domain.operators import OperatorKind, OperatorRole
from pesabox.sandbox import fixtures
from pesabox.storage import operators_store
from pesabox.storage.db import write_transaction

SHORTCODE = "600977"
PASSWORD = "Clerk#2026pw"


def add_web_operator(platform: Platform, *, changed_at: float) -> None:
    with write_transaction(platform.engine) as conn:
        operators_store.add_operator(
            conn,
            shortcode=SHORTCODE,
            username="teller",
            kind=OperatorKind.WEB,
            roles=[OperatorRole.BUSINESS_OPERATOR],
            password=PASSWORD,
            now=changed_at,
        )


async def test_an_expired_password_is_refused(platform: Platform) -> None:
    add_web_operator(platform, changed_at=platform.clock.now() - 91 * 86_400)
    refused = await platform.portal_sessions.sign_in(
        shortcode=SHORTCODE, username="teller", password=PASSWORD
    )
    assert refused.token is None and "expired" in (refused.refusal or "")


async def test_an_api_operator_cannot_sign_in_to_the_portal(platform: Platform) -> None:
    refused = await platform.portal_sessions.sign_in(
        shortcode=SHORTCODE,
        username=fixtures.INITIATOR_NAME,
        password=fixtures.INITIATOR_PASSWORD,
    )
    assert refused.token is None and "wrong" in (refused.refusal or "")


async def test_a_lock_or_a_new_password_ends_existing_sessions(platform: Platform) -> None:
    add_web_operator(platform, changed_at=platform.clock.now())
    signed = await platform.portal_sessions.sign_in(
        shortcode=SHORTCODE, username="teller", password=PASSWORD
    )
    session = await platform.portal_sessions.resolve(signed.token)
    assert session is not None
    # A Business Operator reads but does not administer.
    with pytest.raises(PortalForbidden, match="Business Administrator"):
        await platform.org_portal.unlock(session, SHORTCODE, username="teller")

    for _ in range(5):
        await platform.portal_sessions.sign_in(
            shortcode=SHORTCODE, username="teller", password="Wrong#2026pw"
        )
    assert await platform.portal_sessions.resolve(signed.token) is None

    admin_token = (
        await platform.portal_sessions.sign_in(
            shortcode=SHORTCODE,
            username=fixtures.WEB_OPERATOR_NAME,
            password=fixtures.WEB_OPERATOR_PASSWORD,
        )
    ).token
    admin = await platform.portal_sessions.resolve(admin_token)
    assert admin is not None
    assert await platform.org_portal.unlock(admin, SHORTCODE, username="teller") is True
    # The lock ended the session for good: unlocking does not bring the old token back.
    assert await platform.portal_sessions.resolve(signed.token) is None
    again = await platform.portal_sessions.sign_in(
        shortcode=SHORTCODE, username="teller", password=PASSWORD
    )
    assert await platform.portal_sessions.resolve(again.token) is not None
    await platform.org_portal.set_password(
        admin, SHORTCODE, username="teller", password="Clerk#2027pw"
    )
    assert await platform.portal_sessions.resolve(again.token) is None
