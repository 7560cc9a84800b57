"""Going live: approval sends a one-time code by SMS to the Business Administrator; the code
confirmed makes exactly one production app bound to the organisation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select, update

from pesabox.core.go_live import CONFIRM_LEASE_S, ProductionKeys
from pesabox.domain import change_requests as crq
from pesabox.domain import one_time_codes as otp
from pesabox.domain.change_requests import State
from pesabox.domain.products import Product
from pesabox.security.credentials import secret_matches
from pesabox.storage import apps_store
from pesabox.storage.db import write_transaction
from pesabox.storage.tables import apps
from pesabox.storage.tables_change_requests import change_requests
from tests.change_requests.conftest import ADMIN_PHONE, DEVELOPER, OPERATOR, SHORTCODE, World

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def _approved(world: World) -> str:
    request = await world.in_review(crq.go_live("Duka Shop", ["c2b", "mpesa_express"]))
    approved = await world.service.approve(request.number, OPERATOR, "Looks good")
    assert approved.state is State.APPROVED
    return request.number


def _production_apps(world: World) -> list[apps_store.AppRecord]:
    with world.production.connect() as conn:
        return apps_store.list_apps(conn)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_approval_texts_a_code_naming_the_crq_and_shortcode(world: World) -> None:
    number = await _approved(world)
    [message] = world.inbox(ADMIN_PHONE)
    code = message[:6]
    assert code.isdigit()
    assert number in message and SHORTCODE in message
    assert "10 minutes" in message
    # Nothing else secret: no consumer key, no other digits run than the code's.
    trail = (await world.service.detail(number)).trail
    assert [e.action for e in trail][-2:] == ["approve", "code_sent"]
    assert trail[-1].text == "code sent to duka.admin on 2547*****678"
    assert code not in (trail[-1].text or "")


async def test_right_code_makes_one_production_app_bound_to_the_org(world: World) -> None:
    number = await _approved(world)
    keys = await world.service.confirm(number, world.last_code(), DEVELOPER)
    [app] = _production_apps(world)
    assert (app.id, app.consumer_key, app.name) == (keys.app_id, keys.consumer_key, "Duka Shop")
    assert app.organisation_id == world.business.organisation_id
    assert app.products == frozenset({Product.C2B, Product.MPESA_EXPRESS})
    assert secret_matches(keys.consumer_secret, app.secret_digest)
    request = (await world.service.detail(number)).request
    assert (request.state, request.app_id, request.app_consumer_key) == (
        State.IMPLEMENTED, app.id, app.consumer_key,
    )  # fmt: skip
    # The app is in production only: the platform (sandbox) database has none of it.
    with world.platform.connect() as conn:
        assert apps_store.find_app_by_key(conn, keys.consumer_key) is None


async def test_replayed_code_is_refused_and_makes_no_second_app(world: World) -> None:
    number = await _approved(world)
    code = world.last_code()
    await world.service.confirm(number, code, DEVELOPER)
    with pytest.raises(crq.IllegalTransition, match="implemented"):
        await world.service.confirm(number, code, DEVELOPER)
    assert len(_production_apps(world)) == 1


async def test_three_wrong_codes_kill_it(world: World) -> None:
    number = await _approved(world)
    code = world.last_code()
    with pytest.raises(crq.CodeRefused, match="wrong; 2 tries left"):
        await world.service.confirm(number, _wrong(code), DEVELOPER)
    with pytest.raises(crq.CodeRefused, match="wrong; 1 try left"):
        await world.service.confirm(number, "abc", DEVELOPER)
    with pytest.raises(crq.CodeRefused, match="last try"):
        await world.service.confirm(number, _wrong(code), DEVELOPER)
    with pytest.raises(crq.CodeRefused, match="no longer valid"):
        await world.service.confirm(number, code, DEVELOPER)
    assert _production_apps(world) == []
    # A new code works, and the old one stays dead.
    await world.service.send_code(number, DEVELOPER)
    fresh = world.last_code()
    assert len(world.inbox()) == 2
    keys = await world.service.confirm(number, fresh, DEVELOPER)
    assert [a.id for a in _production_apps(world)] == [keys.app_id]


async def test_code_expires_after_ten_minutes_of_wall_time(world: World) -> None:
    number = await _approved(world)
    world.wall.advance(599)
    code = world.last_code()
    with pytest.raises(crq.CodeRefused, match="wrong"):
        await world.service.confirm(number, _wrong(code), DEVELOPER)
    world.wall.advance(1)
    with pytest.raises(crq.CodeRefused, match="expired"):
        await world.service.confirm(number, code, DEVELOPER)
    assert _production_apps(world) == []


async def test_a_new_code_kills_the_old_one(world: World) -> None:
    number = await _approved(world)
    old = world.last_code()
    await world.service.send_code(number, DEVELOPER)
    new = world.last_code()
    # Only the newest code is judged: the old one is just a wrong code now.
    if old != new:
        with pytest.raises(crq.CodeRefused, match="wrong"):
            await world.service.confirm(number, old, DEVELOPER)
    await world.service.confirm(number, new, DEVELOPER)


async def test_code_before_approval_or_on_another_kind_is_refused(world: World) -> None:
    request = await world.in_review(crq.go_live("Shop", ["c2b"]))
    with pytest.raises(crq.IllegalTransition, match="only an approved go-live"):
        await world.service.confirm(request.number, "123456", DEVELOPER)
    with pytest.raises(crq.IllegalTransition, match="not waiting for its code"):
        await world.service.send_code(request.number, DEVELOPER)
    assert world.inbox() == []


@SQLITE
async def test_retry_after_a_lost_answer_finishes_the_same_app(world: World) -> None:
    """The code was accepted and the app made, but the CRQ was never marked implemented (the
    process died in between): a new code finishes the same app with a new secret."""
    number = await _approved(world)
    first = await world.service.confirm(number, world.last_code(), DEVELOPER)
    _back_to_approved(world, number)
    # A retry waits out the confirmation's lease (it might still be finishing).
    world.wall.advance(CONFIRM_LEASE_S)
    await world.service.send_code(number, DEVELOPER)
    second = await world.service.confirm(number, world.last_code(), DEVELOPER)
    assert (second.app_id, second.consumer_key) == (first.app_id, first.consumer_key)
    assert second.consumer_secret != first.consumer_secret
    [app] = _production_apps(world)
    assert secret_matches(second.consumer_secret, app.secret_digest)
    assert not secret_matches(first.consumer_secret, app.secret_digest)


def _back_to_approved(world: World, number: str) -> None:
    with write_transaction(world.platform) as conn:
        conn.execute(
            update(change_requests)
            .where(change_requests.c.number == number)
            .values(state="approved", app_id=None)
        )
    with world.production.connect() as conn:
        assert conn.execute(select(apps.c.id)).all()


async def test_two_confirms_at_once_make_one_app(world: World) -> None:
    number = await _approved(world)
    code = world.last_code()
    outcomes = await asyncio.gather(
        world.service.confirm(number, code, DEVELOPER),
        world.service.confirm(number, code, DEVELOPER),
        return_exceptions=True,
    )
    keys = [o for o in outcomes if isinstance(o, ProductionKeys)]
    refused = [o for o in outcomes if isinstance(o, crq.ChangeRequestError)]
    assert len(keys) == 1 and len(refused) == 1, outcomes
    assert [app.id for app in _production_apps(world)] == [keys[0].app_id]


class _HeldWriter:
    """Production's writer, holding each job until released: a confirmation caught between
    accepting its code and finishing the CRQ."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def submit(self, job: Any) -> Any:
        self.entered.set()
        await self.release.wait()
        return await self._writer.submit(job)


