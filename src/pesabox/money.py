"""Money is an integer number of cents (KES, scale 2); a float never touches it."""

from __future__ import annotations

import re

CENTS_PER_SHILLING = 100


def shillings_to_cents(shillings: int) -> int:
    return shillings * CENTS_PER_SHILLING


# Far above any M-Pesa limit, far below what a database integer or a formatter chokes on: an
# amount past it is refused as invalid instead of being carried into the ledger's checks.
MAX_PARSED_SHILLINGS = 10**12
_AMOUNT_TEXT = re.compile(r"[0-9]{1,13}(\.0+)?")


def parse_whole_shillings(value: object) -> int | None:
    """Daraja amounts are whole shillings sent as a JSON number or a numeric string.

    Returns the amount in cents, or None when the value is not a positive whole number of
    shillings up to `MAX_PARSED_SHILLINGS` (a fractional amount is refused rather than
    silently rounded). Text is matched before any conversion, so an exponent such as
    `"1e1000000"` cannot make the parser run for seconds.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        shillings = value
    elif isinstance(value, float):
        if not value.is_integer() or not 0 < value <= MAX_PARSED_SHILLINGS:
            return None
        shillings = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not _AMOUNT_TEXT.fullmatch(text):
            return None
        shillings = int(text.split(".")[0])
    else:
        return None
    if not 0 < shillings <= MAX_PARSED_SHILLINGS:
        return None
    return shillings * CENTS_PER_SHILLING


def cents_to_decimal_string(cents: int) -> str:
    """`1234` cents -> `"12.34"`, as balances are written in results."""
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), CENTS_PER_SHILLING)
    return f"{sign}{whole}.{fraction:02d}"
