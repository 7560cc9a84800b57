"""Onboarding's people in the platform database: developers, platform operators, their
sessions, and the sandbox apps developers made.

Passwords arrive as PBKDF2 digests made by the caller outside the db transaction; failures
are counted and the lock set in one UPDATE, as `operators_store.record_failure` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Table, case, delete, select, update

from pesabox.domain.products import Product, parse_products
from pesabox.storage.tables import access_tokens, apps
from pesabox.storage.tables_onboarding import (
    developer_apps,
    developers,
    onboarding_sessions,
    platform_operators,
)


class AccountKind(StrEnum):
    DEVELOPER = "developer"
    PLATFORM_OPERATOR = "platform_operator"


_TABLES: dict[AccountKind, Table] = {
    AccountKind.DEVELOPER: developers,
    AccountKind.PLATFORM_OPERATOR: platform_operators,
}


@dataclass(frozen=True, slots=True)
class DeveloperRecord:
    id: int
    email: str
    name: str
    phone: str
    locked: bool
    created_at: float
    password_digest: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class PlatformOperatorRecord:
    id: int
    username: str
    name: str
    locked: bool
    created_at: float
    password_digest: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class SessionRow:
    kind: AccountKind
    subject_id: int
    expires_at: float


@dataclass(frozen=True, slots=True)
class DeveloperApp:
    app_id: int
    name: str
    consumer_key: str
    products: frozenset[Product]
    created_at: float


def _developer(row: Any) -> DeveloperRecord:
    return DeveloperRecord(
        id=row.id,
        email=row.email,
        name=row.name,
        phone=row.phone,
        locked=row.locked_at is not None,
        created_at=row.created_at,
        password_digest=row.password_digest,
    )


def _operator(row: Any) -> PlatformOperatorRecord:
    return PlatformOperatorRecord(
        id=row.id,
        username=row.username,
        name=row.name,
        locked=row.locked_at is not None,
        created_at=row.created_at,
        password_digest=row.password_digest,
    )


# --- developers ----------------------------------------------------------------------------


def add_developer(
    conn: Connection,
    *,
    email: str,
    email_key: str,
    name: str,
    phone: str,
    password_digest: str,
    now: float,
) -> DeveloperRecord | None:
    """The new developer, or None when the e-mail is taken (checked first, so the caller
    gets a refusal rather than the unique index's error in the common case)."""
    if conn.execute(select(developers.c.id).where(developers.c.email_key == email_key)).first():
        return None
    result = conn.execute(
        developers.insert().values(
            email=email,
            email_key=email_key,
            name=name,
            phone=phone,
            password_digest=password_digest,
            failed_attempts=0,
            created_at=now,
        )
    )
    return get_developer(conn, int(result.inserted_primary_key[0]))  # type: ignore[index]


def get_developer(conn: Connection, developer_id: int) -> DeveloperRecord | None:
    row = conn.execute(select(developers).where(developers.c.id == developer_id)).first()
    return _developer(row) if row is not None else None


def find_developer(conn: Connection, email_key: str) -> DeveloperRecord | None:
    row = conn.execute(select(developers).where(developers.c.email_key == email_key)).first()
    return _developer(row) if row is not None else None


# --- platform operators --------------------------------------------------------------------


def add_platform_operator(
    conn: Connection, *, username: str, name: str, password_digest: str, now: float
) -> PlatformOperatorRecord | None:
    """The new operator, or None when the username is taken."""
    if find_platform_operator(conn, username) is not None:
        return None
    result = conn.execute(
        platform_operators.insert().values(
            username=username,
            name=name,
            password_digest=password_digest,
            failed_attempts=0,
            created_at=now,
        )
    )
    return get_platform_operator(conn, int(result.inserted_primary_key[0]))  # type: ignore[index]


def get_platform_operator(conn: Connection, operator_id: int) -> PlatformOperatorRecord | None:
    row = conn.execute(
        select(platform_operators).where(platform_operators.c.id == operator_id)
    ).first()
    return _operator(row) if row is not None else None


def find_platform_operator(conn: Connection, username: str) -> PlatformOperatorRecord | None:
    row = conn.execute(
        select(platform_operators).where(platform_operators.c.username == username)
    ).first()
    return _operator(row) if row is not None else None


def set_platform_operator_password(
    conn: Connection, *, username: str, password_digest: str
) -> bool:
    """A new password, which also clears failures and the lock; whether the operator exists."""
    result = conn.execute(
        update(platform_operators)
        .where(platform_operators.c.username == username)
        .values(password_digest=password_digest, failed_attempts=0, locked_at=None)
    )
    if result.rowcount:
        operator = find_platform_operator(conn, username)
        if operator is not None:
            delete_sessions_of(conn, AccountKind.PLATFORM_OPERATOR, operator.id)
    return bool(result.rowcount)


# --- failures and locks (both kinds) ------------------------------------------------------


def record_failure(
    conn: Connection, kind: AccountKind, subject_id: int, *, threshold: int, now: float
) -> bool:
    """One more failed sign-in, locking at `threshold` in the same UPDATE; whether it is now
    locked. A lock ends the account's sessions in the same db transaction."""
    table = _TABLES[kind]
    attempts = table.c.failed_attempts + 1
    row = conn.execute(
        update(table)
        .where(table.c.id == subject_id)
        .values(
            failed_attempts=attempts,
            locked_at=case(
                (table.c.locked_at.is_(None) & (attempts >= max(threshold, 1)), now),
                else_=table.c.locked_at,
            ),
        )
        .returning(table.c.locked_at)
    ).first()
    locked = row is not None and row.locked_at is not None
    if locked:
        delete_sessions_of(conn, kind, subject_id)
    return locked


def record_success(conn: Connection, kind: AccountKind, subject_id: int) -> None:
    table = _TABLES[kind]
    conn.execute(
        update(table)
        .where(table.c.id == subject_id, table.c.locked_at.is_(None), table.c.failed_attempts > 0)
        .values(failed_attempts=0)
    )


def unlock(conn: Connection, kind: AccountKind, subject_id: int) -> bool:
    table = _TABLES[kind]
    result = conn.execute(
        update(table).where(table.c.id == subject_id).values(failed_attempts=0, locked_at=None)
    )
    return bool(result.rowcount)


def lift_expired_lock(
    conn: Connection, kind: AccountKind, subject_id: int, *, locked_before: float
) -> bool:
    """Clear a lock set before `locked_before` (and its failures); whether the account is
    unlocked now. Conditional, so a lock set meanwhile stays."""
    table = _TABLES[kind]
    result = conn.execute(
        update(table)
        .where(
            table.c.id == subject_id,
            table.c.locked_at.is_not(None),
            table.c.locked_at < locked_before,
        )
        .values(failed_attempts=0, locked_at=None)
    )
    return bool(result.rowcount)


# --- sessions ------------------------------------------------------------------------------


def create_session(
    conn: Connection,
    *,
    token_digest: str,
    kind: AccountKind,
    subject_id: int,
    now: float,
    expires_at: float,
) -> None:
    # The account's own expired sessions go as it signs in again, so they never pile up.
    conn.execute(
        delete(onboarding_sessions).where(
            onboarding_sessions.c.kind == kind.value,
            onboarding_sessions.c.subject_id == subject_id,
            onboarding_sessions.c.expires_at <= now,
        )
    )
    conn.execute(
        onboarding_sessions.insert().values(
            token_digest=token_digest,
            kind=kind.value,
            subject_id=subject_id,
            created_at=now,
            expires_at=expires_at,
        )
    )


def get_session(conn: Connection, token_digest: str) -> SessionRow | None:
    row = conn.execute(
        select(onboarding_sessions).where(onboarding_sessions.c.token_digest == token_digest)
    ).first()
    if row is None:
        return None
    return SessionRow(AccountKind(row.kind), row.subject_id, float(row.expires_at))


def delete_session(conn: Connection, token_digest: str) -> None:
    conn.execute(
        delete(onboarding_sessions).where(onboarding_sessions.c.token_digest == token_digest)
    )


def delete_sessions_of(conn: Connection, kind: AccountKind, subject_id: int) -> None:
    conn.execute(
        delete(onboarding_sessions).where(
            onboarding_sessions.c.kind == kind.value,
            onboarding_sessions.c.subject_id == subject_id,
        )
    )


# --- developers' sandbox apps ---------------------------------------------------------------


def developer_app_named(conn: Connection, developer_id: int, name: str) -> bool:
    found = conn.execute(
        select(developer_apps.c.app_id).where(
            developer_apps.c.developer_id == developer_id, developer_apps.c.name == name
        )
    ).first()
    return found is not None


def link_app(conn: Connection, *, app_id: int, developer_id: int, name: str, now: float) -> None:
    conn.execute(
        developer_apps.insert().values(
            app_id=app_id, developer_id=developer_id, name=name, created_at=now
        )
    )


def list_developer_apps(conn: Connection, developer_id: int) -> list[DeveloperApp]:
    rows = conn.execute(
        select(
            developer_apps.c.app_id,
            developer_apps.c.name,
            developer_apps.c.created_at,
            apps.c.consumer_key,
            apps.c.products,
        )
        .join(apps, apps.c.id == developer_apps.c.app_id)
        .where(developer_apps.c.developer_id == developer_id)
        .order_by(developer_apps.c.app_id)
    )
    return [
        DeveloperApp(r.app_id, r.name, r.consumer_key, parse_products(r.products), r.created_at)
        for r in rows
    ]


# No SHA-256 hex digest equals this, so a revoked app's secret never matches again.
REVOKED_DIGEST = "revoked"


def revoke_developer_app(conn: Connection, *, developer_id: int, app_id: int) -> bool:
    """Unlink the app from its developer, end its tokens and make its secret unusable. The
    `apps` row stays: payments and callbacks it made still point at it."""
    result = conn.execute(
        delete(developer_apps).where(
            developer_apps.c.app_id == app_id, developer_apps.c.developer_id == developer_id
        )
    )
    if not result.rowcount:
        return False
    conn.execute(delete(access_tokens).where(access_tokens.c.app_id == app_id))
    conn.execute(update(apps).where(apps.c.id == app_id).values(secret_digest=REVOKED_DIGEST))
    return True


def list_platform_operators(conn: Connection) -> list[PlatformOperatorRecord]:
    rows = conn.execute(select(platform_operators).order_by(platform_operators.c.username))
    return [_operator(row) for row in rows]
