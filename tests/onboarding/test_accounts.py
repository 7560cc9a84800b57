from __future__ import annotations

import pytest

from pesabox.domain.onboarding.errors import (
    NotSignedIn,
    OnboardingConflict,
    OnboardingError,
    OnboardingNotFound,
)
from tests.onboarding.conftest import OPERATOR_PASSWORD, PASSWORD, World, developer, operator
from tests.support import basic_auth


async def test_sign_up_then_sign_in_opens_a_developer_session(world: World) -> None:
    made = await developer(world, "Dev@Shop.Example")
    token = await world.service.accounts.sign_in_developer(
        email="dev@shop.example", password=PASSWORD
    )
    session = await world.service.accounts.developer_session(token)
    assert session is not None and session.id == made.id
    assert session.email == "Dev@Shop.Example"
    # A developer's token is not a platform operator's session.
    assert await world.service.accounts.operator_session(token) is None


async def test_sign_up_email_taken_in_any_case(world: World) -> None:
    await developer(world, "dev@shop.example")
    with pytest.raises(OnboardingConflict, match="exists"):
        await developer(world, "DEV@shop.EXAMPLE")


async def test_sign_up_names_every_wrong_field(world: World) -> None:
    with pytest.raises(OnboardingError) as refusal:
        await world.service.accounts.sign_up(
            email="not-an-email", name=" ", phone="0712345678", password="short"
        )
    message = str(refusal.value)
    for part in ("e-mail", "name", "phone", "password"):
        assert part in message


async def test_sign_in_wrong_and_unknown_read_the_same(world: World) -> None:
    await developer(world)
    with pytest.raises(NotSignedIn) as wrong:
        await world.service.accounts.sign_in_developer(
            email="dev@shop.example", password="Wr0ng#pass"
        )
    with pytest.raises(NotSignedIn) as unknown:
        await world.service.accounts.sign_in_developer(
            email="nobody@shop.example", password=PASSWORD
        )
    assert str(wrong.value) == str(unknown.value)


async def test_sign_in_locks_after_five_failures(world: World) -> None:
    await operator(world)
    accounts = world.service.accounts
    token = await accounts.sign_in_operator(username="reviewer", password=OPERATOR_PASSWORD)
    for _ in range(5):
        with pytest.raises(NotSignedIn):
            await accounts.sign_in_operator(username="reviewer", password="Wr0ng#pass")
    # Locked: the right password is refused too, and the open session has ended.
    with pytest.raises(NotSignedIn):
        await accounts.sign_in_operator(username="reviewer", password=OPERATOR_PASSWORD)
    assert await accounts.operator_session(token) is None


async def test_a_developer_lock_lasts_fifteen_minutes_of_wall_time(world: World) -> None:
    await developer(world)
    accounts = world.service.accounts
    for _ in range(5):
        with pytest.raises(NotSignedIn):
            await accounts.sign_in_developer(email="dev@shop.example", password="Wr0ng#pass")
    world.clock.advance(30 * 86_400)  # the platform clock does not lift it
    world.wall_clock.advance(14 * 60)
    with pytest.raises(NotSignedIn):
        await accounts.sign_in_developer(email="dev@shop.example", password=PASSWORD)
    world.wall_clock.advance(61)
    assert await accounts.sign_in_developer(email="dev@shop.example", password=PASSWORD)
    # The failures went with the lock: four more do not lock it again.
    for _ in range(4):
        with pytest.raises(NotSignedIn):
            await accounts.sign_in_developer(email="dev@shop.example", password="Wr0ng#pass")
    assert await accounts.sign_in_developer(email="dev@shop.example", password=PASSWORD)


async def test_an_operator_lock_does_not_end_by_itself(world: World) -> None:
    await operator(world)
    accounts = world.service.accounts
    for _ in range(5):
        with pytest.raises(NotSignedIn):
            await accounts.sign_in_operator(username="reviewer", password="Wr0ng#pass")
    world.wall_clock.advance(86_400)
    with pytest.raises(NotSignedIn):
        await accounts.sign_in_operator(username="reviewer", password=OPERATOR_PASSWORD)


