from __future__ import annotations

import asyncio
import re

import pytest

from pesabox.core.onboarding import OnboardingService
from pesabox.domain import accounts
from pesabox.domain.onboarding.errors import IllegalTransition, OnboardingConflict
from pesabox.domain.onboarding.states import ApplicationState
from pesabox.domain.operators import OperatorRole
from pesabox.storage import (
    applications_store,
    bank_accounts_store,
    ledger_queries,
    operators_store,
    orgs_store,
    parties_store,
)
from pesabox.storage.db import read_transaction
from pesabox.storage.parties_store import get_shortcode
from tests.onboarding.conftest import World, approved, developer, operator, submitted

ADMIN_PHONE = "254722111222"


def _one_time_password(world: World) -> str:
    with read_transaction(world.sandbox.engine) as conn:
        texts = parties_store.list_sms(conn, ADMIN_PHONE)
    found = re.search(r"one-time password (\S+),", texts[0]["body"])
    assert found is not None, texts
    return found.group(1)


def _organisations(world: World) -> list[orgs_store.OrganisationRecord]:
    with read_transaction(world.production.engine) as conn:
        return orgs_store.list_organisations(conn)


async def test_approving_a_paybill_sets_it_up_in_production(world: World) -> None:
    owner, reviewer = await developer(world), await operator(world)
    application = await approved(world, owner, reviewer)
    assert application.state is ApplicationState.APPROVED
    assert application.shortcode == "400000" and application.store_shortcode is None
    organisation_id = application.production_organisation_id
    assert organisation_id is not None
    with read_transaction(world.production.engine) as conn:
        record = get_shortcode(conn, "400000")
        assert record is not None and record.kind == "paybill"
        assert record.organisation_id == organisation_id
        assert record.tariff_profile == "customer_bouquet"
        for spec in accounts.org_accounts("400000"):
            assert ledger_queries.account_balance(conn, spec.code) is not None
        bank = bank_accounts_store.get_bank_details(conn, organisation_id)
        assert bank is not None and bank.account_number == "1234567890"
        admin = operators_store.get_operator(conn, shortcode="400000", username="achieng")
        assert admin is not None and admin.roles == (OperatorRole.BUSINESS_ADMINISTRATOR,)
    # Nothing of it is in the platform (sandbox) database.
    with read_transaction(world.sandbox.engine) as conn:
        assert get_shortcode(conn, "400000") is None
    # The administrator signs in to the production org portal with the SMS's password.
    signed_in = await world.production.portal_sessions.sign_in(
        shortcode="400000", username="achieng", password=_one_time_password(world)
    )
    assert signed_in.token is not None, signed_in.refusal


async def test_approving_a_till_makes_a_store_and_its_till(world: World) -> None:
    owner, reviewer = await developer(world), await operator(world)
    await approved(world, owner, reviewer)
    application = await approved(
        world, owner, reviewer, kind="till", organisation_name="Duka La Kona",
        administrator={"name": "Otieno", "username": "otieno", "phone": "254733000111",
                       "email": "o@duka.example"},
    )  # fmt: skip
    assert (application.store_shortcode, application.shortcode) == ("400001", "400002")
    with read_transaction(world.production.engine) as conn:
        store, till = get_shortcode(conn, "400001"), get_shortcode(conn, "400002")
        assert store is not None and store.kind == "store" and store.tariff_profile == "mauzo"
        assert till is not None and till.kind == "till" and till.store_shortcode == "400001"
        assert operators_store.get_operator(conn, shortcode="400001", username="otieno")
    business = await world.service.business_of(application.production_organisation_id or 0)
    assert business is not None
    assert business.shortcodes == ("400002", "400001") and business.stk_shortcode == "400001"
    assert business.admin_phone == "254733000111" and business.developer_id == owner.id
    listed = await world.service.applications.businesses_of(owner)
    assert [b.organisation_name for b in listed] == ["Mama Mboga Ltd", "Duka La Kona"]
    with read_transaction(world.sandbox.engine) as conn:
        assert applications_store.businesses_of_developer(conn, owner.id) == listed


async def test_approving_again_changes_nothing(world: World) -> None:
    owner, reviewer = await developer(world), await operator(world)
    application = await approved(world, owner, reviewer)
    again = await world.service.applications.approve(reviewer, application.id)
    assert again == application
    assert len(_organisations(world)) == 1
    with read_transaction(world.sandbox.engine) as conn:
        assert len(parties_store.list_sms(conn, ADMIN_PHONE)) == 1


def _second_process(world: World) -> OnboardingService:
    """Another process's service on the same databases: its own in-process lock, so only
    the databases' conditional updates stand between the two."""
    return OnboardingService(
        engine=world.sandbox.engine, writer=world.sandbox.writer, clock=world.clock,
        sandbox=world.sandbox, production=world.production, settings=world.sandbox.settings,
        wall_clock=world.wall_clock,
    )  # fmt: skip


