"""Operators in the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from pesabox.domain.operators import (
    OperatorConflict,
    OperatorKind,
    OperatorNotFound,
    OperatorRole,
    OperatorRuleError,
    parse_roles,
)
from pesabox.sandbox import fixtures
from pesabox.sandbox.seed import SandboxCredentials
from pesabox.security.credentials import pin_matches
from pesabox.storage import operators_store
from pesabox.storage.db import read_transaction, write_transaction

NOW = 1_800_000_000.0
PASSWORD = "Payout#2026x"
SHORTCODE = "600996"  # seeded, B2C and B2B


@pytest.fixture
def engine_seeded(seeded_engine: tuple[Engine, SandboxCredentials]) -> Engine:
    return seeded_engine[0]


def add(engine: Engine, username: str = "payouts", **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "shortcode": SHORTCODE,
        "username": username,
        "kind": OperatorKind.API,
        "roles": (OperatorRole.B2C_INITIATOR,),
        "password": PASSWORD,
        "now": NOW,
    }
    with write_transaction(engine) as conn:
        return operators_store.add_operator(conn, **(values | overrides))


def get(engine: Engine, username: str = "payouts", shortcode: str = SHORTCODE) -> Any:
    with read_transaction(engine) as conn:
        return operators_store.get_operator(conn, shortcode=shortcode, username=username)


def fail(engine: Engine, record: Any, threshold: int = 3) -> operators_store.FailureCount:
    with write_transaction(engine) as conn:
        return operators_store.record_failure(
            conn,
            operator_id=record.id,
            password_changed_at=record.password_changed_at,
            threshold=threshold,
            now=NOW + 5,
        )


def test_add_then_get_stores_only_a_digest(engine_seeded: Engine) -> None:
    added = add(engine_seeded, " payouts ")
    assert (added.shortcode, added.username, added.kind) == (SHORTCODE, "payouts", "api")
    assert added.roles == (OperatorRole.B2C_INITIATOR,)
    assert (added.failed_attempts, added.locked, added.password_changed_at) == (0, False, NOW)
    assert PASSWORD not in added.password_digest and pin_matches(PASSWORD, added.password_digest)
    assert "password_digest" not in repr(added)
    assert get(engine_seeded) == added
    assert get(engine_seeded, "nobody") is None


def test_seeded_initiator_is_a_valid_api_operator(engine_seeded: Engine) -> None:
    seeded = get(engine_seeded, fixtures.INITIATOR_NAME)
    assert seeded.kind is OperatorKind.API
    assert pin_matches(fixtures.INITIATOR_PASSWORD, seeded.password_digest)
    assert set(seeded.roles) == set(parse_roles("b2c,b2b,balance,status,reversal"))


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"shortcode": "999999"}, OperatorNotFound, "no shortcode 999999"),
        ({"username": "testapi"}, OperatorConflict, "operator 'testapi' exists on shortcode"),
        ({"password": "short"}, OperatorRuleError, "the password must"),
        ({"username": "bad name"}, OperatorRuleError, "username must be"),
        ({"roles": (OperatorRole.BUSINESS_MANAGER,)}, OperatorRuleError, "cannot hold"),
        ({"kind": OperatorKind.WEB}, OperatorRuleError, "web operator cannot hold ORG B2C"),
    ],
)
def test_add_refuses(
    engine_seeded: Engine, overrides: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        add(engine_seeded, **({"username": "payouts"} | overrides))
    assert get(engine_seeded, "payouts") is None


def test_list_per_shortcode_and_organisation(engine_seeded: Engine) -> None:
    add(engine_seeded, "payouts")
    add(engine_seeded, "admin", kind=OperatorKind.WEB, roles=(OperatorRole.BUSINESS_ADMINISTRATOR,))
    with read_transaction(engine_seeded) as conn:
        everyone = operators_store.list_operators(conn)
        mine = operators_store.list_operators(conn, shortcode=SHORTCODE)
        owner = next(o for o in fixtures.SHORTCODES if o.shortcode == SHORTCODE).organisation
        by_organisation = operators_store.list_operators(conn, organisation=owner)
        none = operators_store.list_operators(conn, organisation="No Such Org")
    assert [(o.shortcode, o.username) for o in mine] == [
        (SHORTCODE, "admin"),
        (SHORTCODE, "payouts"),
        (SHORTCODE, "testapi"),
        # The seed's web operator for the org portal.
        (SHORTCODE, fixtures.WEB_OPERATOR_NAME),
    ]
    assert {o.shortcode for o in everyone} == {f.shortcode for f in fixtures.SHORTCODES}
    assert {o.username for o in by_organisation} >= {"admin", "payouts"}
    assert {o.shortcode for o in by_organisation} <= {
        f.shortcode for f in fixtures.SHORTCODES if f.organisation == owner
    }
    assert none == []


def test_record_failure_counts_and_locks_at_the_threshold(engine_seeded: Engine) -> None:
    record = add(engine_seeded)
    counts = [fail(engine_seeded, record) for _ in range(4)]
    assert [(c.counted, c.failed_attempts, c.locked) for c in counts] == [
        (True, 1, False),
        (True, 2, False),
        (True, 3, True),
        (True, 4, True),
    ]
    locked = get(engine_seeded)
    # The lock keeps the moment of the failure that set it.
    assert (locked.failed_attempts, locked.locked_at) == (4, NOW + 5)


def test_record_failure_ignores_a_password_changed_meanwhile(engine_seeded: Engine) -> None:
    stale = add(engine_seeded)
    with write_transaction(engine_seeded) as conn:
        operators_store.set_password(
            conn, shortcode=SHORTCODE, username="payouts", password="Fresh$Pass9", now=NOW + 1
        )
    assert fail(engine_seeded, stale) == operators_store.FailureCount(False, 0, False)
    assert get(engine_seeded).failed_attempts == 0


def test_record_success_resets_only_an_unlocked_counter(engine_seeded: Engine) -> None:
    record = add(engine_seeded)
    with write_transaction(engine_seeded) as conn:
        assert operators_store.record_success(conn, operator_id=record.id) is False
    fail(engine_seeded, record)
    with write_transaction(engine_seeded) as conn:
        assert operators_store.record_success(conn, operator_id=record.id) is True
    assert get(engine_seeded).failed_attempts == 0
    for _ in range(3):
        fail(engine_seeded, record)
    with write_transaction(engine_seeded) as conn:
        assert operators_store.record_success(conn, operator_id=record.id) is False
    assert get(engine_seeded).locked


def test_unlock_clears_lock_and_counter(engine_seeded: Engine) -> None:
    record = add(engine_seeded)
    for _ in range(3):
        fail(engine_seeded, record)
    with write_transaction(engine_seeded) as conn:
        assert operators_store.unlock(conn, shortcode=SHORTCODE, username="payouts") is True
        assert operators_store.unlock(conn, shortcode=SHORTCODE, username="payouts") is False
    unlocked = get(engine_seeded)
    assert (unlocked.failed_attempts, unlocked.locked) == (0, False)
    with pytest.raises(OperatorNotFound, match="no operator 'ghost' on shortcode 600996"):
        with write_transaction(engine_seeded) as conn:
            operators_store.unlock(conn, shortcode=SHORTCODE, username="ghost")


def test_set_password_restarts_age_and_unlocks(engine_seeded: Engine) -> None:
    record = add(engine_seeded)
    for _ in range(3):
        fail(engine_seeded, record)
    with write_transaction(engine_seeded) as conn:
        updated = operators_store.set_password(
            conn, shortcode=SHORTCODE, username="payouts", password="Fresh$Pass9", now=NOW + 9
        )
    assert (updated.password_changed_at, updated.failed_attempts, updated.locked) == (
        NOW + 9,
        0,
        False,
    )
    assert pin_matches("Fresh$Pass9", updated.password_digest)
    assert not pin_matches(PASSWORD, updated.password_digest)
    with pytest.raises(OperatorRuleError, match="not contain the username"):
        with write_transaction(engine_seeded) as conn:
            operators_store.set_password(
                conn, shortcode=SHORTCODE, username="payouts", password="Payouts#99", now=NOW
            )
    assert get(engine_seeded) == updated
