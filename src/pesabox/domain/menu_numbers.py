"""Whole numbers typed on the handset's menus (Bonga points, a last top-up amount, an opening
balance), parsed the same way for the sandbox API and the phone page.

Text must be ASCII digits of bounded length, so "²" or a 5,000-digit string is refused
rather than handed to int() (which raises on the first and, past Python's digit limit, on
the second), and every number is capped below what handset_transactions.amount (BIGINT on
PostgreSQL) can store.
"""

from __future__ import annotations

import re

# A menu's number field: 1 to 10 ASCII digits ([0-9] in `re` matches no other digits).
_DIGITS = re.compile(r"[0-9]{1,10}")
# More points than any customer could earn in the sandbox.
MAX_POINTS = 1_000_000_000
# Shillings: above every wallet balance limit (§2.1); the services refuse what the limits do.
MAX_SHILLINGS = 1_000_000


def parse_whole(value: object, *, cap: int) -> int | None:
    """A whole number from 0 to `cap`, from an int or ASCII-digit text; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        return None
    return number if 0 <= number <= cap else None