@pytest.mark.parametrize("second", ["approve", "reject"])
async def test_two_operators_deciding_at_once_one_wins(world: World, second: str) -> None:
    owner = await developer(world)
    first_reviewer, second_reviewer = await operator(world), await operator(world, "other")
    application = await submitted(world, owner)
    await world.service.applications.start_review(first_reviewer, application.id)
    elsewhere = _second_process(world).applications
    other = (
        elsewhere.approve(second_reviewer, application.id)
        if second == "approve"
        else elsewhere.reject(second_reviewer, application.id, reason="Missing stamp")
    )
    outcomes = await asyncio.gather(
        world.service.applications.approve(first_reviewer, application.id),
        other,
        return_exceptions=True,
    )
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], OnboardingConflict), outcomes
    final = await world.service.applications.get(first_reviewer, application.id)
    assert final.state in {ApplicationState.APPROVED, ApplicationState.REJECTED}
    assert len(_organisations(world)) == (1 if final.state is ApplicationState.APPROVED else 0)
    trail = await world.service.applications.audit_trail(first_reviewer, application.id)
    decisions = [e for e in trail if e.action in {"approved", "rejected"}]
    assert len(decisions) == 1


async def test_two_approvals_in_one_process_make_one_business(world: World) -> None:
    owner, reviewer = await developer(world), await operator(world)
    application = await submitted(world, owner)
    await world.service.applications.start_review(reviewer, application.id)
    both = await asyncio.gather(
        world.service.applications.approve(reviewer, application.id),
        world.service.applications.approve(reviewer, application.id),
    )
    assert both[0] == both[1] and both[0].state is ApplicationState.APPROVED
    assert len(_organisations(world)) == 1


async def test_an_approval_cut_short_is_finished_once_with_a_new_password(world: World) -> None:
    owner, reviewer = await developer(world), await operator(world)
    application = await submitted(world, owner)
    applications = world.service.applications
    await applications.start_review(reviewer, application.id)
    # The first attempt decides and sets up production, then "crashes" before recording it.
    current = await applications.get(reviewer, application.id)
    await applications._claim(reviewer, current, "pbkdf2_sha256$1$s$lost")
    claimed = await applications.get(reviewer, application.id)
    await applications._set_up_in_production(claimed, "pbkdf2_sha256$1$s$lost")
    assert claimed.state is ApplicationState.APPROVING
    with pytest.raises(IllegalTransition):
        await applications.start_review(reviewer, application.id)
    # Too soon, it may still be running: refused rather than raced.
    with pytest.raises(OnboardingConflict, match="right now"):
        await applications.approve(reviewer, application.id)
    world.wall_clock.advance(600)
    finished = await applications.approve(reviewer, application.id)
    assert finished.state is ApplicationState.APPROVED
    assert finished.shortcode == claimed.shortcode
    assert len(_organisations(world)) == 1
    signed_in = await world.production.portal_sessions.sign_in(
        shortcode="400000", username="achieng", password=_one_time_password(world)
    )
    assert signed_in.token is not None, signed_in.refusal
    with pytest.raises(Exception):  # noqa: B017, PT011 - a rejection is illegal now
        await applications.reject(reviewer, application.id, reason="too late")


async def test_production_name_taken_after_submission_stops_the_set_up(world: World) -> None:
    owner, reviewer = await developer(world), await operator(world)
    application = await submitted(world, owner)
    await world.service.applications.start_review(reviewer, application.id)
    from pesabox.storage.db import write_transaction

    with write_transaction(world.production.engine) as conn:
        orgs_store.create_organisation(conn, "Mama Mboga Ltd", now=0)
    with pytest.raises(OnboardingConflict, match="production already has"):
        await world.service.applications.approve(reviewer, application.id)
    assert len(_organisations(world)) == 1
    # Nothing was made in production, so the decision is undone and may be taken again.
    back = await world.service.applications.get(reviewer, application.id)
    assert back.state is ApplicationState.IN_REVIEW and back.shortcode is None
    rejected = await world.service.applications.reject(
        reviewer, application.id, reason="The name is registered to another business"
    )
    assert rejected.state is ApplicationState.REJECTED
    trail = await world.service.applications.audit_trail(reviewer, application.id)
    assert [e.action for e in trail][-3:] == ["approved", "set-up refused", "rejected"]


async def test_production_rows_carry_production_time_not_the_moved_sandbox_clock(
    world: World,
) -> None:
    owner, reviewer = await developer(world), await operator(world)
    world.clock.advance(30 * 86_400)  # a tester moved the sandbox clock a month ahead
    await approved(world, owner, reviewer)
    (organisation,) = _organisations(world)
    assert organisation.created_at < world.clock.now() - 29 * 86_400
