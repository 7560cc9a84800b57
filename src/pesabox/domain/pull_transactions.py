"""Pull Transactions (Daraja §16): the query's dates and window, and how a completed C2B
payment is written in the answer. Pure: the store reads the payments, the route renders them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from pesabox.clock import EAT
from pesabox.money import cents_to_decimal_string

REQUEST_TYPE = "Pull"
# Daraja serves only the last 48 hours, whatever StartDate says.
WINDOW_S = 48 * 3600
# Rows per answer; Daraja does not publish its own. Callers page by adding the rows they got
# to OffSetValue until an answer says 1001.
PAGE_SIZE = 100

REGISTERED = ("1000", "Shortcode Registered Successfully")
ALREADY_REGISTERED = ("1001", "ShortCode already Registered")
FOUND = ("1000", "Success")
NOT_FOUND = ("1001", "No transactions found")

_TRANSACTION_TYPES = {"Pay Bill": "c2b-pay-bill-debit", "Buy Goods": "c2b-buy-goods-debit"}
# One- or two-digit month, day, hour and minute, and seconds optional: Daraja's own sample
# writes `8:36:00`. Up to three second digits, because the same sample writes `10:10:000`.
_DATE = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})[ T]([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,3}))?"
)
# 07XXXXXXXX as the business types it, or 2547XXXXXXXX; 01 and 2541 are Safaricom's newer
# ranges and are accepted alike.
_NOMINATED_LOCAL = re.compile(r"0[17][0-9]{8}")
_NOMINATED_FULL = re.compile(r"254[17][0-9]{8}")


@dataclass(frozen=True, slots=True)
class PullRegisterCommand:
    shortcode: str
    nominated_number: str
    callback_url: str


@dataclass(frozen=True, slots=True)
class PullQuery:
    shortcode: str
    start_s: float
    end_s: float
    offset: int


@dataclass(frozen=True, slots=True)
class Window:
    """Completion times a query returns: `start_s <= completed_at < end_s`."""

    start_s: float
    end_s: float


@dataclass(frozen=True, slots=True)
class PulledPayment:
    """A completed C2B payment as the store reads it."""

    trans_id: str
    completed_at: float
    transaction_type: str
    msisdn: str
    first_name: str
    middle_name: str
    last_name: str
    bill_ref_number: str
    amount_cents: int
    organisation_name: str


def parse_pull_date(text: str) -> float | None:
    """`2020-08-04 8:36:00`, a wall-clock time in EAT, as epoch seconds; None if the text is
    not a real date and time (`2020-02-30 …`, `…:75`)."""
    match = _DATE.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part or 0) for part in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=EAT).timestamp()
    except ValueError:
        return None


def query_window(query: PullQuery, *, now_s: float) -> Window:
    """The caller's range cut to the last 48 hours. EndDate names a whole second, so payments
    completed during that second are included."""
    return Window(start_s=max(query.start_s, now_s - WINDOW_S), end_s=query.end_s + 1)


def normalise_nominated_number(digits: str) -> str | None:
    """`0722000000` or `254722000000` -> `254722000000`; None for anything else."""
    if _NOMINATED_FULL.fullmatch(digits):
        return digits
    if _NOMINATED_LOCAL.fullmatch(digits):
        return "254" + digits[1:]
    return None


def trx_date(epoch_s: float) -> str:
    """`2020-08-05T10:13:00Z`: the moment in UTC, which is what the `Z` tells every parser."""
    return datetime.fromtimestamp(int(epoch_s), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def transaction_type_name(transaction_type: str) -> str:
    name = _TRANSACTION_TYPES.get(transaction_type)
    if name is None:
        # c2b_payments holds only the two types; anything else is a bug, not an answer.
        raise ValueError(f"unknown C2B transaction type {transaction_type!r}")
    return name


def sender_name(payment: PulledPayment) -> str:
    names = (payment.first_name, payment.middle_name, payment.last_name)
    return " ".join(name for name in names if name)


def amount_text(amount_cents: int) -> str:
    return cents_to_decimal_string(amount_cents)
