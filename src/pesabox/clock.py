"""Time, behind a seam: the system clock, and a settable clock for tests and the sandbox.

Daraja speaks Kenyan local time (EAT, UTC+3) in every `YYYYMMDDHHmmss` timestamp.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Protocol

EAT = timezone(timedelta(hours=3), "EAT")


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...


class SystemClock:
    """Wall time plus an offset that the sandbox's time control can move forward."""

    def __init__(self, offset_s: float = 0.0) -> None:
        self.offset_s = offset_s

    def now(self) -> float:
        return time.time() + self.offset_s


class FixedClock:
    """A clock that moves only when told to; for tests."""

    def __init__(self, start: float = 1_764_300_000.0) -> None:
        self.current = start

    def now(self) -> float:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += seconds


def eat_datetime(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, tz=UTC).astimezone(EAT)


def daraja_timestamp(epoch_s: float) -> str:
    """`YYYYMMDDHHmmss` in EAT, as Daraja writes TransactionDate."""
    return eat_datetime(epoch_s).strftime("%Y%m%d%H%M%S")


def eat_day(epoch_s: float) -> str:
    """The EAT calendar day (`YYYY-MM-DD`) that daily limits count against."""
    return eat_datetime(epoch_s).strftime("%Y-%m-%d")
