"""One-time codes: six digits sent by SMS to confirm something (going live, §3.2).

A code is stored only as a salted digest, lives `LIFETIME_S` of wall time, and dies after
`ATTEMPTS_MAX` wrong tries or its first right one. Asking for a new code kills the old one.
New codes are capped per subject (`CODES_PER_WINDOW` in `CODE_WINDOW_S` of wall time,
`CODES_MAX` in all) and so are wrong tries across all its codes (`WRONG_TRIES_MAX`): else
asking for code after code would give unlimited guesses.

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
CODES_PER_WINDOW = 3
CODE_WINDOW_S = 600.0
CODES_MAX = 10
WRONG_TRIES_MAX = 10


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


@dataclass(frozen=True, slots=True)
class CodeUsage:
    """A subject's codes so far: sent within the window, sent in all, tries on them all."""

    recent: int
    total: int
    tries: int


def too_many_tries(usage: CodeUsage) -> str | None:
    """Why no code may be tried any more, or None."""
    if usage.tries >= WRONG_TRIES_MAX:
        return f"{WRONG_TRIES_MAX} codes were typed already"
    return None


def new_code_refusal(usage: CodeUsage) -> str | None:
    """Why no new code may be sent now, or None when one may."""
    if (refusal := too_many_tries(usage)) is not None:
        return refusal
    if usage.total >= CODES_MAX:
        return f"{CODES_MAX} codes were sent already"
    if usage.recent >= CODES_PER_WINDOW:
        minutes = int(CODE_WINDOW_S // 60)
        return f"{CODES_PER_WINDOW} codes were sent in the last {minutes} minutes (wait a while)"
    return None


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