async def test_a_good_sign_in_clears_earlier_failures(world: World) -> None:
    await developer(world)
    accounts = world.service.accounts
    for _ in range(4):
        with pytest.raises(NotSignedIn):
            await accounts.sign_in_developer(email="dev@shop.example", password="Wr0ng#pass")
    await accounts.sign_in_developer(email="dev@shop.example", password=PASSWORD)
    for _ in range(4):
        with pytest.raises(NotSignedIn):
            await accounts.sign_in_developer(email="dev@shop.example", password="Wr0ng#pass")
    assert await accounts.sign_in_developer(email="dev@shop.example", password=PASSWORD)


async def test_session_expires_on_wall_time_and_sign_out_ends_it(world: World) -> None:
    await developer(world)
    accounts = world.service.accounts
    token = await accounts.sign_in_developer(email="dev@shop.example", password=PASSWORD)
    world.clock.advance(30 * 86_400)  # the platform clock does not end sessions
    assert await accounts.developer_session(token) is not None
    world.wall_clock.advance(9 * 3600)
    assert await accounts.developer_session(token) is None
    token = await accounts.sign_in_developer(email="dev@shop.example", password=PASSWORD)
    await accounts.sign_out(token)
    assert await accounts.developer_session(token) is None
    assert await accounts.developer_session("x" * 500) is None


async def test_platform_operator_username_is_unique_and_password_checked(world: World) -> None:
    await operator(world)
    with pytest.raises(OnboardingConflict):
        await operator(world)
    with pytest.raises(OnboardingError, match="password"):
        await world.service.accounts.create_platform_operator(
            username="other", name="Other", password="password"
        )


async def test_sandbox_app_secret_shown_once_works_for_oauth(world: World) -> None:
    owner = await developer(world)
    made = await world.service.accounts.create_app(
        owner, name="Shop", products=["mpesa_express", "c2b"]
    )
    token, _ = await world.sandbox.tokens.issue(
        authorization=basic_auth(made.app.consumer_key, made.consumer_secret),
        grant_type="client_credentials",
    )
    assert token
    listed = await world.service.accounts.list_apps(owner)
    assert [app.name for app in listed] == ["Shop"]
    assert not hasattr(listed[0], "consumer_secret")


async def test_app_names_are_unique_per_developer(world: World) -> None:
    first, second = await developer(world), await developer(world, "other@shop.example")
    await world.service.accounts.create_app(first, name="Shop", products="c2b")
    with pytest.raises(OnboardingConflict):
        await world.service.accounts.create_app(first, name="Shop", products="c2b")
    await world.service.accounts.create_app(second, name="Shop", products="c2b")
    with pytest.raises(OnboardingError):
        await world.service.accounts.create_app(first, name="Bad", products="teleport")


async def test_deleted_app_can_no_longer_get_a_token(world: World) -> None:
    owner, other = await developer(world), await developer(world, "other@shop.example")
    made = await world.service.accounts.create_app(owner, name="Shop", products="c2b")
    with pytest.raises(OnboardingNotFound):
        await world.service.accounts.delete_app(other, made.app.app_id)
    await world.service.accounts.delete_app(owner, made.app.app_id)
    assert await world.service.accounts.list_apps(owner) == []
    from pesabox.errors import InvalidAuthentication

    with pytest.raises(InvalidAuthentication):
        await world.sandbox.tokens.issue(
            authorization=basic_auth(made.app.consumer_key, made.consumer_secret),
            grant_type="client_credentials",
        )


async def test_two_processes_signing_up_one_email_make_one_developer(world: World) -> None:
    import asyncio

    from pesabox.core.onboarding_accounts import OnboardingAccounts
    from pesabox.storage.writer import LedgerWriter

    other_writer = LedgerWriter(world.sandbox.engine)
    elsewhere = OnboardingAccounts(
        engine=world.sandbox.engine, writer=other_writer, clock=world.clock
    )
    try:
        outcomes = await asyncio.gather(
            developer(world),
            elsewhere.sign_up(
                email="DEV@shop.example", name="Twin", phone="254712345679", password=PASSWORD
            ),
            return_exceptions=True,
        )
    finally:
        await other_writer.close()
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], OnboardingConflict), outcomes
