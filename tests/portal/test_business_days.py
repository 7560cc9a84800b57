"""The Kenyan business-day calendar that bank settlement runs on."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from pesabox.domain import business_days
from pesabox.domain.business_days import easter_sunday, holidays, is_business_day, next_business_day


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),  # the latest possible date
        (2285, date(2285, 3, 22)),  # the earliest possible date
    ],
)
def test_easter_sunday(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_weekends_are_not_business_days() -> None:
    # 2026-11-28 is a Saturday.
    assert not is_business_day(date(2026, 11, 28))
    assert not is_business_day(date(2026, 11, 29))
    assert is_business_day(date(2026, 11, 27))
    assert next_business_day(date(2026, 11, 27)) == date(2026, 11, 30)
    assert next_business_day(date(2026, 11, 28)) == date(2026, 11, 30)


def test_easter_friday_and_monday_are_holidays() -> None:
    days = holidays(2026)
    assert days[date(2026, 4, 3)] == "Good Friday"
    assert days[date(2026, 4, 6)] == "Easter Monday"
    # Thursday before Easter settles on the Tuesday after it.
    assert next_business_day(date(2026, 4, 2)) == date(2026, 4, 7)


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 1, 1), "New Year's Day"),
        (date(2026, 5, 1), "Labour Day"),
        (date(2026, 6, 1), "Madaraka Day"),
        (date(2026, 10, 20), "Mashujaa Day"),
        (date(2026, 12, 25), "Christmas Day"),
        (date(2026, 12, 26), "Boxing Day"),
        (date(2026, 3, 20), "Idd-ul-Fitr"),
    ],
)
def test_fixed_and_table_holidays(day: date, name: str) -> None:
    assert holidays(day.year)[day] == name


def test_a_sunday_holiday_moves_to_monday() -> None:
    # Mazingira Day 2027 and Jamhuri Day 2027 fall on Sundays.
    assert date(2027, 10, 10).weekday() == 6
    assert not is_business_day(date(2027, 10, 11))
    assert next_business_day(date(2027, 10, 8)) == date(2027, 10, 12)
    assert not is_business_day(date(2027, 12, 13))


def test_a_sunday_christmas_moves_past_boxing_day() -> None:
    # Christmas 2022 was a Sunday: Boxing Day kept Monday 26, Christmas moved to Tuesday 27.
    days = holidays(2022)
    assert days[date(2022, 12, 26)] == "Boxing Day"
    assert days[date(2022, 12, 27)] == "Christmas Day (observed)"
    assert next_business_day(date(2022, 12, 23)) == date(2022, 12, 28)


def test_jamhuri_day_friday_settles_monday() -> None:
    # 2025-12-11 is a Thursday; Friday 12 is Jamhuri Day.
    assert next_business_day(date(2025, 12, 11)) == date(2025, 12, 15)


def test_a_year_after_the_idd_table_is_warned_about_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(business_days, "_WARNED_YEARS", set())
    year = business_days.LAST_YEAR + 1
    with caplog.at_level(logging.WARNING, logger="pesabox.domain.business_days"):
        business_days.holidays(year)
        business_days.next_business_day(date(year, 6, 1))
        business_days.holidays(business_days.LAST_YEAR)
    warnings = [r for r in caplog.records if "Idd-ul-Fitr" in r.getMessage()]
    assert len(warnings) == 1 and str(year) in warnings[0].getMessage()
