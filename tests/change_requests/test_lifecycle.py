"""The CRQ service: submitting, the queue, review, rejection, withdrawal, comments, the
audit trail, and two operators acting at once."""

from __future__ import annotations

import asyncio

import pytest

from pesabox.core.change_requests import ChangeRequestService, Environment
from pesabox.core.crq_certificates import PlatformCa
from pesabox.domain import change_requests as crq
from pesabox.domain.change_requests import Actor, ActorKind, Kind, State
from pesabox.storage.writer import LedgerWriter
from tests.change_requests.conftest import (
    DEVELOPER,
    DEVELOPER_ID,
    OPERATOR,
    OTHER_OPERATOR,
    SHORTCODE,
    World,
)

GO_LIVE = crq.go_live("Duka Shop", ["c2b"])


async def test_submit_makes_a_submitted_crq_with_its_first_event(world: World) -> None:
    request = await world.submit(GO_LIVE)
    assert crq.is_number(request.number)
    assert (request.kind, request.state, request.shortcode) == (
        Kind.GO_LIVE, State.SUBMITTED, SHORTCODE,
    )  # fmt: skip
    assert request.payload == {"app_name": "Duka Shop", "products": ["c2b"]}
    detail = await world.service.detail(request.number)
    [event] = detail.trail
    assert (event.action, event.actor, event.from_state, event.to_state, event.at) == (
        "submit", DEVELOPER, None, State.SUBMITTED, world.wall.now(),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"shortcode": "600000"}, "is not Duka Bora Ltd's"),
        ({"organisation_id": 999}, "no production organisation 999"),
        ({"developer_id": 7}, "not this developer's business"),
    ],
)
async def test_submit_refusals_make_nothing(
    world: World, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(crq.ChangeRequestError, match=message):
        await world.submit(GO_LIVE, **overrides)
    assert await world.service.queue() == []


async def test_queue_filters_by_state_and_kind(world: World) -> None:
    first = await world.submit(GO_LIVE)
    world.wall.advance(1)
    second = await world.submit(crq.go_live("Other", ["b2c"]))
    await world.service.review(first.number, OPERATOR)
    queue = await world.service.queue()
    assert [r.number for r in queue] == [second.number, first.number]
    in_review = await world.service.queue(state=State.IN_REVIEW)
    assert [r.number for r in in_review] == [first.number]
    assert await world.service.queue(kind=Kind.CERTIFICATE) == []
    assert len(await world.service.of_organisation(world.business.organisation_id)) == 2
    assert len(await world.service.of_developer(DEVELOPER_ID)) == 2
    assert await world.service.of_developer(DEVELOPER_ID + 1) == []


async def test_reject_needs_a_reason_and_records_it(world: World) -> None:
    request = await world.in_review(GO_LIVE)
    with pytest.raises(crq.ChangeRequestError, match="reason is required"):
        await world.service.reject(request.number, OPERATOR, "  ")
    rejected = await world.service.reject(request.number, OPERATOR, "Test cases missing")
    assert (rejected.state, rejected.reason) == (State.REJECTED, "Test cases missing")
    trail = (await world.service.detail(request.number)).trail
    assert [(e.action, e.from_state, e.to_state) for e in trail] == [
        ("submit", None, State.SUBMITTED),
        ("review", State.SUBMITTED, State.IN_REVIEW),
        ("reject", State.IN_REVIEW, State.REJECTED),
    ]
    assert trail[-1].text == "Test cases missing"
    assert trail[-1].actor == OPERATOR


async def test_illegal_moves_through_the_service_are_refused(world: World) -> None:
    request = await world.submit(GO_LIVE)
    with pytest.raises(crq.IllegalTransition, match="submitted cannot be approved"):
        await world.service.approve(request.number, OPERATOR)
    with pytest.raises(crq.IllegalTransition, match="submitted cannot be rejected"):
        await world.service.reject(request.number, OPERATOR, "no")
    with pytest.raises(crq.IllegalTransition):
        await world.service.implement(request.number)
    await world.service.review(request.number, OPERATOR)
    with pytest.raises(crq.IllegalTransition, match="in_review cannot be taken into review"):
        await world.service.review(request.number, OPERATOR)
    with pytest.raises(crq.ChangeRequestError, match="developer may not approve"):
        await world.service.approve(request.number, DEVELOPER)
    assert (await world.service.detail(request.number)).request.state is State.IN_REVIEW


async def test_withdraw_only_by_the_requester_before_a_decision(world: World) -> None:
    request = await world.submit(GO_LIVE)
    with pytest.raises(crq.ChangeRequestError, match="only the requester"):
        await world.service.withdraw(request.number, Actor(ActorKind.DEVELOPER, "99"))
    withdrawn = await world.service.withdraw(request.number, DEVELOPER)
    assert withdrawn.state is State.WITHDRAWN
    with pytest.raises(crq.IllegalTransition):
        await world.service.review(request.number, OPERATOR)


async def test_comments_from_both_sides_in_any_state(world: World) -> None:
    request = await world.in_review(GO_LIVE)
    await world.service.comment(request.number, OPERATOR, "Please attach test results")
    event = await world.service.comment(request.number, DEVELOPER, "Attached, see email")
    assert (event.action, event.actor, event.text) == ("comment", DEVELOPER, "Attached, see email")
    await world.service.reject(request.number, OPERATOR, "Still missing")
    await world.service.comment(request.number, DEVELOPER, "Resubmitting")
    trail = (await world.service.detail(request.number)).trail
    assert [e.action for e in trail] == [
        "submit", "review", "comment", "comment", "reject", "comment",
    ]  # fmt: skip
    with pytest.raises(crq.ChangeRequestError, match="comment is required"):
        await world.service.comment(request.number, DEVELOPER, "")


@pytest.mark.parametrize("number", ["CRQ000000000000", "nonsense", "CRQ1"])
async def test_unknown_crq(world: World, number: str) -> None:
    with pytest.raises(crq.ChangeRequestNotFound):
        await world.service.detail(number)
    with pytest.raises(crq.ChangeRequestNotFound):
        await world.service.comment(number, OPERATOR, "hello")


async def test_two_operators_approve_at_once_one_wins(world: World) -> None:
    # A second service with its own writer stands for another process on the same database.
    world.give_production_app()
    request = await world.in_review(
        crq.url_change("https://a.example/c", "https://a.example/v", "Completed")
    )
    other_writer, other_production = LedgerWriter(world.platform), LedgerWriter(world.production)
    other = ChangeRequestService(
        platform=Environment(engine=world.platform, writer=other_writer, clock=world.wall),
        production=Environment(engine=world.production, writer=other_production, clock=world.wall),
        businesses=world.directory,
        certificates=PlatformCa(),
        wall_clock=world.wall,
    )
    try:
        outcomes = await asyncio.gather(
            world.service.reject(request.number, OPERATOR, "not now"),
            other.approve(request.number, OTHER_OPERATOR),
            return_exceptions=True,
        )
    finally:
        await other_writer.close()
        await other_production.close()
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], crq.IllegalTransition)
    trail = (await world.service.detail(request.number)).trail
    decisions = [e for e in trail if e.action in ("approve", "reject")]
    assert len(decisions) == 1


