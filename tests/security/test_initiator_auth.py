"""The initiator check behind 2001 and 8006, against the seeded databases.

Key stretching is counted through the `password_matches` seam, so the cache is proved by
the number of PBKDF2 runs rather than by timing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from pesabox.domain.operators import InitiatorOutcome, InitiatorVerdict, OperatorKind, OperatorRole
from pesabox.sandbox import fixtures
from pesabox.sandbox.seed import SandboxCredentials
from pesabox.security.credentials import pin_matches
from pesabox.security.initiator_auth import (
    REFUSAL_WORK_MIN,
    VerificationCache,
    check_initiator,
)
from pesabox.storage import operators_store
from pesabox.storage.db import read_transaction, write_transaction

SHORTCODE = "600996"
NAME = fixtures.INITIATOR_NAME
PASSWORD = fixtures.INITIATOR_PASSWORD
DAY_S = 86_400
B2C = OperatorRole.B2C_INITIATOR


class CountingCheck:
    """`pin_matches`, counting how often the slow hash runs."""

    def __init__(self) -> None:
        self.calls = 0
        self.digests: list[str] = []

    def __call__(self, password: str, digest: str) -> bool:
        self.calls += 1
        self.digests.append(digest)
        return pin_matches(password, digest)


@pytest.fixture
def engine(seeded_engine: tuple[Engine, SandboxCredentials]) -> Engine:
    return seeded_engine[0]


@pytest.fixture
def seeded_at(engine: Engine) -> float:
    with read_transaction(engine) as conn:
        record = operators_store.get_operator(conn, shortcode=SHORTCODE, username=NAME)
    assert record is not None
    return record.password_changed_at


@pytest.fixture
def hashes() -> CountingCheck:
    return CountingCheck()


@pytest.fixture
def cache() -> VerificationCache:
    return VerificationCache(max_entries=8)


@pytest.fixture
def check(
    engine: Engine, seeded_at: float, hashes: CountingCheck, cache: VerificationCache
) -> Iterator[Any]:
    """check(*candidates, **overrides): the verdict, on a connection outside any transaction."""

    def run(*candidates: str, **overrides: Any) -> InitiatorVerdict:
        arguments: dict[str, Any] = {
            "shortcode": SHORTCODE,
            "username": NAME,
            "password_candidates": candidates,
            "role": B2C,
            "now": seeded_at + DAY_S,
            "max_age_days": 90,
            "lockout_threshold": 3,
            "cache": cache,
            "password_matches": hashes,
        }
        with engine.connect() as conn:
            return check_initiator(conn, **(arguments | overrides))

    yield run


def operator(engine: Engine, username: str = NAME) -> operators_store.OperatorRecord:
    with read_transaction(engine) as conn:
        record = operators_store.get_operator(conn, shortcode=SHORTCODE, username=username)
    assert record is not None
    return record


def test_check_initiator_right_password_is_ok(check: Any, engine: Engine) -> None:
    verdict = check(PASSWORD)
    assert (verdict.outcome, verdict.result_code) == (InitiatorOutcome.OK, 0)
    assert verdict.operator_id == operator(engine).id


@pytest.mark.parametrize(
    ("overrides", "candidates", "reason"),
    [
        ({"username": "nobody"}, (PASSWORD,), "unknown operator"),
        ({"shortcode": "600000", "username": "nobody"}, (), "unknown operator"),
        ({}, ("Safaricom999!*?",), "wrong password"),
        ({}, (), "wrong password"),
    ],
)
def test_check_initiator_gives_2001(
    check: Any, overrides: dict[str, Any], candidates: tuple[str, ...], reason: str
) -> None:
    verdict = check(*candidates, **overrides)
    assert (verdict.outcome, verdict.result_code, verdict.reason) == (
        InitiatorOutcome.INVALID,
        2001,
        reason,
    )
    assert verdict.result_description == "The initiator information is invalid."


def test_check_initiator_missing_role_counts_no_failure(
    check: Any, engine: Engine, seeded_at: float
) -> None:
    with write_transaction(engine) as conn:
        operators_store.add_operator(
            conn, shortcode=SHORTCODE, username="balances", kind=OperatorKind.API,
            roles=(OperatorRole.BALANCE_QUERY,), password="Query#2026", now=seeded_at,
        )  # fmt: skip
    verdict = check("Query#2026", username="balances")
    # The right password without the API's role: Daraja's 21, not 2001 (§19.2).
    assert (verdict.outcome, verdict.reason) == (
        InitiatorOutcome.NOT_ALLOWED,
        f"missing role {B2C}",
    )
    assert (verdict.result_code, verdict.result_description) == (
        21,
        "The initiator is not allowed to initiate this request",
    )
    assert operator(engine, "balances").failed_attempts == 0
    assert check("Query#2026", username="balances", role=OperatorRole.BALANCE_QUERY).ok


def test_check_initiator_web_operator_is_invalid(
    check: Any, engine: Engine, seeded_at: float
) -> None:
    with write_transaction(engine) as conn:
        operators_store.add_operator(
            conn, shortcode=SHORTCODE, username="manager", kind=OperatorKind.WEB,
            roles=(OperatorRole.BUSINESS_MANAGER,), password="Portal#2026", now=seeded_at,
        )  # fmt: skip
    verdict = check("Portal#2026", username="manager", role=OperatorRole.BUSINESS_MANAGER)
    assert (verdict.outcome, verdict.result_code, verdict.reason) == (
        InitiatorOutcome.INVALID,
        2001,
        "web operator",
    )


def test_check_initiator_refusals_cost_the_same_hashing(check: Any, hashes: CountingCheck) -> None:
    # No candidates (a credential for another key), an unknown name and a wrong password
    # each run the slow hash the same number of times, so timing tells them apart no better.
    counts = []
    for candidates, overrides in (
        ((), {}),
        (("Wrong#Pass1",), {}),
        (("Wrong#Pass1",), {"username": "nobody"}),
        ((), {"username": "nobody"}),
    ):
        hashes.calls = 0
        check(*candidates, **overrides)
        counts.append(hashes.calls)
    assert counts == [REFUSAL_WORK_MIN] * 4


def test_check_initiator_locks_after_threshold_even_for_right_password(
    check: Any, engine: Engine, hashes: CountingCheck
) -> None:
    outcomes = [check("Wrong#Pass1").outcome for _ in range(3)]
    assert outcomes == [InitiatorOutcome.INVALID, InitiatorOutcome.INVALID, InitiatorOutcome.LOCKED]
    hashes.calls, hashes.digests = 0, []
    verdict = check(PASSWORD)
    assert (verdict.outcome, verdict.result_code, verdict.reason) == (
        InitiatorOutcome.LOCKED,
        8006,
        "operator locked",
    )
    assert verdict.result_description == "The security credential is locked"
    # A locked operator's password is not checked (no more guesses), but the refusal costs
    # the same key stretching as an unknown operator's, so its timing names no username.
    assert hashes.calls == REFUSAL_WORK_MIN
    assert operator(engine).password_digest not in hashes.digests
    assert operator(engine).failed_attempts == 3


def test_check_initiator_unlock_by_administrator(check: Any, engine: Engine) -> None:
    for _ in range(3):
        check("Wrong#Pass1")
    with write_transaction(engine) as conn:
        assert operators_store.unlock(conn, shortcode=SHORTCODE, username=NAME) is True
    assert check(PASSWORD).ok
    # The lock was per operator: testapi on another shortcode was never affected.
    assert check(PASSWORD, shortcode="600000").ok


def test_check_initiator_success_resets_the_failure_count(check: Any, engine: Engine) -> None:
    check("Wrong#Pass1")
    check("Wrong#Pass1")
    assert operator(engine).failed_attempts == 2
    assert check(PASSWORD).ok
    assert operator(engine).failed_attempts == 0
    # Two more failures do not lock: the count started again.
    check("Wrong#Pass1")
    assert check("Wrong#Pass1").outcome is InitiatorOutcome.INVALID


def test_check_initiator_set_password(check: Any, engine: Engine, seeded_at: float) -> None:
    for _ in range(3):
        check("Wrong#Pass1")
    with write_transaction(engine) as conn:
        operators_store.set_password(
            conn, shortcode=SHORTCODE, username=NAME, password="Rotated#2026", now=seeded_at
        )
    assert check("Rotated#2026").ok
    assert check(PASSWORD).reason == "wrong password"


def test_check_initiator_expiry(check: Any, engine: Engine, seeded_at: float) -> None:
    late = seeded_at + 90 * DAY_S
    assert check(PASSWORD, now=late - 1).ok
    expired = check(PASSWORD, now=late)
    assert (expired.outcome, expired.result_code, expired.reason) == (
        InitiatorOutcome.EXPIRED,
        2001,
        "password expired",
    )
    assert check(PASSWORD, now=late, max_age_days=0).ok
    assert check(PASSWORD, now=late + DAY_S - 1, max_age_days=91).ok
    # An expired password is still the password: using it counts no failure.
    assert operator(engine).failed_attempts == 0
    with write_transaction(engine) as conn:
        operators_store.set_password(
            conn, shortcode=SHORTCODE, username=NAME, password=PASSWORD, now=late
        )
    assert check(PASSWORD, now=late).ok


def test_check_initiator_timestamp_suffix_candidate(check: Any, hashes: CountingCheck) -> None:
    # mpesakit encrypts password + YYYYMMDDHHMMSS; the caller passes both readings.
    first = check(PASSWORD + "20260101120000", PASSWORD)
    assert first.ok and hashes.calls == 2
    hashes.calls = 0
    # A new timestamp on the next call still hits the cache through the bare password.
    assert check(PASSWORD + "20260101120005", PASSWORD).ok
    assert hashes.calls == 0
    assert check("Wrong#Pass1" + "20260101120005", "Wrong#Pass1").reason == "wrong password"


def test_check_initiator_cache_hit_skips_the_slow_hash(
    check: Any, hashes: CountingCheck, cache: VerificationCache
) -> None:
    assert check(PASSWORD).ok
    assert (hashes.calls, len(cache)) == (1, 1)
    for _ in range(5):
        assert check(PASSWORD).ok
    assert hashes.calls == 1
    # A wrong password is never served from the cache.
    assert check("Wrong#Pass1").reason == "wrong password"
    assert hashes.calls == 1 + REFUSAL_WORK_MIN


def test_check_initiator_cache_invalidated_by_password_change(
    check: Any, engine: Engine, hashes: CountingCheck, seeded_at: float
) -> None:
    assert check(PASSWORD).ok
    # Same timestamp as before: the entry must still die, because the digest is in the key.
    with write_transaction(engine) as conn:
        operators_store.set_password(
            conn, shortcode=SHORTCODE, username=NAME, password="Rotated#2026", now=seeded_at
        )
    hashes.calls = 0
    assert check(PASSWORD).reason == "wrong password"
    assert hashes.calls == REFUSAL_WORK_MIN
    assert check("Rotated#2026").ok


def test_check_initiator_cache_does_not_bypass_the_lock(check: Any, engine: Engine) -> None:
    assert check(PASSWORD).ok
    for _ in range(3):
        check("Wrong#Pass1")
    assert check(PASSWORD).outcome is InitiatorOutcome.LOCKED


def test_verification_cache_is_bounded_lru(engine: Engine) -> None:
    cache = VerificationCache(max_entries=2)
    record = operator(engine)
    cache.add(record, "a")
    cache.add(record, "b")
    assert cache.contains(record, "a")  # now the most recent
    cache.add(record, "c")
    assert (len(cache), cache.contains(record, "b")) == (2, False)
    assert cache.contains(record, "a") and cache.contains(record, "c")


def test_check_initiator_inside_callers_transaction(engine: Engine, seeded_at: float) -> None:
    # Inside the caller's db transaction everything runs in it, and its commit keeps the count.
    with write_transaction(engine) as conn:
        verdict = check_initiator(
            conn, shortcode=SHORTCODE, username=NAME, password_candidates=("Wrong#Pass1",),
            role=B2C, now=seeded_at, cache=VerificationCache(),
        )  # fmt: skip
    assert verdict.reason == "wrong password"
    assert operator(engine).failed_attempts == 1
