"""Onboarding's refusals. Each message is meant for the person who asked, as it stands.

OnboardingError          a rule is broken (bad input): 400
├── OnboardingNotFound   no such developer, app, application, document: 404
├── OnboardingConflict   a name is taken, or someone else decided first: 409
├── OnboardingForbidden  signed in, but not allowed this: 403
├── NotSignedIn          no valid credentials or session: 401
└── IllegalTransition    the state machine has no such step: 409
"""

from __future__ import annotations


class OnboardingError(ValueError):
    """A refusal whose message says what is wrong (every problem, where there are several)."""

    http_status = 400


class OnboardingNotFound(OnboardingError):
    http_status = 404


class OnboardingConflict(OnboardingError):
    http_status = 409


class OnboardingForbidden(OnboardingError):
    http_status = 403


class NotSignedIn(OnboardingError):
    http_status = 401


class IllegalTransition(OnboardingConflict):
    """A step the state machine does not allow from the record's state."""


# Record ids are positive and well inside the databases' 64-bit integers: an id from a page
# path past this would fail in the driver (OverflowError on SQLite) instead of finding nothing.
RECORD_ID_LIMIT = 2**62


def existing_id(value: int, what: str) -> int:
    """`value` when it could name a record; OnboardingNotFound("no <what> <value>") if not."""
    if not 0 < value < RECORD_ID_LIMIT:
        raise OnboardingNotFound(f"no {what} {value}")
    return value
