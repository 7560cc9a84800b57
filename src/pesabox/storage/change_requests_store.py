"""Change requests, their audit trail and one-time codes, in the platform database.

Every state change is a conditional UPDATE on the state the caller saw: when two people act
at once, one UPDATE matches a row and the other matches none, so a CRQ never moves twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, case, func, select, update

from pesabox.domain.change_requests import (
    Action,
    Actor,
    ActorKind,
    ChangeRequest,
    ChangeRequestNotFound,
    IllegalTransition,
    Kind,
    State,
    TrailEvent,
    next_state,
)
from pesabox.domain.one_time_codes import CodeUsage, StoredCode
from pesabox.domain.products import Product
from pesabox.storage import apps_store
from pesabox.storage.tables import apps
from pesabox.storage.tables_change_requests import (
    change_request_events,
    change_requests,
    one_time_codes,
)

LIST_LIMIT_MAX = 500


def _record(row: Any) -> ChangeRequest:
    return ChangeRequest(
        number=row.number,
        kind=Kind(row.kind),
        state=State(row.state),
        organisation_id=int(row.organisation_id),
        shortcode=row.shortcode,
        requester=Actor(ActorKind(row.requester_kind), row.requester_name),
        developer_id=row.developer_id,
        payload=orjson.loads(row.payload),
        reason=row.reason,
        app_consumer_key=row.app_consumer_key,
        app_id=row.app_id,
        certificate_pem=row.certificate_pem,
        created_at=float(row.created_at),
        updated_at=float(row.updated_at),
    )


def number_taken(conn: Connection, number: str) -> bool:
    found = conn.execute(
        select(change_requests.c.number).where(change_requests.c.number == number)
    ).first()
    return found is not None


def insert_change_request(
    conn: Connection,
    *,
    number: str,
    kind: Kind,
    organisation_id: int,
    shortcode: str,
    requester: Actor,
    developer_id: int | None,
    payload: dict[str, Any],
    now: float,
) -> None:
    """A new CRQ, submitted, with its first audit event."""
    conn.execute(
        change_requests.insert().values(
            number=number,
            kind=kind.value,
            state=State.SUBMITTED.value,
            organisation_id=organisation_id,
            shortcode=shortcode,
            requester_kind=requester.kind.value,
            requester_name=requester.name,
            developer_id=developer_id,
            payload=orjson.dumps(payload).decode(),
            created_at=now,
            updated_at=now,
        )
    )
    add_event(conn, number, actor=requester, action="submit", to_state=State.SUBMITTED, now=now)


def get_change_request(conn: Connection, number: str) -> ChangeRequest | None:
    row = conn.execute(select(change_requests).where(change_requests.c.number == number)).first()
    return _record(row) if row is not None else None


def list_change_requests(
    conn: Connection,
    *,
    state: State | None = None,
    kind: Kind | None = None,
    organisation_id: int | None = None,
    developer_id: int | None = None,
    limit: int = 100,
) -> list[ChangeRequest]:
    """Newest first, filtered by whichever of the arguments are given."""
    query = select(change_requests)
    if state is not None:
        query = query.where(change_requests.c.state == state.value)
    if kind is not None:
        query = query.where(change_requests.c.kind == kind.value)
    if organisation_id is not None:
        query = query.where(change_requests.c.organisation_id == organisation_id)
    if developer_id is not None:
        query = query.where(change_requests.c.developer_id == developer_id)
    query = query.order_by(change_requests.c.created_at.desc(), change_requests.c.number)
    rows = conn.execute(query.limit(max(1, min(limit, LIST_LIMIT_MAX))))
    return [_record(row) for row in rows]


def move(
    conn: Connection,
    number: str,
    *,
    expected: State,
    to: State,
    actor: Actor,
    action: str,
    now: float,
    text: str | None = None,
    reason: str | None = None,
) -> bool:
    """Move the CRQ from `expected` to `to` and record it; False (and nothing written) when
    it was not in `expected` any more."""
    values: dict[str, Any] = {"state": to.value, "updated_at": now}
    if reason is not None:
        values["reason"] = reason
    result = conn.execute(
        update(change_requests)
        .where(change_requests.c.number == number, change_requests.c.state == expected.value)
        .values(values)
    )
    if result.rowcount != 1:
        return False
    add_event(
        conn, number, actor=actor, action=action, from_state=expected, to_state=to, text=text,
        now=now,
    )  # fmt: skip
    return True


def add_event(
    conn: Connection,
    number: str,
    *,
    actor: Actor,
    action: str,
    now: float,
    from_state: State | None = None,
    to_state: State | None = None,
    text: str | None = None,
) -> None:
    conn.execute(
        change_request_events.insert().values(
            number=number,
            at=now,
            actor_kind=actor.kind.value,
            actor_name=actor.name,
            action=action,
            from_state=from_state.value if from_state is not None else None,
            to_state=to_state.value if to_state is not None else None,
            text=text,
        )
    )


def last_event_at(conn: Connection, number: str, action: str) -> float | None:
    """When `action` was last recorded on the CRQ's trail, if ever."""
    found = conn.execute(
        select(func.max(change_request_events.c.at)).where(
            change_request_events.c.number == number, change_request_events.c.action == action
        )
    ).scalar_one()
    return float(found) if found is not None else None


def events(conn: Connection, number: str) -> list[TrailEvent]:
    rows = conn.execute(
        select(change_request_events)
        .where(change_request_events.c.number == number)
        .order_by(change_request_events.c.id)
    )
    return [
        TrailEvent(
            number=row.number,
            at=float(row.at),
            actor=Actor(ActorKind(row.actor_kind), row.actor_name),
            action=row.action,
            from_state=State(row.from_state) if row.from_state else None,
            to_state=State(row.to_state) if row.to_state else None,
            text=row.text,
        )
        for row in rows
    ]


