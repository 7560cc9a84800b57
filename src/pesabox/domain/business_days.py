"""Kenyan business days: the calendar bank settlement runs on.

A business day is a weekday that is not a Kenyan public holiday. The holidays are those of the
Public Holidays Act as amended: New Year's Day (1 Jan), Good Friday, Easter Monday, Labour Day
(1 May), Madaraka Day (1 Jun), Mazingira Day (10 Oct), Mashujaa Day (20 Oct), Jamhuri Day
(12 Dec), Christmas (25 Dec), Boxing Day (26 Dec) and Idd-ul-Fitr.

A holiday that falls on a Sunday is also kept on the next day that is not a holiday itself
(the Act's rule), so a Sunday Christmas moves to Tuesday 27, Boxing Day holding the Monday.

Idd-ul-Fitr follows the sighting of the moon and is gazetted each year, so it cannot be
computed; `EID_AL_FITR` lists its dates for the years pesabox covers (docs/concepts/
settlement.md). For a year outside the table Idd-ul-Fitr is unknown: the calendar logs a
warning, once per year asked about, instead of silently treating the day as a business day.
Holidays the government declares at short notice (Idd-ul-Azha has been, in some years) are
not known here.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from pesabox.clock import EAT

logger = logging.getLogger(__name__)

# Idd-ul-Fitr as observed in Kenya: gazetted dates for past years, the expected dates after.
EID_AL_FITR: dict[int, date] = {
    2024: date(2024, 4, 10),
    2025: date(2025, 3, 31),
    2026: date(2026, 3, 20),
    2027: date(2027, 3, 10),
    2028: date(2028, 2, 27),
    2029: date(2029, 2, 14),
    2030: date(2030, 2, 4),
}
FIRST_YEAR = min(EID_AL_FITR)
LAST_YEAR = max(EID_AL_FITR)
# Years already warned about, so a sweep that asks every few seconds logs it once.
_WARNED_YEARS: set[int] = set()

# (month, day, name) of the holidays with a fixed date.
_FIXED = (
    (1, 1, "New Year's Day"),
    (5, 1, "Labour Day"),
    (6, 1, "Madaraka Day"),
    (10, 10, "Mazingira Day"),
    (10, 20, "Mashujaa Day"),
    (12, 12, "Jamhuri Day"),
    (12, 25, "Christmas Day"),
    (12, 26, "Boxing Day"),
)
_SATURDAY = 5
_SUNDAY = 6


def easter_sunday(year: int) -> date:
    """Western Easter by the anonymous Gregorian computus (valid for every Gregorian year)."""
    golden = year % 19
    century, year_of_century = divmod(year, 100)
    leap_centuries, century_rest = divmod(century, 4)
    lunar_correction = (century + 8) // 25
    solar_correction = (century - lunar_correction + 1) // 3
    epact = (19 * golden + century - leap_centuries - solar_correction + 15) % 30
    leap_years, year_rest = divmod(year_of_century, 4)
    weekday_offset = (32 + 2 * century_rest + 2 * leap_years - epact - year_rest) % 7
    shift = (golden + 11 * epact + 22 * weekday_offset) // 451
    month, day = divmod(epact + weekday_offset - 7 * shift + 114, 31)
    return date(year, month, day + 1)


def holidays(year: int) -> dict[date, str]:
    """Every public holiday of `year`, with substitute days for Sunday holidays."""
    named: dict[date, str] = {date(year, month, day): name for month, day, name in _FIXED}
    easter = easter_sunday(year)
    named[easter - timedelta(days=2)] = "Good Friday"
    named[easter + timedelta(days=1)] = "Easter Monday"
    eid = EID_AL_FITR.get(year)
    if eid is not None:
        named[eid] = "Idd-ul-Fitr"
    elif year not in _WARNED_YEARS:
        _WARNED_YEARS.add(year)
        logger.warning(
            "Idd-ul-Fitr %d is not in business_days.EID_AL_FITR (%d to %d): it is treated as "
            "a business day; add the gazetted date to the table",
            year,
            FIRST_YEAR,
            LAST_YEAR,
        )
    observed = dict(named)
    for day in sorted(named):
        if day.weekday() != _SUNDAY:
            continue
        substitute = day + timedelta(days=1)
        while substitute in observed:
            substitute += timedelta(days=1)
        observed[substitute] = f"{named[day]} (observed)"
    return observed


def is_business_day(day: date) -> bool:
    if day.weekday() in (_SATURDAY, _SUNDAY):
        return False
    # A substitute for a late-December Sunday never crosses into January, so one year's
    # table decides every date of that year.
    return day not in holidays(day.year)


def day_start(day: date) -> float:
    """Midnight EAT at the start of `day`, in epoch seconds: when a settlement day begins,
    and where a statement's date filter starts."""
    return datetime.combine(day, time(0, 0), tzinfo=EAT).timestamp()


def next_business_day(day: date) -> date:
    """The first business day strictly after `day`."""
    candidate = day + timedelta(days=1)
    while not is_business_day(candidate):
        candidate += timedelta(days=1)
    return candidate
