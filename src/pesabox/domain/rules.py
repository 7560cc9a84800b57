"""M-Pesa's limits and tariffs as data with effective dates (mpesa-domain-and-g2.md §2.1-2.2).

A rule set applies from its `effective_from` day (EAT) until the next one starts, so a past
payment is always judged by the rules of its own day and a tariff change is one new row.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from pesabox.domain.result_codes import StkResult
from pesabox.money import shillings_to_cents as kes


@dataclass(frozen=True, slots=True)
class Limits:
    effective_from: date
    min_transaction_cents: int
    max_transaction_cents: int
    max_daily_cents: int
    max_balance_cents: int


LIMITS: tuple[Limits, ...] = (
    Limits(date(2011, 1, 1), kes(10), kes(70_000), kes(140_000), kes(100_000)),
    Limits(date(2020, 3, 16), kes(1), kes(150_000), kes(300_000), kes(300_000)),
    Limits(date(2023, 8, 15), kes(1), kes(150_000), kes(500_000), kes(500_000)),
    Limits(date(2023, 9, 15), kes(1), kes(250_000), kes(500_000), kes(500_000)),
)


@dataclass(frozen=True, slots=True)
class Band:
    """A fee for amounts from `low_cents` to `high_cents` inclusive."""

    low_cents: int
    high_cents: int
    fee_cents: int


@dataclass(frozen=True, slots=True)
class Tariff:
    effective_from: date
    name: str
    bands: tuple[Band, ...]


def _bands(rows: list[tuple[int, int, int]]) -> tuple[Band, ...]:
    return tuple(Band(kes(low), kes(high), kes(fee)) for low, high, fee in rows)


_PAYBILL_EDGES = [
    (1, 100),
    (101, 500),
    (501, 1_000),
    (1_001, 1_500),
    (1_501, 2_500),
    (2_501, 3_500),
    (3_501, 5_000),
    (5_001, 7_500),
    (7_501, 10_000),
    (10_001, 15_000),
    (15_001, 20_000),
    (20_001, 25_000),
    (25_001, 30_000),
    (30_001, 35_000),
    (35_001, 40_000),
    (40_001, 45_000),
    (45_001, 50_000),
    (50_001, 70_000),
    (70_001, 250_000),
]
_PAYBILL_FEES = [0, 5, 10, 15, 20, 25, 34, 42, 48, 57, 62, 67, 72, 83, 99, 103, 108, 108, 108]

TARIFFS: tuple[Tariff, ...] = (
    # PayBill "Business Bouquet" fee (the same total under Customer Bouquet, paid by the
    # business instead); bands as published for 2024.
    Tariff(
        date(2023, 9, 15),
        "paybill",
        _bands(
            [(lo, hi, fee) for (lo, hi), fee in zip(_PAYBILL_EDGES, _PAYBILL_FEES, strict=True)]
        ),
    ),
)

# Send Money to another M-Pesa user (P2P), mpesa-domain-and-g2.md §2.2's current table;
# 1-49 and 50-100 are both free, so they share one band here.
_P2P_BANDS = _bands(
    [
        (1, 100, 0),
        (101, 500, 7),
        (501, 1_000, 13),
        (1_001, 1_500, 23),
        (1_501, 2_500, 33),
        (2_501, 3_500, 53),
        (3_501, 5_000, 57),
        (5_001, 7_500, 78),
        (7_501, 10_000, 90),
        (10_001, 15_000, 100),
        (15_001, 20_000, 105),
        (20_001, 250_000, 108),
    ]
)

# B2C: the sources give no business-to-customer tariff, so the business is charged what the
# customer pays to send the same amount to an M-Pesa user (the P2P bands above) until a
# published B2C table replaces this row.
B2C_TARIFFS: tuple[Tariff, ...] = (Tariff(date(2023, 9, 15), "b2c", _P2P_BANDS),)

P2P_TARIFFS: tuple[Tariff, ...] = (Tariff(date(2023, 9, 15), "p2p", _P2P_BANDS),)

# Buy Goods ("Mauzo"): the merchant pays 0.5% of amounts above KES 200, at most KES 200.
MAUZO_FREE_UP_TO_CENTS = kes(200)
MAUZO_RATE_PER_THOUSAND = 5
MAUZO_CAP_CENTS = kes(200)


_Rule = TypeVar("_Rule", Limits, Tariff)


def _effective(rows: tuple[_Rule, ...], day: date) -> _Rule:
    index = bisect_right([row.effective_from for row in rows], day) - 1
    if index < 0:
        raise LookupError(f"no rule in force on {day}")
    return rows[index]


def limits_on(day: date) -> Limits:
    return _effective(LIMITS, day)


def paybill_fee_cents(amount_cents: int, day: date) -> int:
    return _band_fee(_effective(TARIFFS, day), amount_cents)


def b2c_fee_cents(amount_cents: int, day: date) -> int:
    return _band_fee(_effective(B2C_TARIFFS, day), amount_cents)


def p2p_fee_cents(amount_cents: int, day: date) -> int:
    return _band_fee(_effective(P2P_TARIFFS, day), amount_cents)


def _band_fee(tariff: Tariff, amount_cents: int) -> int:
    for band in tariff.bands:
        if band.low_cents <= amount_cents <= band.high_cents:
            return band.fee_cents
    return 0


def mauzo_fee_cents(amount_cents: int) -> int:
    if amount_cents <= MAUZO_FREE_UP_TO_CENTS:
        return 0
    return min(amount_cents * MAUZO_RATE_PER_THOUSAND // 1000, MAUZO_CAP_CENTS)


@dataclass(frozen=True, slots=True)
class Fees:
    customer_cents: int
    business_cents: int


def stk_fees(*, amount_cents: int, tariff_profile: str, day: date) -> Fees:
    """Who pays what for a customer payment to an organisation, by its tariff profile."""
    if tariff_profile == "mauzo":
        return Fees(0, mauzo_fee_cents(amount_cents))
    total = paybill_fee_cents(amount_cents, day)
    if tariff_profile == "business_bouquet":
        return Fees(total, 0)
    if tariff_profile == "mgao":
        # Split roughly as published examples do: the customer's share is a quarter.
        customer = total // 4 // 100 * 100
        return Fees(customer, total - customer)
    return Fees(0, total)


def check_stk_amount(amount_cents: int, limits: Limits) -> StkResult | None:
    """The per-transaction rules, in order; None when the amount passes."""
    if amount_cents < limits.min_transaction_cents:
        return StkResult.BELOW_MINIMUM
    if amount_cents > limits.max_transaction_cents:
        return StkResult.ABOVE_MAXIMUM
    return None
