"""Identifiers in Daraja's observed formats (daraja-api.md §1.4)."""

from __future__ import annotations

import itertools
import os
import random
import secrets
import string
from functools import lru_cache

from pesabox.clock import eat_datetime

_RECEIPT_ALPHABET = string.ascii_uppercase + string.digits
_TOKEN_ALPHABET = string.ascii_letters + string.digits
# Receipt prefix: year letter (K = 2016 … T = 2025), month letter (A = Jan), day (1-9, A-V).
_DAY_CHARS = "123456789ABCDEFGHIJKLMNOPQRSTUV"
# Distinguishes processes so two gateway workers never mint the same sequence-based id.
_PROCESS_TAG = os.getpid() % 100000
_sequence = itertools.count(1)
# Request ids and receipts must be unique, not unguessable (uniqueness is the database's job),
# so they come from a fast generator seeded from the OS; access tokens and consumer secrets
# use `secrets`.
_fast = random.Random(secrets.randbits(128))  # noqa: S311 - ids, not secrets (see above)


def random_token(length: int) -> str:
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(length))


def merchant_request_id() -> str:
    """Like `f1e2-4b95-a71d-b30d3cdbb7a7942864`: hex groups, then digits."""
    raw = f"{_fast.getrandbits(96):024x}"
    return f"{raw[0:4]}-{raw[4:8]}-{raw[8:12]}-{raw[12:24]}{_PROCESS_TAG}{next(_sequence)}"


def request_id() -> str:
    """The `requestId` of an error envelope, in the older `\\d+-\\d+-\\d` shape."""
    return f"{_PROCESS_TAG}-{_fast.randrange(10**8)}-{next(_sequence) % 9 + 1}"


def checkout_request_id(epoch_s: float, msisdn: str) -> str:
    """`ws_CO_` + DDMMYYYYHHmmss + 3-digit milliseconds + the last 9 digits of the MSISDN.

    A subscriber holds at most one pending prompt, so two ids meet only when a push follows
    a finished one within the same millisecond; this process then moves the later one on by
    a millisecond. The database's unique index is the guard across processes.
    """
    moment_ms = int(epoch_s * 1000)
    last = _last_checkout_ms.get(msisdn, 0)
    if moment_ms <= last:
        moment_ms = last + 1
    if len(_last_checkout_ms) > 100_000:
        _last_checkout_ms.clear()
    _last_checkout_ms[msisdn] = moment_ms
    return f"ws_CO_{_ddmmyyyyhhmmss(moment_ms // 1000)}{moment_ms % 1000:03d}{msisdn[-9:]}"


_last_checkout_ms: dict[str, int] = {}


@lru_cache(maxsize=64)
def _ddmmyyyyhhmmss(epoch_s: int) -> str:
    # Formatting a date is the slow part of an id; pushes in the same second share it.
    return eat_datetime(epoch_s).strftime("%d%m%Y%H%M%S")


def conversation_id(epoch_s: float) -> str:
    """`AG_YYYYMMDD_` + 20 lowercase hex characters."""
    return f"AG_{eat_datetime(epoch_s).strftime('%Y%m%d')}_{_fast.getrandbits(80):020x}"


def receipt_number(epoch_s: float) -> str:
    """Ten upper-case characters whose first three encode the EAT date."""
    return _receipt_prefix(int(epoch_s) // 3600) + "".join(_fast.choices(_RECEIPT_ALPHABET, k=7))


@lru_cache(maxsize=8)
def _receipt_prefix(epoch_hour: int) -> str:
    # EAT is a whole number of hours from UTC, so an hour never straddles two EAT days.
    moment = eat_datetime(epoch_hour * 3600)
    year_char = string.ascii_uppercase[(moment.year - 2006) % 26]
    month_char = string.ascii_uppercase[moment.month - 1]
    return f"{year_char}{month_char}{_DAY_CHARS[moment.day - 1]}"
