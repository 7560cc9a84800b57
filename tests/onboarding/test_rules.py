"""Onboarding's pure rules: the state machines, identities, the review window."""

from __future__ import annotations

import re

import pytest

from pesabox.domain.onboarding.applications import SHORTCODE_RANGE, next_free_shortcodes
from pesabox.domain.onboarding.errors import IllegalTransition, OnboardingError
from pesabox.domain.onboarding.identity import (
    check_email,
    check_phone,
    email_key,
    new_one_time_password,
)
from pesabox.domain.onboarding.lnmo import check_review_over, decidable_at, new_passkey
from pesabox.domain.onboarding.states import (
    APPLICATION_STEPS,
    LNMO_STEPS,
    ApplicationState,
    LnmoState,
    step_application,
    step_lnmo,
)
from pesabox.domain.operators import password_problems


@pytest.mark.parametrize("current", list(ApplicationState))
@pytest.mark.parametrize("target", list(ApplicationState))
def test_application_steps_only_those_in_the_table(
    current: ApplicationState, target: ApplicationState
) -> None:
    if target in APPLICATION_STEPS[current]:
        assert step_application(current, target) is target
    else:
        with pytest.raises(IllegalTransition):
            step_application(current, target)


@pytest.mark.parametrize("current", list(LnmoState))
@pytest.mark.parametrize("target", list(LnmoState))
def test_lnmo_steps_only_those_in_the_table(current: LnmoState, target: LnmoState) -> None:
    if target in LNMO_STEPS[current]:
        assert step_lnmo(current, target) is target
    else:
        with pytest.raises(IllegalTransition):
            step_lnmo(current, target)


def test_decided_states_are_final() -> None:
    assert APPLICATION_STEPS[ApplicationState.APPROVED] == frozenset()
    assert APPLICATION_STEPS[ApplicationState.REJECTED] == frozenset()
    assert LNMO_STEPS[LnmoState.APPROVED] == LNMO_STEPS[LnmoState.REJECTED] == frozenset()


@pytest.mark.parametrize("email", ["a@b", "no-at.example", "a b@c.ke", "a@b.c", "x\x00@y.ke"])
def test_check_email_refuses(email: str) -> None:
    with pytest.raises(OnboardingError):
        check_email(email)


def test_email_key_ignores_case_and_spaces() -> None:
    assert email_key("  Jane@Shop.Example ") == email_key("jane@shop.example")


@pytest.mark.parametrize("phone", ["0712345678", "+254712345678", "254812345678", "2547123"])
def test_check_phone_refuses(phone: str) -> None:
    with pytest.raises(OnboardingError):
        check_phone(phone)


def test_one_time_passwords_pass_the_rules_and_differ() -> None:
    passwords = {new_one_time_password("achieng") for _ in range(50)}
    assert len(passwords) == 50
    assert all(not password_problems(p, username="achieng") for p in passwords)


def test_review_window() -> None:
    assert decidable_at(100.0, review_days=7) == 100.0 + 7 * 86_400
    check_review_over(0.0, review_days=0, now=0.0)
    with pytest.raises(OnboardingError, match="7.0 days are left"):
        check_review_over(0.0, review_days=7, now=0.0)
    assert re.fullmatch(r"[0-9a-f]{64}", new_passkey())


def test_next_free_shortcodes_skips_taken_numbers() -> None:
    assert next_free_shortcodes({400000, 400002}, 2) == ["400001", "400003"]
    with pytest.raises(OnboardingError, match="no production shortcodes"):
        next_free_shortcodes(set(SHORTCODE_RANGE), 1)