async def test_two_approvals_on_one_writer_one_wins(world: World) -> None:
    request = await world.in_review(crq.go_live("Shop", ["c2b"]))
    outcomes = await asyncio.gather(
        world.service.approve(request.number, OPERATOR),
        world.service.approve(request.number, OTHER_OPERATOR),
        return_exceptions=True,
    )
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], crq.IllegalTransition)
    trail = (await world.service.detail(request.number)).trail
    assert [e.action for e in trail].count("approve") == 1
    # One code went out, not two.
    assert len(world.inbox()) == 1


async def test_an_org_operator_raises_and_withdraws(world: World) -> None:
    admin = Actor(ActorKind.ORG_OPERATOR, "duka.admin")
    request = await world.submit(GO_LIVE, requester=admin, developer_id=None)
    assert (request.requester, request.developer_id) == (admin, None)
    mine = await world.service.of_organisation(world.business.organisation_id)
    assert [r.number for r in mine] == [request.number]
    assert await world.service.of_developer(DEVELOPER_ID) == []
    with pytest.raises(crq.ChangeRequestError, match="only the requester"):
        await world.service.withdraw(request.number, DEVELOPER)
    assert (await world.service.withdraw(request.number, admin)).state is State.WITHDRAWN


@pytest.mark.parametrize("note", ["fine\x00", "x" * (crq.COMMENT_LENGTH_MAX + 1)])
async def test_an_approval_note_is_checked_like_a_comment(world: World, note: str) -> None:
    request = await world.in_review(GO_LIVE)
    with pytest.raises(crq.ChangeRequestError, match="note"):
        await world.service.approve(request.number, OPERATOR, note)
    assert (await world.service.detail(request.number)).request.state is State.IN_REVIEW
