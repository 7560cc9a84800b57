"""Lipa na M-Pesa Online (STK push) for a business that went live: the review window and the
passkey.

Safaricom reviews an LNMO application before it sends the passkey; we make the wait a setting
(`lnmo_review_days`) counted on the platform clock, so a tester moves the sandbox clock ahead
instead of waiting a week.
"""

from __future__ import annotations

import secrets

from pesabox.domain.onboarding.errors import OnboardingError

_SECONDS_PER_DAY = 86_400
# 32 random bytes as 64 hex digits: the shape of the sandbox's public passkey.
PASSKEY_BYTES = 32


def decidable_at(submitted_at: float, *, review_days: int) -> float:
    return submitted_at + max(review_days, 0) * _SECONDS_PER_DAY


def check_review_over(submitted_at: float, *, review_days: int, now: float) -> None:
    due = decidable_at(submitted_at, review_days=review_days)
    if now < due:
        days_left = (due - now) / _SECONDS_PER_DAY
        raise OnboardingError(
            f"an LNMO application is decided no earlier than {review_days} days after it was "
            f"sent; {days_left:.1f} days are left"
        )


def new_passkey() -> str:
    return secrets.token_hex(PASSKEY_BYTES)
