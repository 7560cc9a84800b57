"""Setting up operators, as a Business Administrator does: adding one, setting a password,
unlocking. `pesabox operators` and the org portal both call these, so both end sessions and
read the clock the same way.

A new password or an unlock ends every portal session the operator holds: whoever held the
old password (or raced the lock) must sign in again. Passwords are checked against the rules
and stretched by `password_digest` before the caller's write transaction starts, since
PBKDF2 takes tens of milliseconds and would stall every other write of the group commit.
Dates are on the platform clock (the sandbox clock, `platform_now`), the clock sign-in
checks a password's age and a lock against.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from pesabox.domain.operators import OperatorKind, OperatorRole, check_password, check_username
from pesabox.security.credentials import pin_digest
from pesabox.storage import operators_store, sandbox_store, web_sessions_store
from pesabox.storage.operators_store import OperatorRecord
from pesabox.storage.types import Connection


def password_digest(password: str, *, username: str) -> str:
    """The stored form of a new password, after the rules (OperatorRuleError if broken).
    Call it outside any db transaction."""
    return pin_digest(check_password(password, username=check_username(username)))


def platform_now(conn: Connection) -> float:
    """The platform clock as every process shares it: wall time plus the sandbox's offset
    (for callers, like the CLI, that run no Platform)."""
    offset = sandbox_store.read_state(conn, sandbox_store.CLOCK_OFFSET_KEY)
    return time.time() + (float(offset) if offset else 0.0)


def add_operator(
    conn: Connection,
    *,
    shortcode: str,
    username: str,
    kind: OperatorKind,
    roles: Iterable[OperatorRole],
    digest: str,
    now: float,
) -> OperatorRecord:
    return operators_store.add_operator(
        conn,
        shortcode=shortcode,
        username=username,
        kind=kind,
        roles=roles,
        password_digest=digest,
        now=now,
    )


def set_password(
    conn: Connection, *, shortcode: str, username: str, digest: str, now: float
) -> OperatorRecord:
    """A new password (also clears failures and the lock), ending the operator's sessions."""
    record = operators_store.set_password(
        conn, shortcode=shortcode, username=username, password_digest=digest, now=now
    )
    web_sessions_store.delete_for_operator(conn, record.id)
    return record


def unlock(conn: Connection, *, shortcode: str, username: str) -> bool:
    """Clear the lock and failures, ending the operator's sessions; whether it was locked."""
    was_locked = operators_store.unlock(conn, shortcode=shortcode, username=username)
    record = operators_store.get_operator(conn, shortcode=shortcode, username=username)
    if record is not None:
        web_sessions_store.delete_for_operator(conn, record.id)
    return was_locked
