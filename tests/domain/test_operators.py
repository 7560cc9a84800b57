"""Operator rules: roles by kind, passwords, expiry, lockout and the initiator verdict."""

from __future__ import annotations

import pytest

from pesabox.domain.operators import (
    API_ROLES,
    LOCKOUT_THRESHOLD_DEFAULT,
    PASSWORD_MAX_AGE_DAYS_DEFAULT,
    WEB_ROLES,
    InitiatorOutcome,
    InitiatorVerdict,
    OperatorKind,
    OperatorRole,
    OperatorRuleError,
    check_password,
    check_roles,
    check_username,
    format_roles,
    parse_kind,
    parse_role,
    parse_roles,
    password_expired,
    password_problems,
)
from pesabox.sandbox import fixtures

# What the seed grants `testapi`: it must stay a valid API operator's roles.
SEEDED_ROLES = (
    "ORG B2C API initiator,Org B2B API Initiator,Balance Query ORG API,"
    "Transaction Status query ORG API,Org Reversals Initiator"
)
DAY_S = 86_400


def test_roles_seeded_names_parse_in_catalogue_order_and_round_trip() -> None:
    roles = parse_roles(SEEDED_ROLES)
    assert set(roles) == API_ROLES
    assert format_roles(roles) == SEEDED_ROLES
    assert check_roles(OperatorKind.API, roles) == roles


def test_roles_portal_names_any_case_and_short_names() -> None:
    assert parse_role("  org  b2c api INITIATOR ") is OperatorRole.B2C_INITIATOR
    assert parse_role("manager") is OperatorRole.BUSINESS_MANAGER
    assert parse_roles("status, b2c,b2c,") == (
        OperatorRole.B2C_INITIATOR,
        OperatorRole.TRANSACTION_STATUS_QUERY,
    )
    assert parse_roles(["Business Administrator"]) == (OperatorRole.BUSINESS_ADMINISTRATOR,)
    with pytest.raises(OperatorRuleError, match="no role 'teller'"):
        parse_role("teller")


def test_roles_kinds_partition_the_catalogue() -> None:
    assert API_ROLES | WEB_ROLES == frozenset(OperatorRole)
    assert not API_ROLES & WEB_ROLES
    assert OperatorRole.BUSINESS_MANAGER in WEB_ROLES
    assert OperatorRole.BUSINESS_ADMINISTRATOR in WEB_ROLES


@pytest.mark.parametrize(
    ("kind", "roles", "message"),
    [
        (OperatorKind.API, (OperatorRole.BUSINESS_MANAGER,), "api operator cannot hold Business"),
        (OperatorKind.WEB, (OperatorRole.B2C_INITIATOR,), "web operator cannot hold ORG B2C"),
        (OperatorKind.WEB, (), "at least one role"),
    ],
)
def test_check_roles_refuses_roles_of_the_other_kind(
    kind: OperatorKind, roles: tuple[OperatorRole, ...], message: str
) -> None:
    with pytest.raises(OperatorRuleError, match=message):
        check_roles(kind, roles)


def test_parse_kind() -> None:
    assert parse_kind(" API ") is OperatorKind.API
    with pytest.raises(OperatorRuleError, match="api or web"):
        parse_kind("portal")


@pytest.mark.parametrize("username", ["testapi", "jane.doe", "ops_1@acme", "A-2"])
def test_check_username_accepts(username: str) -> None:
    assert check_username(f" {username} ") == username


@pytest.mark.parametrize("username", ["", "  ", "-lead", "two words", "x" * 65, "a;b"])
def test_check_username_refuses(username: str) -> None:
    with pytest.raises(OperatorRuleError, match="username must be"):
        check_username(username)


def test_password_the_sandbox_password_is_valid() -> None:
    password = fixtures.INITIATOR_PASSWORD
    assert check_password(password, username=fixtures.INITIATOR_NAME) == password


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Ab1!", "have 8 to 64 characters"),
        ("Ab1!" * 17, "have 8 to 64 characters"),
        ("Abcdef1! x", "only printable ASCII"),
        ("Abcdéf1!", "only printable ASCII"),
        ("Abcdef1(", "not contain ( or )"),
        ("abcdef1!", "an upper-case letter"),
        ("ABCDEF1!", "a lower-case letter"),
        ("Abcdefg!", "a digit"),
        ("Abcdefg1", "a symbol"),
        ("Mytestapi1!", "not contain the username"),
    ],
)
def test_password_problems_name_each_rule(password: str, problem: str) -> None:
    problems = password_problems(password, username="TestAPI")
    assert any(problem in p for p in problems), problems


def test_check_password_names_every_problem_at_once() -> None:
    with pytest.raises(OperatorRuleError) as refused:
        check_password("abc", username="x")
    message = str(refused.value)
    assert message.startswith("the password must have 8 to 64 characters;")
    assert "an upper-case letter" in message and "a digit" in message


@pytest.mark.parametrize(
    ("age_s", "max_age_days", "expired"),
    [
        (89 * DAY_S, 90, False),
        (90 * DAY_S - 1, 90, False),
        (90 * DAY_S, 90, True),
        (400 * DAY_S, 0, False),
        (1 * DAY_S, 1, True),
    ],
)
def test_password_expired(age_s: int, max_age_days: int, expired: bool) -> None:
    changed = 1_700_000_000.0
    result = password_expired(
        password_changed_at=changed, now=changed + age_s, max_age_days=max_age_days
    )
    assert result is expired


def test_defaults() -> None:
    assert PASSWORD_MAX_AGE_DAYS_DEFAULT == 90
    assert LOCKOUT_THRESHOLD_DEFAULT == 5


@pytest.mark.parametrize(
    ("outcome", "code", "description"),
    [
        (InitiatorOutcome.OK, 0, "The service request is processed successfully."),
        (InitiatorOutcome.INVALID, 2001, "The initiator information is invalid."),
        (InitiatorOutcome.LOCKED, 8006, "The security credential is locked"),
        (InitiatorOutcome.EXPIRED, 2001, "The initiator information is invalid."),
    ],
)
def test_verdict_result_codes(outcome: InitiatorOutcome, code: int, description: str) -> None:
    verdict = InitiatorVerdict(outcome, "why", 7)
    assert (verdict.result_code, verdict.result_description) == (code, description)
    assert verdict.ok is (outcome is InitiatorOutcome.OK)
