"""SQL for the inspector: the request log (insert, prune, read) and callbacks read its way.

Reads look at the newest rows only: the request log keeps the newest
`PESABOX_INSPECTOR_RETENTION` rows, and the callback outbox, which is never pruned, is read
within the same number of newest callbacks, so a filter costs a bounded scan however long a
database has been running.

On SQLite the request log is a database file of its own (`storage.inspector_db`), so no
query joins it to the callbacks: the functions on requests take a connection to the log,
those on callbacks one to the main database, and a callback filter that goes through the
requests is given the ids they carry (`linked_transaction_ids`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Text,
    and_,
    any_,
    delete,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union,
)

from pesabox.storage.tables import apps, callback_attempts, callbacks, inspector_requests

# A page of the live table; the detail view shows every linked callback.
PAGE_ROWS_MAX = 200
LINK_COLUMNS = (
    "checkout_request_id",
    "merchant_request_id",
    "conversation_id",
    "originator_conversation_id",
    "trans_id",
)


# A row to insert is a tuple of these, in this order (the flush builds thousands a second,
# and a tuple costs less to build and to bind than a dict).
REQUEST_COLUMNS = (
    "received_at",
    "method",
    "path",
    "app_id",
    "app_name",
    "status_code",
    "latency_ms",
    "request_body",
    "response_body",
    "result_code",
    "checkout_request_id",
    "merchant_request_id",
    "conversation_id",
    "originator_conversation_id",
    "trans_id",
    "shortcode",
    "msisdn",
)


@dataclass(frozen=True, slots=True)
class InspectorFilter:
    """What the page's form asks for; an empty field does not filter."""

    app: str | None = None
    shortcode: str | None = None
    msisdn: str | None = None
    transaction_id: str | None = None


# --- writing -------------------------------------------------------------------------------


# Straight to the driver, as `fastsql` does for the payment path: at full load a flush
# inserts thousands of rows a second, and SQLAlchemy's per-row work would cost more than the
# database's own. Built from the column names above, never from input.
_INSERT_SQL = (
    f"INSERT INTO inspector_requests ({', '.join(REQUEST_COLUMNS)})"  # noqa: S608
    f" VALUES ({', '.join(['?'] * len(REQUEST_COLUMNS))})"
)


