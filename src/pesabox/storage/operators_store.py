"""Operators in the database: set-up by an administrator, and the failure counter that
locks an initiator.

Set-up functions check `domain.operators`' rules before they write, so a refused change
leaves nothing behind. Passwords arrive in the clear and leave as PBKDF2 digests.

An administrator's new password also unlocks the operator and clears its failures: the lock
exists to stop guessing of the old password, and setting a new one is the portal's remedy for
a locked initiator, so keeping the lock would only demand a second, separate step.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, case, select, update

from pesabox.domain.operators import (
    OperatorConflict,
    OperatorKind,
    OperatorNotFound,
    OperatorRole,
    check_password,
    check_roles,
    check_username,
    format_roles,
    parse_roles,
)
from pesabox.security.credentials import pin_digest
from pesabox.storage import web_sessions_store
from pesabox.storage.fastsql import Statement
from pesabox.storage.parties_store import get_shortcode
from pesabox.storage.tables import operators, organisations, shortcodes


@dataclass(frozen=True, slots=True)
class OperatorRecord:
    id: int
    shortcode: str
    username: str
    kind: OperatorKind
    roles: tuple[OperatorRole, ...]
    failed_attempts: int
    locked_at: float | None
    password_changed_at: float
    created_at: float
    # Kept out of repr so a logged record never carries even the digest.
    password_digest: str = field(repr=False)

    @property
    def locked(self) -> bool:
        return self.locked_at is not None


@dataclass(frozen=True, slots=True)
class FailureCount:
    """The counter after one more failure; `counted` is False when the password changed
    between the check and the write, so the failure was not held against the new one."""

    counted: bool
    failed_attempts: int
    locked: bool


def _record(row: Any) -> OperatorRecord:
    return OperatorRecord(
        id=row.id,
        shortcode=row.shortcode,
        username=row.username,
        kind=OperatorKind(row.kind),
        roles=parse_roles(row.roles),
        failed_attempts=row.failed_attempts,
        locked_at=row.locked_at,
        password_changed_at=row.password_changed_at,
        created_at=row.created_at,
        password_digest=row.password_digest,
    )


# Read on every initiator call (B2C, B2B, ...), so written once for the driver (`fastsql`).
_OPERATOR = Statement(
    "SELECT id, shortcode, username, kind, roles, failed_attempts, locked_at, "
    "password_changed_at, created_at, password_digest FROM operators "
    "WHERE shortcode = :shortcode AND username = :username"
)


def get_operator(conn: Connection, *, shortcode: str, username: str) -> OperatorRecord | None:
    row = _OPERATOR.one_or_none(conn, {"shortcode": shortcode, "username": username.strip()})
    if row is None:
        return None
    id_, code, name, kind, roles, failures, locked_at, changed_at, created_at, digest = row
    return OperatorRecord(
        id=id_,
        shortcode=code,
        username=name,
        kind=OperatorKind(kind),
        roles=parse_roles(roles),
        failed_attempts=failures,
        locked_at=locked_at,
        password_changed_at=changed_at,
        created_at=created_at,
        password_digest=digest,
    )


def _require_operator(conn: Connection, *, shortcode: str, username: str) -> OperatorRecord:
    record = get_operator(conn, shortcode=shortcode, username=username)
    if record is None:
        raise OperatorNotFound(f"no operator {username.strip()!r} on shortcode {shortcode}")
    return record


def list_operators(
    conn: Connection, *, shortcode: str | None = None, organisation: str | None = None
) -> list[OperatorRecord]:
    """Operators by shortcode then username, optionally of one shortcode or organisation."""
    query = select(operators).order_by(operators.c.shortcode, operators.c.username)
    if shortcode is not None:
        query = query.where(operators.c.shortcode == shortcode)
    if organisation is not None:
        owned = (
            select(shortcodes.c.shortcode)
            .join(organisations, organisations.c.id == shortcodes.c.organisation_id)
            .where(organisations.c.name == organisation.strip())
        )
        query = query.where(operators.c.shortcode.in_(owned))
    return [_record(row) for row in conn.execute(query)]


def add_operator(
    conn: Connection,
    *,
    shortcode: str,
    username: str,
    kind: OperatorKind,
    roles: Iterable[OperatorRole],
    now: float,
    password: str | None = None,
    password_digest: str | None = None,
) -> OperatorRecord:
    """Create an operator on an existing shortcode; the password starts its age now.

    Give the password in the clear, or, to keep the key stretching out of the caller's
    write transaction, the digest `operator_admin.password_digest` made of it beforehand.
    """
    clean = check_username(username)
    chosen = check_roles(kind, roles)
    digest = _digest(password, password_digest, username=clean)
    if get_shortcode(conn, shortcode) is None:
        raise OperatorNotFound(f"no shortcode {shortcode}")
    # Checked first so the caller gets a clear refusal, not the unique index's error.
    if get_operator(conn, shortcode=shortcode, username=clean) is not None:
        raise OperatorConflict(f"operator {clean!r} exists on shortcode {shortcode}")
    conn.execute(
        operators.insert().values(
            shortcode=shortcode,
            username=clean,
            kind=kind.value,
            password_digest=digest,
            roles=format_roles(chosen),
            failed_attempts=0,
            locked_at=None,
            password_changed_at=now,
            created_at=now,
        )
    )
    return _require_operator(conn, shortcode=shortcode, username=clean)


def set_password(
    conn: Connection,
    *,
    shortcode: str,
    username: str,
    now: float,
    password: str | None = None,
    password_digest: str | None = None,
) -> OperatorRecord:
    """An administrator's new password: it restarts the password's age, clears the failure
    counter and unlocks the operator (see the module's docstring). The password comes in
    the clear or as a digest made beforehand, as for `add_operator`."""
    record = _require_operator(conn, shortcode=shortcode, username=username)
    digest = _digest(password, password_digest, username=record.username)
    conn.execute(
        update(operators)
        .where(operators.c.id == record.id)
        .values(
            password_digest=digest,
            password_changed_at=now,
            failed_attempts=0,
            locked_at=None,
        )
    )
    return _require_operator(conn, shortcode=shortcode, username=username)


def _digest(password: str | None, digest: str | None, *, username: str) -> str:
    if digest is not None:
        return digest
    if password is None:
        raise TypeError("give the password or its digest")
    return pin_digest(check_password(password, username=username))


def unlock(conn: Connection, *, shortcode: str, username: str) -> bool:
    """Clear the lock and the failure counter; returns whether the operator was locked."""
    record = _require_operator(conn, shortcode=shortcode, username=username)
    conn.execute(
        update(operators)
        .where(operators.c.id == record.id)
        .values(failed_attempts=0, locked_at=None)
    )
    return record.locked


def record_failure(
    conn: Connection,
    *,
    operator_id: int,
    password_changed_at: float,
    threshold: int,
    now: float,
) -> FailureCount:
    """Count one credential failure, locking the operator when the count reaches
    `threshold`, in one UPDATE: concurrent failures each add one and exactly the one that
    reaches the threshold stamps `locked_at`, with no read-modify-write race. A locked
    operator's portal sessions are deleted in the same transaction.

    The failure counts only against the password it was checked with: if an administrator
    set a new one in the meantime (`password_changed_at` differs), nothing changes.
    """
    attempts = operators.c.failed_attempts + 1
    row = conn.execute(
        update(operators)
        .where(
            operators.c.id == operator_id,
            operators.c.password_changed_at == password_changed_at,
        )
        .values(
            failed_attempts=attempts,
            # SET's right-hand sides read the row as it was, on SQLite and PostgreSQL alike.
            locked_at=case(
                (operators.c.locked_at.is_(None) & (attempts >= max(threshold, 1)), now),
                else_=operators.c.locked_at,
            ),
        )
        .returning(operators.c.failed_attempts, operators.c.locked_at)
    ).first()
    if row is None:
        return FailureCount(counted=False, failed_attempts=0, locked=False)
    if row.locked_at is not None:
        # A lock ends the operator's portal sessions in the same write: unlocking later must
        # not bring back a session that someone guessing the password may have been racing.
        web_sessions_store.delete_for_operator(conn, operator_id)
    return FailureCount(
        counted=True, failed_attempts=row.failed_attempts, locked=row.locked_at is not None
    )


def record_success(conn: Connection, *, operator_id: int) -> bool:
    """Reset the failure counter after a good credential; returns whether it moved.

    Only an unlocked operator with failures is written: the common case (no failures) costs
    no write at all, and a lock that a concurrent failure just set is never lifted here.
    """
    result = conn.execute(
        update(operators)
        .where(
            operators.c.id == operator_id,
            operators.c.locked_at.is_(None),
            operators.c.failed_attempts > 0,
        )
        .values(failed_attempts=0)
    )
    return result.rowcount > 0
