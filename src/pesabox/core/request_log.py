"""The inspector's request log: captured on the request path, written in the background.

A request only appends a tuple of references (no parsing, no copy, no database) to this
process's buffer. A background task flushes the buffer every `FLUSH_INTERVAL_S`, or sooner
once `FLUSH_ROWS` are waiting, in its own short db transaction: the parsing and redaction
(`domain.inspected_request`) and the app lookup run there, off the request path, and the
ledger writer's batches never carry inspector rows, so a payment's commit never waits on
them. Each flush also prunes the table to the newest `retention` rows.

The rows go through `log_engine`: on SQLite a database file of the log's own, with its own
WAL, write lock and relaxed durability (`storage.inspector_db`); on PostgreSQL the main
database, with `synchronous_commit` off for the flush's transaction. Apps are looked up in
the main database (`engine`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pesabox.domain.inspected_request import excerpt, parse_body, read_facts
from pesabox.storage import apps_store, inspector_store
from pesabox.storage.db import read_transaction, write_transaction
from pesabox.storage.types import Connection, Engine

log = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 0.25
FLUSH_ROWS = 500
# If the database cannot take rows for a while, the buffer stops growing here and newer
# requests go unrecorded (counted in `dropped`) rather than taking the process's memory.
PENDING_MAX = 20_000
# Tokens and consumer keys seen recently, so most flushes resolve apps without a read.
_APP_CACHE_MAX = 10_000


# An app's id and name, or (None, None) when the request named no app pesabox knows.
AppLabel = tuple[int | None, str | None]


# One captured request: (received_at, method, path, authorization header or None, status,
# latency_ms, request body, response body). A plain tuple of strings, numbers and bytes, on
# purpose: the garbage collector stops tracking such a tuple at its first pass, whereas a
# NamedTuple, or a reference kept to the request's header list, stays tracked while it waits
# in the buffer and gets promoted through the generations. Measured under phase F's load,
# that alone cost about 9 µs of CPU a push, more than the capture itself.
CapturedRequest = tuple[float, str, str, bytes | None, int, float, bytes, bytes]


class RequestLog:
    def __init__(self, *, engine: Engine, retention: int, log_engine: Engine | None = None) -> None:
        self._engine = engine
        # Where the rows go; the main database when none is given (and on PostgreSQL).
        self.log_engine = log_engine if log_engine is not None else engine
        self._retention = retention
        self._pending: list[CapturedRequest] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._in_flight: asyncio.Future[int] | None = None
        self._app_by_credential: dict[str, AppLabel] = {}
        self._app_names: dict[int, str] = {}
        self.dropped = 0
        self._dropped_reported = 0

    # --- the request path ------------------------------------------------------------------

    def capture(self, request: CapturedRequest) -> None:
        pending = self._pending
        if len(pending) >= PENDING_MAX:
            self.dropped += 1
            return
        pending.append(request)
        if len(pending) == FLUSH_ROWS:
            self._wake.set()

    # --- the background task ---------------------------------------------------------------

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._flush_forever(), name="request-log-flush")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._in_flight is not None:
            # A write still on its thread finishes before the caller disposes of the engine.
            with contextlib.suppress(Exception):
                await self._in_flight
        try:
            await self.flush()
        except Exception:
            # Stopping must finish whatever the log's database says: the rest of the platform
            # (the ledger writer, the engine) still has to close after this.
            log.exception("writing the inspector's last requests failed; they are lost")

    async def flush(self) -> int:
        """Write what is waiting now; the number of rows written."""
        batch, self._pending = self._pending, []
        if not batch:
            return 0
        await asyncio.to_thread(self._write, batch)
        return len(batch)

    async def _flush_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), FLUSH_INTERVAL_S)
            self._wake.clear()
            self._in_flight = asyncio.ensure_future(self.flush())
            try:
                await asyncio.shield(self._in_flight)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The batch is lost; recording is for people looking, never worth a retry storm.
                log.exception("writing the inspector's request log failed")
            if self.dropped > self._dropped_reported:
                log.warning(
                    "the inspector's buffer was full: %d requests went unrecorded",
                    self.dropped - self._dropped_reported,
                )
                self._dropped_reported = self.dropped

    # --- in the flush's thread -------------------------------------------------------------

    def _write(self, batch: list[CapturedRequest]) -> None:
        credentials = [_credential(captured[3]) for captured in batch]
        apps = self._apps_for(set(credentials))
        # Built before the db transaction, so the write lock is held only for the insert.
        rows = [
            _row(captured, apps[credential])
            for captured, credential in zip(batch, credentials, strict=True)
        ]
        with self._transaction() as conn:
            inspector_store.insert_requests(conn, rows)
            inspector_store.prune_requests(conn, keep=self._retention)

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        engine = self.log_engine
        if engine.dialect.name == "sqlite":
            # One writer at a time per SQLite file: the workers' flushes take turns on the
            # log file's own lock (the ledger's, if the log shares its file).
            with write_transaction(engine) as conn:
                yield conn
            return
        # PostgreSQL needs no turn-taking for rows nobody else writes: a plain db
        # transaction, without the ledger's advisory lock, keeps payments from waiting; and
        # its commit need not wait for the WAL flush (a crash may lose the last moments of
        # the log, never a payment: the setting is local to this transaction).
        with engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
            yield conn

    def _apps_for(self, credentials: set[str | None]) -> dict[str | None, AppLabel]:
        """The app (id, name) of each credential; a read only for ones not seen before."""
        labels: dict[str | None, AppLabel] = {None: (None, None)}
        missing: list[str] = []
        for credential in credentials:
            if credential is not None:
                label = self._app_by_credential.get(credential)
                if label is None:
                    missing.append(credential)
                else:
                    labels[credential] = label
        if missing:
            with read_transaction(self._engine) as conn:
                for credential in missing:
                    labels[credential] = self._find_app(conn, credential)
                    self._remember(credential, labels[credential])
        return labels

    def _find_app(self, conn: Connection, credential: str) -> AppLabel:
        kind, _, value = credential.partition(":")
        if kind == "bearer":
            grant = apps_store.find_token(conn, value)
            app_id = grant.app_id if grant is not None else None
        else:
            app = apps_store.find_app_by_key(conn, value)
            app_id = app.id if app is not None else None
        if app_id is None:
            return None, None
        if app_id not in self._app_names:
            self._app_names = inspector_store.app_names(conn)
        return app_id, self._app_names.get(app_id)

    def _remember(self, credential: str, label: AppLabel) -> None:
        if len(self._app_by_credential) >= _APP_CACHE_MAX:
            self._app_by_credential.clear()
        self._app_by_credential[credential] = label


def _row(captured: CapturedRequest, app: AppLabel) -> tuple[Any, ...]:
    """One row in `inspector_store.REQUEST_COLUMNS` order."""
    received_at, method, path, _, status_code, latency_ms, request_body, response_body = captured
    request = parse_body(request_body)
    response = parse_body(response_body)
    facts = read_facts(path, request, response)
    return (
        received_at,
        _text(method, 10),
        _text(path, 255),
        app[0],
        app[1],
        status_code,
        latency_ms,
        _printable(excerpt(request_body, request)),
        _printable(excerpt(response_body, response)),
        _clip(facts.result_code, 40),
        _clip(facts.checkout_request_id, 80),
        _clip(facts.merchant_request_id, 80),
        _clip(facts.conversation_id, 80),
        _clip(facts.originator_conversation_id, 100),
        _clip(facts.trans_id, 40),
        _clip(facts.shortcode, 20),
        _clip(facts.msisdn, 20),
    )


def _clip(value: str | None, length: int) -> str | None:
    # Whatever a client sends must fit its column: a long value is cut, never refused.
    return _text(value, length) if value is not None else None


def _text(value: str, length: int) -> str:
    return _printable(value[:length])


def _printable(value: str) -> str:
    # PostgreSQL refuses a NUL in text, and a client may well send one (`%00` in a path, a
    # raw byte in a body); the log shows it as an escape instead of losing the whole batch.
    return value.replace("\x00", "\\x00") if "\x00" in value else value


def _credential(authorization: bytes | None) -> str | None:
    """`bearer:<token>` or `basic:<consumer key>` from the Authorization header, if any.

    Only the app is read from it; the header itself is never written anywhere.
    """
    return _parse_authorization(authorization.decode("latin-1")) if authorization else None


def _parse_authorization(header: str) -> str | None:
    scheme, _, rest = header.strip().partition(" ")
    rest = rest.strip()
    if not rest:
        return None
    if scheme.lower() == "bearer":
        return f"bearer:{rest}"
    if scheme.lower() != "basic":
        return None
    try:
        key = base64.b64decode(rest, validate=True).decode().partition(":")[0]
    except (binascii.Error, ValueError):
        return None
    return f"basic:{key}" if key else None
