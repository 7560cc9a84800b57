"""Money is an integer number of cents (KES, scale 2); a float never touches it."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

CENTS_PER_SHILLING = 100


def shillings_to_cents(shillings: int) -> int:
    return shillings * CENTS_PER_SHILLING


def parse_whole_shillings(value: object) -> int | None:
    """Daraja amounts are whole shillings sent as a JSON number or a numeric string.

    Returns the amount in cents, or None when the value is not a positive whole number of
    shillings (a fractional amount is refused rather than silently rounded).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        shillings = value
    elif isinstance(value, float):
        if not value.is_integer():
            return None
        shillings = int(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            parsed = Decimal(text)
        except InvalidOperation:
            return None
        if not parsed.is_finite() or parsed != parsed.to_integral_value():
            return None
        shillings = int(parsed)
    else:
        return None
    if shillings <= 0:
        return None
    return shillings * CENTS_PER_SHILLING


def cents_to_decimal_string(cents: int) -> str:
    """`1234` cents -> `"12.34"`, as balances are written in results."""
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), CENTS_PER_SHILLING)
    return f"{sign}{whole}.{fraction:02d}"


def cents_to_json_number(cents: int) -> int | float:
    """Callback `Amount` values: whole shillings stay integers, others carry decimals."""
    if cents % CENTS_PER_SHILLING == 0:
        return cents // CENTS_PER_SHILLING
    return cents / CENTS_PER_SHILLING
