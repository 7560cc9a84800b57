"""The CRQ state machine: every (state, action) pair, in the domain table and applied to a
stored CRQ, legal or refused with nothing written."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select, update

from pesabox.domain import change_requests as crq
from pesabox.domain.change_requests import SYSTEM, Action, Actor, ActorKind, Kind, State
from pesabox.storage import change_requests_store as store
from pesabox.storage.db import write_transaction
from pesabox.storage.tables_change_requests import change_request_events, change_requests

MOVES = [a for a in Action if a not in (Action.COMMENT, Action.CODE_SENT)]
ALL_PAIRS = list(itertools.product(State, MOVES))
LEGAL = {
    (State.SUBMITTED, Action.REVIEW): State.IN_REVIEW,
    (State.IN_REVIEW, Action.APPROVE): State.APPROVED,
    (State.IN_REVIEW, Action.REJECT): State.REJECTED,
    (State.APPROVED, Action.IMPLEMENT): State.IMPLEMENTED,
    (State.SUBMITTED, Action.WITHDRAW): State.WITHDRAWN,
    (State.IN_REVIEW, Action.WITHDRAW): State.WITHDRAWN,
}
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_transitions_are_exactly_the_documented_ones() -> None:
    assert crq.TRANSITIONS == LEGAL


@pytest.mark.parametrize(("state", "action"), ALL_PAIRS)
def test_next_state_every_pair(state: State, action: Action) -> None:
    if (state, action) in LEGAL:
        assert crq.next_state(state, action) is LEGAL[(state, action)]
    else:
        with pytest.raises(crq.IllegalTransition, match=f"that is {state.value} cannot be"):
            crq.next_state(state, action)


def test_final_states_have_no_way_out() -> None:
    for state in crq.FINAL_STATES:
        assert not [pair for pair in LEGAL if pair[0] is state]


@pytest.mark.parametrize(
    ("action", "kind", "allowed"),
    [
        (Action.REVIEW, ActorKind.PLATFORM_OPERATOR, True),
        (Action.REVIEW, ActorKind.DEVELOPER, False),
        (Action.APPROVE, ActorKind.ORG_OPERATOR, False),
        (Action.APPROVE, ActorKind.SYSTEM, False),
        (Action.REJECT, ActorKind.PLATFORM_OPERATOR, True),
        (Action.IMPLEMENT, ActorKind.PLATFORM_OPERATOR, False),
        (Action.IMPLEMENT, ActorKind.SYSTEM, True),
        (Action.WITHDRAW, ActorKind.DEVELOPER, True),
        (Action.WITHDRAW, ActorKind.ORG_OPERATOR, True),
        (Action.WITHDRAW, ActorKind.PLATFORM_OPERATOR, False),
    ],
)
def test_check_mover_who_may_move(action: Action, kind: ActorKind, allowed: bool) -> None:
    actor = Actor(kind, "someone")
    if allowed:
        crq.check_mover(action, actor)
    else:
        with pytest.raises(crq.ChangeRequestError, match="may not"):
            crq.check_mover(action, actor)


def test_new_number_is_crq_and_twelve_digits() -> None:
    numbers = {crq.new_number() for _ in range(200)}
    assert all(crq.is_number(n) and len(n) == 15 for n in numbers)
    assert len(numbers) == 200
    assert not crq.is_number("CRQ12345678901")
    assert not crq.is_number("CRQ1234567890123")
    assert not crq.is_number("crq123456789012")


def _stored_in(engine: Engine, state: State) -> str:
    number = crq.new_number()
    with write_transaction(engine) as conn:
        store.insert_change_request(
            conn, number=number, kind=Kind.GO_LIVE, organisation_id=1, shortcode="777001",
            requester=Actor(ActorKind.DEVELOPER, "41"), developer_id=41,
            payload={"app_name": "Shop", "products": ["c2b"]}, now=1.0,
        )  # fmt: skip
        conn.execute(
            update(change_requests)
            .where(change_requests.c.number == number)
            .values(state=state.value)
        )
    return number


def _event_count(engine: Engine, number: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(change_request_events)
                .where(change_request_events.c.number == number)
            ).scalar_one()
        )


@SQLITE
@pytest.mark.parametrize(("state", "action"), ALL_PAIRS)
def test_apply_every_pair_on_a_stored_crq(engine: Engine, state: State, action: Action) -> None:
    number = _stored_in(engine, state)
    actor = SYSTEM
    if (state, action) in LEGAL:
        with write_transaction(engine) as conn:
            moved = store.apply(conn, number, action, actor, now=2.0)
        assert moved.state is LEGAL[(state, action)]
        assert _event_count(engine, number) == 2
        with engine.connect() as conn:
            last = store.events(conn, number)[-1]
        assert (last.from_state, last.to_state, last.action) == (
            state, LEGAL[(state, action)], action.value,
        )  # fmt: skip
        return
    with pytest.raises(crq.IllegalTransition), write_transaction(engine) as conn:
        store.apply(conn, number, action, actor, now=2.0)
    with engine.connect() as conn:
        after = store.get_change_request(conn, number)
    assert after is not None and after.state is state
    assert _event_count(engine, number) == 1


def test_move_with_a_stale_state_changes_nothing(engine: Engine) -> None:
    number = _stored_in(engine, State.IN_REVIEW)
    with write_transaction(engine) as conn:
        first = store.move(
            conn, number, expected=State.IN_REVIEW, to=State.APPROVED, actor=SYSTEM,
            action="approve", now=2.0,
        )  # fmt: skip
        # The second approver read "in_review" too; its UPDATE finds no such row now.
        second = store.move(
            conn, number, expected=State.IN_REVIEW, to=State.REJECTED, actor=SYSTEM,
            action="reject", now=2.0,
        )  # fmt: skip
        final = store.get_change_request(conn, number)
    assert (first, second) == (True, False)
    assert final is not None and final.state is State.APPROVED
    assert _event_count(engine, number) == 2


@SQLITE
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions=st.lists(st.sampled_from(MOVES), max_size=8))
def test_any_sequence_of_moves_follows_the_table(engine: Engine, actions: list[Action]) -> None:
    """Whatever is tried, in any order, the stored state is the table's walk over the legal
    moves, and the trail holds exactly those moves."""
    number = _stored_in(engine, State.SUBMITTED)
    expected, legal = State.SUBMITTED, []
    for action in actions:
        try:
            with write_transaction(engine) as conn:
                store.apply(conn, number, action, SYSTEM, now=2.0)
        except crq.IllegalTransition:
            assert (expected, action) not in LEGAL
            continue
        expected = LEGAL[(expected, action)]
        legal.append(action.value)
    with engine.connect() as conn:
        stored = store.get_change_request(conn, number)
        trail = [event.action for event in store.events(conn, number)]
    assert stored is not None and stored.state is expected
    assert trail == ["submit", *legal]
