"""One-time codes: six digits sent by SMS to confirm something (going live, §3.2).

A code is stored only as a salted digest, lives `LIFETIME_S` of wall time, and dies after
`ATTEMPTS_MAX` wrong tries or its first right one. Asking for a new code kills the old one.

The digest is HMAC-SHA256 with a per-code random salt, not a slow key-stretching function:
a million possible codes are found by anyone holding the digest however slow the hash, and
the code is worthless after ten minutes; what protects it is the attempt limit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

DIGITS = 6
LIFETIME_S = 600.0
ATTEMPTS_MAX = 3


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    # The third wrong try: the code is dead now.
    EXHAUSTED = "exhausted"
    EXPIRED = "expired"
    # Used, replaced by a newer code, or killed by wrong tries before.
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class StoredCode:
    salt: str
    digest: str
    expires_at: float
    attempts: int
    # Used or replaced: it can never be accepted again.
    dead: bool


def new_code() -> str:
    return f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"


def new_salt() -> str:
    return secrets.token_hex(16)


def code_digest(code: str, salt: str) -> str:
    return hmac.new(salt.encode(), code.encode(), hashlib.sha256).hexdigest()


def is_well_formed(code: str) -> bool:
    return len(code) == DIGITS and code.isascii() and code.isdigit()


def judge(stored: StoredCode, code: str, *, now: float) -> Verdict:
    """What `code`, typed at `now`, does to `stored`. The digest is compared in constant
    time, and a malformed code counts as a wrong try (it is one)."""
    if stored.dead or stored.attempts >= ATTEMPTS_MAX:
        return Verdict.DEAD
    if now >= stored.expires_at:
        return Verdict.EXPIRED
    typed = code_digest(code if is_well_formed(code) else "", stored.salt)
    if hmac.compare_digest(typed, stored.digest) and is_well_formed(code):
        return Verdict.ACCEPTED
    if stored.attempts + 1 >= ATTEMPTS_MAX:
        return Verdict.EXHAUSTED
    return Verdict.WRONG