def insert_requests(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert rows, each a tuple in `REQUEST_COLUMNS` order."""
    if not rows:
        return
    sql = _INSERT_SQL if conn.dialect.name == "sqlite" else _INSERT_SQL.replace("?", "%s")
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()


def prune_requests(conn: Connection, *, keep: int) -> int:
    """Delete all but the newest `keep` rows; an id range on the primary key, so cheap.

    Ids only grow, so the newest rows are those above the `keep`-th highest id. A gap in the
    ids (a rolled-back insert on PostgreSQL) only means slightly fewer rows are kept.
    """
    newest = conn.execute(select(func.max(inspector_requests.c.id))).scalar()
    if newest is None or newest <= keep:
        return 0
    result = conn.execute(
        delete(inspector_requests).where(inspector_requests.c.id <= newest - keep)
    )
    return result.rowcount


def app_names(conn: Connection) -> dict[int, str]:
    return {row.id: row.name for row in conn.execute(select(apps.c.id, apps.c.name))}


# --- reading requests -------------------------------------------------------------------------


def _request_conditions(wanted: InspectorFilter) -> list[ColumnElement[bool]]:
    table = inspector_requests.c
    conditions: list[ColumnElement[bool]] = []
    if wanted.app:
        by_name = table.app_name == wanted.app
        conditions.append(
            or_(by_name, table.app_id == int(wanted.app)) if wanted.app.isdigit() else by_name
        )
    if wanted.shortcode:
        conditions.append(table.shortcode == wanted.shortcode)
    if wanted.msisdn:
        conditions.append(table.msisdn == wanted.msisdn)
    if wanted.transaction_id:
        conditions.append(or_(*(table[name] == wanted.transaction_id for name in LINK_COLUMNS)))
    return conditions


def list_requests(
    conn: Connection, wanted: InspectorFilter, *, limit: int = 50
) -> list[dict[str, Any]]:
    query = (
        select(inspector_requests)
        .where(and_(true(), *_request_conditions(wanted)))
        .order_by(inspector_requests.c.id.desc())
        .limit(min(max(limit, 1), PAGE_ROWS_MAX))
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def get_request(conn: Connection, request_id: int) -> dict[str, Any] | None:
    query = select(inspector_requests).where(inspector_requests.c.id == request_id)
    row = conn.execute(query).mappings().first()
    return dict(row) if row is not None else None


def latest_request_id(log: Connection) -> int:
    return log.execute(select(func.max(inspector_requests.c.id))).scalar() or 0


def latest_callback_ids(conn: Connection) -> tuple[int, int]:
    """The newest callback and attempt ids: with the newest request's, what the live stream
    watches."""
    return (
        conn.execute(select(func.max(callbacks.c.id))).scalar() or 0,
        conn.execute(select(func.max(callback_attempts.c.id))).scalar() or 0,
    )


# --- reading callbacks ------------------------------------------------------------------------


# The filter fields a callback can match only through the requests behind it.
_THROUGH_REQUESTS = ("app", "shortcode", "msisdn")

# For each of those fields the filter sets: the transaction ids (a callback's
# `transaction_id`) its matching requests carry.
LinkedIds = dict[str, list[str]]


def linked_transaction_ids(log: Connection, wanted: InspectorFilter) -> LinkedIds:
    """Read from the request log, for `_callback_conditions`."""
    table = inspector_requests.c
    linked: LinkedIds = {}
    for name in _THROUGH_REQUESTS:
        value = getattr(wanted, name)
        if not value:
            continue
        conditions = _request_conditions(InspectorFilter(**{name: value}))
        query = union(
            select(table.checkout_request_id.label("linked")).where(*conditions),
            select(table.conversation_id).where(*conditions),
            select(table.trans_id).where(*conditions),
        )
        linked[name] = [tid for tid in log.execute(query).scalars() if tid is not None]
    return linked


def _among(column: ColumnElement[Any], values: list[str], dialect: str) -> ColumnElement[bool]:
    """`column` is one of `values`, however many: one bound parameter, not one each (up to
    three ids for each of the retained requests would pass SQLite's limit on parameters)."""
    if not values:
        return false()
    if dialect == "sqlite":
        each = func.json_each(orjson.dumps(values).decode()).table_valued("value")
        return column.in_(select(each.c.value))
    return column == any_(literal(values, ARRAY(Text)))


def _callback_conditions(
    wanted: InspectorFilter, linked: LinkedIds, dialect: str
) -> list[ColumnElement[bool]]:
    """A callback matches when a matching request links to it, or its payload names the
    value (a C2B confirmation from the handset has no API request behind it)."""
    table = callbacks.c
    conditions: list[ColumnElement[bool]] = []
    if wanted.app:
        conditions.append(_among(table.transaction_id, linked.get("app", []), dialect))
    for name in ("shortcode", "msisdn"):
        value = getattr(wanted, name)
        if value:
            conditions.append(
                or_(
                    _among(table.transaction_id, linked.get(name, []), dialect),
                    table.payload.contains(value, autoescape=True),
                )
            )
    if wanted.transaction_id:
        conditions.append(
            or_(
                table.transaction_id == wanted.transaction_id,
                table.payload.contains(wanted.transaction_id, autoescape=True),
            )
        )
    return conditions


def list_callbacks(
    conn: Connection,
    wanted: InspectorFilter,
    *,
    linked: LinkedIds,
    window: int,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Matching callbacks among the newest `window`, newest first, each with its attempts.

    `linked`: `linked_transaction_ids` for the same filter, read from the request log."""
    newest = conn.execute(select(func.max(callbacks.c.id))).scalar() or 0
    conditions = _callback_conditions(wanted, linked, conn.dialect.name)
    query = (
        select(callbacks)
        .where(callbacks.c.id > newest - window, *conditions)
        .order_by(callbacks.c.id.desc())
        .limit(min(max(limit, 1), PAGE_ROWS_MAX))
    )
    rows = [dict(row) for row in conn.execute(query).mappings()]
    return _with_attempts(conn, rows)


def callbacks_for_transactions(
    conn: Connection, transaction_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """Every callback filed under one of these ids, oldest first, with its attempts."""
    if not transaction_ids:
        return []
    query = (
        select(callbacks)
        .where(callbacks.c.transaction_id.in_(list(transaction_ids)))
        .order_by(callbacks.c.id)
        .limit(PAGE_ROWS_MAX)
    )
    rows = [dict(row) for row in conn.execute(query).mappings()]
    return _with_attempts(conn, rows)


def get_callback(conn: Connection, callback_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(callbacks).where(callbacks.c.id == callback_id)).mappings().first()
    return _with_attempts(conn, [dict(row)])[0] if row is not None else None


def requests_for_transaction(conn: Connection, transaction_id: str) -> list[dict[str, Any]]:
    """The logged requests that carry this id: a callback's push, its queries."""
    wanted = InspectorFilter(transaction_id=transaction_id)
    query = (
        select(inspector_requests)
        .where(*_request_conditions(wanted))
        .order_by(inspector_requests.c.id)
        .limit(PAGE_ROWS_MAX)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def _with_attempts(conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not rows:
        return rows
    query = (
        select(callback_attempts)
        .where(callback_attempts.c.callback_id.in_([row["id"] for row in rows]))
        .order_by(callback_attempts.c.callback_id, callback_attempts.c.attempt)
    )
    grouped: dict[int, list[dict[str, Any]]] = {}
    for attempt in conn.execute(query).mappings():
        grouped.setdefault(attempt["callback_id"], []).append(dict(attempt))
    for row in rows:
        row["attempts_detail"] = grouped.get(row["id"], [])
    return rows
