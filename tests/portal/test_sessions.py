"""Portal sessions end when they should: an expired password signs nobody in, a lock or a
new password ends the sessions an operator already has."""

from __future__ import annotations

import time
from typing import Any

import pytest
from typer.testing import CliRunner

from pesabox.cli.main import app
from pesabox.core.org_portal import PortalForbidden
from pesabox.core.platform import Platform
from pesabox.domain.operators import OperatorRole
from pesabox.domain.services import operator_admin
from pesabox.sandbox import fixtures
from pesabox.security import credentials
from pesabox.storage import operators_store, sandbox_store
from pesabox.storage.db import write_transaction
from tests.portal.conftest import add_web_operator, sign_in

SHORTCODE = "600977"
PASSWORD = "Clerk#2026pw"


def add_teller(platform: Platform, *, changed_at: float) -> None:
    add_web_operator(
        platform.engine, shortcode=SHORTCODE, username="teller",
        role=OperatorRole.BUSINESS_OPERATOR, password=PASSWORD, now=changed_at,
    )  # fmt: skip


async def test_an_expired_password_is_refused(platform: Platform) -> None:
    add_teller(platform, changed_at=platform.clock.now() - 91 * 86_400)
    refused = await platform.portal_sessions.sign_in(
        shortcode=SHORTCODE, username="teller", password=PASSWORD
    )
    assert refused.token is None and "expired" in (refused.refusal or "")


async def test_password_age_is_checked_on_the_sandbox_clock(platform: Platform) -> None:
    """The portal and the CLI date a password on the sandbox clock, so sign-in checks its age
    on that clock too: 60 days ahead, a password set 31 wall-clock days ago is 91 days old."""
    add_teller(platform, changed_at=time.time() - 31 * 86_400)
    platform.clock.offset_s = 60 * 86_400.0
    refused = await platform.portal_sessions.sign_in(
        shortcode=SHORTCODE, username="teller", password=PASSWORD
    )
    assert refused.token is None and "expired" in (refused.refusal or "")
    # A password set on the moved clock signs in on it, and its session runs on wall time.
    admin = await sign_in(platform, SHORTCODE)
    await platform.org_portal.set_password(
        admin, SHORTCODE, username="teller", password="Clerk#2027pw"
    )
    signed = await platform.portal_sessions.sign_in(
        shortcode=SHORTCODE, username="teller", password="Clerk#2027pw"
    )
    session = await platform.portal_sessions.resolve(signed.token)
    assert session is not None and session.expires_at < time.time() + 86_400


async def test_an_api_operator_cannot_sign_in_to_the_portal(platform: Platform) -> None:
    refused = await platform.portal_sessions.sign_in(
        shortcode=SHORTCODE,
        username=fixtures.INITIATOR_NAME,
        password=fixtures.INITIATOR_PASSWORD,
    )
    assert refused.token is None and "wrong" in (refused.refusal or "")


async def test_a_lock_or_a_new_password_ends_existing_sessions(platform: Platform) -> None:
    add_teller(platform, changed_at=platform.clock.now())
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


def run_cli(database_url: str, *args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--database-url", database_url])
    assert result.exit_code == 0, result.output
    return result.output


async def test_the_cli_ends_sessions_and_dates_passwords_on_the_sandbox_clock(
    platform: Platform, database_url: str
) -> None:
    add_teller(platform, changed_at=platform.clock.now())
    signed = await platform.portal_sessions.sign_in(
        shortcode=SHORTCODE, username="teller", password=PASSWORD
    )
    assert await platform.portal_sessions.resolve(signed.token) is not None
    ahead_s = 30 * 86_400.0
    with write_transaction(platform.engine) as conn:
        sandbox_store.write_state(conn, sandbox_store.CLOCK_OFFSET_KEY, repr(ahead_s))
    before = time.time()
    run_cli(database_url, "operators", "set-password", SHORTCODE, "teller",
            "--password", "Clerk#2027pw")  # fmt: skip
    assert await platform.portal_sessions.resolve(signed.token) is None
    with platform.engine.connect() as conn:
        record = operators_store.get_operator(conn, shortcode=SHORTCODE, username="teller")
    assert record is not None and record.password_changed_at >= before + ahead_s

    again = await platform.portal_sessions.sign_in(
        shortcode=SHORTCODE, username="teller", password="Clerk#2027pw"
    )
    assert await platform.portal_sessions.resolve(again.token) is not None
    run_cli(database_url, "operators", "unlock", SHORTCODE, "teller")
    assert await platform.portal_sessions.resolve(again.token) is None


async def test_passwords_are_stretched_before_the_write_not_inside_it(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PBKDF2 inside the writer's transaction would stall every payment of its group commit."""
    inside_write: list[bool] = []
    submit = platform.writer.submit

    async def watched(job: Any) -> Any:
        def run(conn: Any) -> Any:
            inside_write.append(True)
            try:
                return job(conn)
            finally:
                inside_write.pop()

        return await submit(run)

    stretched: list[bool] = []

    def stretch(password: str, *, salt: str | None = None) -> str:
        stretched.append(bool(inside_write))
        return credentials.pin_digest(password, salt=salt)

    monkeypatch.setattr(platform.writer, "submit", watched)
    monkeypatch.setattr(operators_store, "pin_digest", stretch)
    monkeypatch.setattr(operator_admin, "pin_digest", stretch)
    admin = await sign_in(platform, SHORTCODE)
    await platform.org_portal.add_api_operator(
        admin, SHORTCODE, username="payouts", roles=[OperatorRole.B2C_INITIATOR.value],
        password="Payout#2026x",
    )  # fmt: skip
    await platform.org_portal.set_password(
        admin, SHORTCODE, username="payouts", password="Payout#2027x"
    )
    assert stretched == [False, False]


async def test_a_locked_operator_is_refused_like_an_unknown_one(platform: Platform) -> None:
    add_teller(platform, changed_at=platform.clock.now())
    for _ in range(5):
        await platform.portal_sessions.sign_in(
            shortcode=SHORTCODE, username="teller", password="Wrong#2026pw"
        )
    locked = await platform.portal_sessions.sign_in(
        shortcode=SHORTCODE, username="teller", password=PASSWORD
    )
    unknown = await platform.portal_sessions.sign_in(
        shortcode=SHORTCODE, username="nobody", password=PASSWORD
    )
    assert locked.token is None and unknown.token is None
    assert locked.refusal == unknown.refusal