async def test_no_second_confirmation_while_one_is_finishing(world: World) -> None:
    """A new code confirmed during a confirmation would replace the secret the first one is
    about to show; the CRQ takes neither a new code nor a code until it is done."""
    number = await _approved(world)
    held = _HeldWriter(world.service.go_live._production)  # noqa: SLF001 - the seam
    world.service.go_live._production = held  # type: ignore[assignment]  # noqa: SLF001
    first = asyncio.create_task(world.service.confirm(number, world.last_code(), DEVELOPER))
    await held.entered.wait()
    with pytest.raises(crq.CodeRefused, match="being confirmed right now"):
        await world.service.send_code(number, DEVELOPER)
    with pytest.raises(crq.CodeRefused, match="being confirmed right now"):
        await world.service.confirm(number, world.last_code(), DEVELOPER)
    held.release.set()
    keys = await first
    [app] = _production_apps(world)
    assert secret_matches(keys.consumer_secret, app.secret_digest)
    assert (await world.service.detail(number)).request.state is State.IMPLEMENTED


async def test_new_codes_are_capped_per_window_and_in_all(world: World) -> None:
    number = await _approved(world)  # the first code
    for _ in range(2):
        await world.service.send_code(number, DEVELOPER)
    with pytest.raises(crq.CodeRefused, match="in the last 10 minutes.*contact support"):
        await world.service.send_code(number, DEVELOPER)
    assert len(world.inbox()) == 3
    for _ in range(7):
        world.wall.advance(otp.CODE_WINDOW_S)
        await world.service.send_code(number, DEVELOPER)
    world.wall.advance(otp.CODE_WINDOW_S)
    with pytest.raises(crq.CodeRefused, match="10 codes were sent already; contact support"):
        await world.service.send_code(number, DEVELOPER)
    assert len(world.inbox()) == otp.CODES_MAX


async def test_wrong_tries_are_capped_across_codes(world: World) -> None:
    number = await _approved(world)
    for try_number in range(otp.WRONG_TRIES_MAX):
        if try_number and try_number % otp.ATTEMPTS_MAX == 0:
            world.wall.advance(otp.CODE_WINDOW_S)
            await world.service.send_code(number, DEVELOPER)
        with pytest.raises(crq.CodeRefused, match="wrong"):
            await world.service.confirm(number, _wrong(world.last_code()), DEVELOPER)
    with pytest.raises(crq.CodeRefused, match="no more tries.*contact support"):
        await world.service.confirm(number, world.last_code(), DEVELOPER)
    world.wall.advance(otp.CODE_WINDOW_S)
    with pytest.raises(crq.CodeRefused, match="codes were typed already; contact support"):
        await world.service.send_code(number, DEVELOPER)
    assert _production_apps(world) == []
