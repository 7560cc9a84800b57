"""Bonga's rules (mpesa-domain-and-g2.md §2.9, integration FAQ): earning points, the Bonga PIN
and its vetting, and points transfers. Pure values; the services apply them.

Points are whole units. They live in ledger accounts of kind `bonga_points`, whose `*_cents`
columns hold points: a points amount is never added to, or compared with, money.
"""

from __future__ import annotations

import hmac
from enum import StrEnum

from pesabox.money import CENTS_PER_SHILLING

# Sambaza: at least 50 points per transfer, and at least 50 points left afterwards.
TRANSFER_MIN_POINTS = 50
KEEP_MIN_POINTS = 50
PIN_DIGITS = 4
# Postpay customers do not use *126*5#: Safaricom's line 200 sets their PIN.
POSTPAY_PIN_LINE = "200"
_KES_100_CENTS = 100 * CENTS_PER_SHILLING


class LineType(StrEnum):
    PREPAY = "prepay"
    POSTPAY = "postpay"


def points_earned(amount_cents: int, *, points_per_100_kes: int) -> int:
    """Whole points for an M-PESA transaction of `amount_cents`; fractions are dropped."""
    if amount_cents <= 0 or points_per_100_kes <= 0:
        return 0
    return amount_cents * points_per_100_kes // _KES_100_CENTS


def is_valid_pin(pin: str) -> bool:
    return len(pin) == PIN_DIGITS and pin.isascii() and pin.isdigit()


def transfer_refusal(*, balance_points: int, points: int) -> str | None:
    """Why a transfer of `points` out of `balance_points` is refused; None when it may go."""
    if points < TRANSFER_MIN_POINTS:
        return f"You can transfer a minimum of {TRANSFER_MIN_POINTS} Bonga points"
    if balance_points - points < KEEP_MIN_POINTS:
        return (
            f"You must keep at least {KEEP_MIN_POINTS} Bonga points; "
            f"your balance is {balance_points} points"
        )
    return None


def vetting_passes(
    *,
    national_id_given: str,
    national_id_on_file: str | None,
    topup_given_cents: int,
    last_topup_cents: int | None,
) -> bool:
    """Both answers must match: the ID number on file and the amount of the last top-up.
    A line with no ID on file or no top-up yet cannot pass."""
    if national_id_on_file is None or last_topup_cents is None:
        return False
    # Compared in constant time: the vetting answers are the PIN's only protection.
    same_id = hmac.compare_digest(national_id_given.strip().encode(), national_id_on_file.encode())
    return same_id and topup_given_cents == last_topup_cents
