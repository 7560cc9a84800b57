from __future__ import annotations

import re
import time

import pytest

from pesabox.clock import daraja_timestamp
from pesabox.core.onboarding import OnboardingService
from pesabox.domain.onboarding.errors import (
    IllegalTransition,
    OnboardingConflict,
    OnboardingError,
    OnboardingNotFound,
)
from pesabox.domain.onboarding.states import LnmoState
from pesabox.security.stk_password import stk_password
from pesabox.storage.db import read_transaction
from pesabox.storage.parties_store import get_shortcode
from tests.onboarding.conftest import World, approved, developer, operator, submitted

WEEK_S = 7 * 86_400


async def test_lnmo_is_decided_after_the_review_days_and_gives_a_passkey(world: World) -> None:
    owner, reviewer = await developer(world), await operator(world)
    business = await approved(world, owner, reviewer)
    lnmo = world.service.lnmo
    record = await lnmo.apply(owner, business.id)
    assert record.state is LnmoState.SUBMITTED
    assert lnmo.decidable_at(record) == record.submitted_at + WEEK_S
    await lnmo.start_review(reviewer, record.id)
    world.clock.advance(WEEK_S - 60)
    assert not lnmo.is_decidable(record)
    with pytest.raises(OnboardingError, match="no earlier than 7 days"):
        await lnmo.approve(reviewer, record.id)
    world.clock.advance(60)
    assert lnmo.is_decidable(record)
    decided = await lnmo.approve(reviewer, record.id)
    assert decided.state is LnmoState.APPROVED
    assert decided.passkey is not None and re.fullmatch(r"[0-9a-f]{64}", decided.passkey)
    with read_transaction(world.production.engine) as conn:
        shortcode = get_shortcode(conn, "400000")
    assert shortcode is not None and shortcode.passkey == decided.passkey
    # The developer sees the passkey on their own application.
    assert (await lnmo.get(owner, record.id)).passkey == decided.passkey
    # Approving again re-applies the same passkey.
    assert (await lnmo.approve(reviewer, record.id)).passkey == decided.passkey
    trail = await lnmo.audit_trail(owner, record.id)
    assert [e.action for e in trail] == ["submitted", "review started", "approved"]


async def test_lnmo_passkey_signs_a_production_stk_push(world: World) -> None:
    owner, reviewer = await developer(world), await operator(world)
    business = await approved(
        world, owner, reviewer, kind="till", organisation_name="Duka",
    )  # fmt: skip
    record = await world.service.lnmo.apply(owner, business.id)
    await world.service.lnmo.start_review(reviewer, record.id)
    world.clock.advance(WEEK_S)
    decided = await world.service.lnmo.approve(reviewer, record.id)
    with read_transaction(world.production.engine) as conn:
        store = get_shortcode(conn, "400000")
    # A till's passkey is its store's: the number Buy Goods pushes are signed with.
    assert store is not None and store.kind == "store" and store.passkey == decided.passkey
    timestamp = daraja_timestamp(time.time())
    assert stk_password("400000", store.passkey or "", timestamp) == stk_password(
        "400000", decided.passkey or "", timestamp
    )


async def test_lnmo_review_window_follows_the_sandbox_clock(world: World) -> None:
    """Wired as `serve` wires it, the platform clock is the sandbox's, moved by /ui/clock."""
    service = OnboardingService.of(world.sandbox, world.production)
    owner = await service.accounts.sign_up(
        email="clock@shop.example", name="Clock", phone="254712000000", password="Kiosk#Sale2026"
    )
    reviewer = await service.accounts.create_platform_operator(
        username="clocker", name="Clock Er", password="Review3r#2026"
    )
    application = await submitted(world, owner)
    await service.applications.start_review(reviewer, application.id)
    await service.applications.approve(reviewer, application.id)
    record = await service.lnmo.apply(owner, application.id)
    await service.lnmo.start_review(reviewer, record.id)
    with pytest.raises(OnboardingError, match="days are left"):
        await service.lnmo.reject(reviewer, record.id, reason="not yet")
    world.sandbox.clock.offset_s += WEEK_S + 1
    rejected = await service.lnmo.reject(reviewer, record.id, reason="Callback URL unreachable")
    assert rejected.state is LnmoState.REJECTED
    assert rejected.rejection_reason == "Callback URL unreachable"
    assert rejected.passkey is None


async def test_lnmo_refusals(world: World) -> None:
    owner, stranger = await developer(world), await developer(world, "s@shop.example")
    reviewer = await operator(world)
    pending = await submitted(world, owner, organisation_name="Pending Ltd")
    business = await approved(world, owner, reviewer)
    lnmo = world.service.lnmo
    with pytest.raises(OnboardingNotFound):
        await lnmo.apply(owner, pending.id)  # not approved yet
    with pytest.raises(OnboardingNotFound):
        await lnmo.apply(stranger, business.id)
    record = await lnmo.apply(owner, business.id)
    with pytest.raises(OnboardingConflict, match="already has"):
        await lnmo.apply(owner, business.id)
    with pytest.raises(OnboardingNotFound):
        await lnmo.get(stranger, record.id)
    world.clock.advance(WEEK_S)
    with pytest.raises(IllegalTransition):
        await lnmo.approve(reviewer, record.id)  # not taken into review
    await lnmo.start_review(reviewer, record.id)
    with pytest.raises(OnboardingError, match="reason"):
        await lnmo.reject(reviewer, record.id, reason="")
    await lnmo.reject(reviewer, record.id, reason="Wrong shortcode type")
    with pytest.raises(IllegalTransition):
        await lnmo.approve(reviewer, record.id)
    # After a rejection the business may apply again.
    again = await lnmo.apply(owner, business.id)
    assert again.state is LnmoState.SUBMITTED
    assert [r.id for r in await lnmo.of_developer(owner)] == [again.id, record.id]
    listed = await lnmo.listed(reviewer, states=frozenset({LnmoState.SUBMITTED}))
    assert [r.id for r in listed] == [again.id]