def claim_app_key(conn: Connection, number: str, consumer_key: str) -> str:
    """Go-live: keep `consumer_key` as the CRQ's production app key unless one is kept
    already; returns the key the CRQ holds now."""
    conn.execute(
        update(change_requests)
        .where(change_requests.c.number == number, change_requests.c.app_consumer_key.is_(None))
        .values(app_consumer_key=consumer_key)
    )
    row = conn.execute(
        select(change_requests.c.app_consumer_key).where(change_requests.c.number == number)
    ).one()
    return str(row[0])


def set_outcome(
    conn: Connection,
    number: str,
    *,
    app_id: int | None = None,
    certificate_pem: str | None = None,
) -> None:
    values: dict[str, Any] = {}
    if app_id is not None:
        values["app_id"] = app_id
    if certificate_pem is not None:
        values["certificate_pem"] = certificate_pem
    if values:
        conn.execute(
            update(change_requests).where(change_requests.c.number == number).values(values)
        )


# --- one-time codes ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CodeRow:
    id: int
    msisdn: str
    code: StoredCode


def replace_code(
    conn: Connection,
    *,
    subject: str,
    msisdn: str,
    salt: str,
    digest: str,
    expires_at: float,
    now: float,
) -> None:
    """A new code for `subject`; every older one dies."""
    conn.execute(
        update(one_time_codes)
        .where(one_time_codes.c.subject == subject, one_time_codes.c.dead.is_(False))
        .values(dead=True)
    )
    conn.execute(
        one_time_codes.insert().values(
            subject=subject, msisdn=msisdn, salt=salt, digest=digest, expires_at=expires_at,
            attempts=0, dead=False, created_at=now,
        )
    )  # fmt: skip


def code_usage(conn: Connection, subject: str, *, since: float) -> CodeUsage:
    """How many codes `subject` was sent after `since` and in all, and its tries on them."""
    row = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((one_time_codes.c.created_at > since, 1), else_=0)), 0),
            func.coalesce(func.sum(one_time_codes.c.attempts), 0),
        ).where(one_time_codes.c.subject == subject)
    ).one()
    return CodeUsage(recent=int(row[1]), total=int(row[0]), tries=int(row[2]))


def latest_code(conn: Connection, subject: str) -> CodeRow | None:
    row = conn.execute(
        select(one_time_codes)
        .where(one_time_codes.c.subject == subject)
        .order_by(one_time_codes.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    stored = StoredCode(
        salt=row.salt,
        digest=row.digest,
        expires_at=float(row.expires_at),
        attempts=int(row.attempts),
        dead=bool(row.dead),
    )
    return CodeRow(id=int(row.id), msisdn=row.msisdn, code=stored)


def record_try(conn: Connection, code_id: int, *, attempts_seen: int, dead: bool) -> bool:
    """Count one try (and kill the code when `dead`); False when another try was counted
    since `attempts_seen` was read, so the same try is never judged twice."""
    result = conn.execute(
        update(one_time_codes)
        .where(
            one_time_codes.c.id == code_id,
            one_time_codes.c.attempts == attempts_seen,
            one_time_codes.c.dead.is_(False),
        )
        .values(attempts=attempts_seen + 1, dead=dead)
    )
    return result.rowcount == 1


# --- in the production database ---------------------------------------------------------


def ensure_production_app(
    conn: Connection,
    *,
    name: str,
    consumer_key: str,
    secret_digest: str,
    products: frozenset[Product],
    organisation_id: int,
    now: float,
) -> int:
    """The go-live app under `consumer_key`: made the first time, its secret replaced on a
    retry (the secret is shown once, so a retry that finishes the job needs a new one).
    Keyed on the consumer key its CRQ holds, so a CRQ never makes a second app."""
    found = conn.execute(select(apps.c.id).where(apps.c.consumer_key == consumer_key)).first()
    if found is None:
        return apps_store.insert_app(
            conn, name=name, consumer_key=consumer_key, secret_digest=secret_digest,
            products=products, now=now, organisation_id=organisation_id,
        )  # fmt: skip
    conn.execute(update(apps).where(apps.c.id == found[0]).values(secret_digest=secret_digest))
    return int(found[0])


def app_of_organisation(conn: Connection, organisation_id: int) -> int | None:
    """The organisation's first production app: a URL change registered on its behalf
    (when no registration exists yet) is recorded as that app's."""
    row = conn.execute(
        select(apps.c.id).where(apps.c.organisation_id == organisation_id).order_by(apps.c.id)
    ).first()
    return int(row[0]) if row is not None else None


def apply(
    conn: Connection,
    number: str,
    action: Action,
    actor: Actor,
    *,
    now: float,
    text: str | None = None,
    reason: str | None = None,
) -> ChangeRequest:
    """One legal move inside the caller's db transaction, or IllegalTransition (and the
    caller's db transaction rolls back); the CRQ as it is now."""
    current = get_change_request(conn, number)
    if current is None:
        raise ChangeRequestNotFound(f"there is no change request {number}")
    target = next_state(current.state, action)
    moved = move(
        conn, number, expected=current.state, to=target, actor=actor, action=action.value,
        now=now, text=text, reason=reason,
    )  # fmt: skip
    if not moved:
        raise IllegalTransition(f"{number} moved meanwhile; someone else acted first")
    found = get_change_request(conn, number)
    assert found is not None
    return found
