"""Field checks for Daraja request bodies. Each returns the clean value or raises
`BadRequest(field)`, so a body's fields are checked in Daraja's order and the first bad one
names the error, as the real gateway does."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from pesabox.errors import BadRequest
from pesabox.money import parse_whole_shillings

# [0-9], not \d: \d also matches digits of other scripts, which no MSISDN or shortcode uses.
_DIGITS = re.compile(r"[0-9]+")
_MSISDN = re.compile(r"254[17][0-9]{8}")


def digits(value: Any, field: str, *, min_length: int, max_length: int) -> str:
    """A shortcode or party sent as a JSON number or a string of digits."""
    if isinstance(value, bool):
        raise BadRequest(field)
    if isinstance(value, int) and value >= 0:
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise BadRequest(field)
    if not _DIGITS.fullmatch(text) or not min_length <= len(text) <= max_length:
        raise BadRequest(field)
    return text


def shortcode(value: Any, field: str) -> str:
    return digits(value, field, min_length=5, max_length=7)


def msisdn(value: Any, field: str) -> str:
    """`2547XXXXXXXX` or `2541XXXXXXXX`; `07…` and `+254…` are refused as Daraja does."""
    text = digits(value, field, min_length=12, max_length=12)
    if not _MSISDN.fullmatch(text):
        raise BadRequest(field)
    return text


def timestamp(value: Any, field: str = "Timestamp") -> str:
    text = digits(value, field, min_length=14, max_length=14)
    if not _valid_timestamp(text):
        raise BadRequest(field)
    return text


@lru_cache(maxsize=4096)
def _valid_timestamp(text: str) -> bool:
    # Clients reuse a timestamp for every request of the same second, and strptime is slow
    # next to the rest of a push's checks, so each distinct stamp is parsed once.
    try:
        datetime.strptime(text, "%Y%m%d%H%M%S")  # noqa: DTZ007 - a wall-clock EAT stamp
    except ValueError:
        return False
    return True


def amount_cents(value: Any, field: str = "Amount") -> int:
    cents = parse_whole_shillings(value)
    if cents is None:
        raise BadRequest(field)
    return cents


def text(value: Any, field: str, *, required: bool = True, max_length: int = 64) -> str:
    if value is None and not required:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadRequest(field)
    result = str(value).strip()
    if (required and not result) or len(result) > max_length or "\x00" in result:
        raise BadRequest(field)
    return result


def one_of(value: Any, field: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise BadRequest(field)
    return value


def callback_url(value: Any, field: str, *, https_only: bool) -> str:
    if not isinstance(value, str) or value != value.strip() or " " in value or "\x00" in value:
        raise BadRequest(field)
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # an unbalanced IPv6 bracket, a port out of range
        raise BadRequest(field) from None
    allowed = ("https",) if https_only else ("http", "https")
    if parts.scheme not in allowed or not parts.hostname or not port_ok or len(value) > 1024:
        raise BadRequest(field)
    return value
