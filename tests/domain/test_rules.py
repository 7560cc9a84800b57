from __future__ import annotations

from datetime import date

import pytest

from pesabox.domain.result_codes import StkResult
from pesabox.domain.rules import (
    check_stk_amount,
    limits_on,
    mauzo_fee_cents,
    paybill_fee_cents,
    stk_fees,
)
from pesabox.money import shillings_to_cents as kes


@pytest.mark.parametrize(
    ("day", "per_transaction", "daily", "balance"),
    [
        (date(2019, 6, 1), 70_000, 140_000, 100_000),
        (date(2020, 3, 16), 150_000, 300_000, 300_000),
        (date(2023, 8, 20), 150_000, 500_000, 500_000),
        (date(2023, 9, 15), 250_000, 500_000, 500_000),
        (date(2026, 11, 28), 250_000, 500_000, 500_000),
    ],
)
def test_limits_follow_their_effective_dates(
    day: date, per_transaction: int, daily: int, balance: int
) -> None:
    limits = limits_on(day)
    assert limits.max_transaction_cents == kes(per_transaction)
    assert limits.max_daily_cents == kes(daily)
    assert limits.max_balance_cents == kes(balance)


def test_limits_before_any_rule_are_an_error() -> None:
    with pytest.raises(LookupError):
        limits_on(date(2000, 1, 1))


@pytest.mark.parametrize(
    ("shillings", "expected"),
    [(1, StkResult.BELOW_MINIMUM), (250_001, StkResult.ABOVE_MAXIMUM), (250_000, None)],
)
def test_check_stk_amount_in_order(shillings: int, expected: StkResult | None) -> None:
    limits = limits_on(date(2026, 1, 1))
    cents = kes(shillings) - (1 if shillings == 1 else 0)
    assert check_stk_amount(cents, limits) == expected


@pytest.mark.parametrize(
    ("shillings", "fee"),
    [(1, 0), (100, 0), (101, 5), (500, 5), (501, 10), (1_500, 15), (70_001, 108), (250_000, 108)],
)
def test_paybill_band_edges_are_inclusive(shillings: int, fee: int) -> None:
    assert paybill_fee_cents(kes(shillings), date(2026, 1, 1)) == kes(fee)


@pytest.mark.parametrize(
    ("shillings", "fee_cents"),
    [(200, 0), (201, 100), (1_000, 500), (40_000, 20_000), (100_000, 20_000)],
)
def test_mauzo_is_half_a_percent_above_200_capped(shillings: int, fee_cents: int) -> None:
    assert mauzo_fee_cents(kes(shillings)) == fee_cents


@pytest.mark.parametrize(
    ("profile", "customer", "business"),
    [
        ("customer_bouquet", 0, 10),
        ("business_bouquet", 10, 0),
        ("mgao", 2, 8),
        ("mauzo", 0, 5),
    ],
)
def test_who_pays_the_fee(profile: str, customer: int, business: int) -> None:
    fees = stk_fees(amount_cents=kes(1_000), tariff_profile=profile, day=date(2026, 1, 1))
    assert (fees.customer_cents, fees.business_cents) == (
        kes(customer) if profile != "mauzo" else 0,
        kes(business) if profile != "mauzo" else 500,
    )
    assert fees.customer_cents + fees.business_cents > 0
