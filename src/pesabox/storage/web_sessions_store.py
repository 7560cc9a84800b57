"""The org portal's server-side sessions, keyed by a digest of the cookie's token."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, select

from pesabox.domain.operators import OperatorKind, OperatorRole, parse_roles
from pesabox.storage.tables import operators, organisations, shortcodes, web_sessions


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A session with its operator as the operator is now (roles, lock), not as at login."""

    operator_id: int
    username: str
    kind: OperatorKind
    roles: tuple[OperatorRole, ...]
    locked: bool
    shortcode: str
    organisation_id: int
    organisation_name: str
    expires_at: float


def create(
    conn: Connection, *, token_digest: str, operator_id: int, now: float, expires_at: float
) -> None:
    # An operator's own expired sessions go as it signs in again, so they never pile up.
    conn.execute(
        delete(web_sessions).where(
            web_sessions.c.operator_id == operator_id, web_sessions.c.expires_at <= now
        )
    )
    conn.execute(
        web_sessions.insert().values(
            token_digest=token_digest,
            operator_id=operator_id,
            created_at=now,
            expires_at=expires_at,
        )
    )


def get(conn: Connection, token_digest: str) -> SessionRow | None:
    row = conn.execute(
        select(
            web_sessions.c.operator_id,
            web_sessions.c.expires_at,
            operators.c.username,
            operators.c.kind,
            operators.c.roles,
            operators.c.locked_at,
            operators.c.shortcode,
            organisations.c.id.label("organisation_id"),
            organisations.c.name.label("organisation_name"),
        )
        .join(operators, operators.c.id == web_sessions.c.operator_id)
        .join(shortcodes, shortcodes.c.shortcode == operators.c.shortcode)
        .join(organisations, organisations.c.id == shortcodes.c.organisation_id)
        .where(web_sessions.c.token_digest == token_digest)
    ).first()
    if row is None:
        return None
    return SessionRow(
        operator_id=row.operator_id,
        username=row.username,
        kind=OperatorKind(row.kind),
        roles=parse_roles(row.roles),
        locked=row.locked_at is not None,
        shortcode=row.shortcode,
        organisation_id=row.organisation_id,
        organisation_name=row.organisation_name,
        expires_at=float(row.expires_at),
    )


def organisation_shortcodes(conn: Connection, organisation_id: int) -> tuple[str, ...]:
    rows = conn.execute(
        select(shortcodes.c.shortcode)
        .where(shortcodes.c.organisation_id == organisation_id)
        .order_by(shortcodes.c.shortcode)
    )
    return tuple(row.shortcode for row in rows)


def delete_session(conn: Connection, token_digest: str) -> bool:
    result = conn.execute(delete(web_sessions).where(web_sessions.c.token_digest == token_digest))
    return result.rowcount > 0


def delete_for_operator(conn: Connection, operator_id: int) -> int:
    """End every session of an operator: it was locked, unlocked or given a new password."""
    result = conn.execute(delete(web_sessions).where(web_sessions.c.operator_id == operator_id))
    return int(result.rowcount)
