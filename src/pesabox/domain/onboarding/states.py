"""The two state machines of onboarding: business applications and LNMO applications.

A transition not in the table cannot happen: `step` refuses it, and the store writes the new
state with `UPDATE ... WHERE state = <the state step was given>`, so of two operators deciding
at once exactly one moves the record and the other is told it was decided already.
"""

from __future__ import annotations

from enum import StrEnum

from pesabox.domain.onboarding.errors import IllegalTransition


class ApplicationState(StrEnum):
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    # Approved by an operator, and its production organisation being set up: the decision is
    # taken (nobody may reject it now); a crash here is finished by approving again.
    APPROVING = "approving"
    APPROVED = "approved"
    REJECTED = "rejected"


class LnmoState(StrEnum):
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"


APPLICATION_STEPS: dict[ApplicationState, frozenset[ApplicationState]] = {
    ApplicationState.SUBMITTED: frozenset({ApplicationState.IN_REVIEW}),
    ApplicationState.IN_REVIEW: frozenset({ApplicationState.APPROVING, ApplicationState.REJECTED}),
    # Back to review only when production refused the set-up (a clash of name or number):
    # nothing was made there, and the operator must be able to reject it after all.
    ApplicationState.APPROVING: frozenset({ApplicationState.APPROVED, ApplicationState.IN_REVIEW}),
    ApplicationState.APPROVED: frozenset(),
    ApplicationState.REJECTED: frozenset(),
}
LNMO_STEPS: dict[LnmoState, frozenset[LnmoState]] = {
    LnmoState.SUBMITTED: frozenset({LnmoState.UNDER_REVIEW}),
    LnmoState.UNDER_REVIEW: frozenset({LnmoState.APPROVED, LnmoState.REJECTED}),
    LnmoState.APPROVED: frozenset(),
    LnmoState.REJECTED: frozenset(),
}
# States that still hold their organisation name against newcomers.
LIVE_APPLICATION_STATES = frozenset(ApplicationState) - {ApplicationState.REJECTED}


def step_application(current: ApplicationState, target: ApplicationState) -> ApplicationState:
    if target not in APPLICATION_STEPS[current]:
        raise IllegalTransition(f"an application that is {current} cannot become {target}")
    return target


def step_lnmo(current: LnmoState, target: LnmoState) -> LnmoState:
    if target not in LNMO_STEPS[current]:
        raise IllegalTransition(f"an LNMO application that is {current} cannot become {target}")
    return target
