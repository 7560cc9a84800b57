"""The inspector's service: inbound requests and outbound callbacks as people read them.

Each request and callback comes back with its code and the catalogue's words for it
(`domain.code_meanings`); a request's detail lists the callbacks filed under the ids it
carries, with every attempt. Resending goes through the sandbox's resend service, the same
one `POST /sandbox/v1/callbacks/{id}/resend` uses.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from pesabox.domain.code_meanings import family_of_callback, family_of_request, meaning
from pesabox.storage import inspector_store
from pesabox.storage.db import read_transaction
from pesabox.storage.inspector_store import LINK_COLUMNS, InspectorFilter

if TYPE_CHECKING:
    from pesabox.core.platform import Platform

__all__ = ["CallbackView", "InspectorFilter", "InspectorService", "RequestDetail", "RequestView"]

# Ids are database integers; anything past this cannot be one, and must not reach the driver.
_MAX_ID = 2**62


@dataclass(frozen=True, slots=True)
class RequestView:
    row: dict[str, Any]
    code: str | None
    code_meaning: str | None

    @property
    def id(self) -> int:
        return int(self.row["id"])

    @property
    def links(self) -> list[str]:
        """The ids this request carries, in the order Daraja's APIs name them."""
        return [self.row[name] for name in LINK_COLUMNS if self.row.get(name)]


@dataclass(frozen=True, slots=True)
class CallbackView:
    row: dict[str, Any]
    code: str | None
    code_meaning: str | None
    payload_text: str
    attempts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> int:
        return int(self.row["id"])


@dataclass(frozen=True, slots=True)
class RequestDetail:
    request: RequestView
    callbacks: list[CallbackView]


def describe_request(row: dict[str, Any]) -> RequestView:
    code = row.get("result_code")
    return RequestView(row, code, meaning(code, family=family_of_request(row["path"])))


def _nested(payload: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(payload, dict):
            return None
        payload = payload.get(key)
    return payload


def _answer_code(attempts: list[dict[str, Any]]) -> str | None:
    """A C2B validation's outcome is the business's answer: the last reply's ResultCode."""
    for attempt in reversed(attempts):
        try:
            answer = orjson.loads(attempt.get("response_excerpt") or "")
        except orjson.JSONDecodeError:
            continue
        code = answer.get("ResultCode") if isinstance(answer, dict) else None
        if code is not None:
            return str(code)
    return None


def callback_code(kind: str, payload: Any, attempts: list[dict[str, Any]]) -> str | None:
    """The ResultCode a callback reports: STK's stkCallback, an initiator's Result, or for C2B
    validation the business's answer. A C2B confirmation reports a payment, not a code."""
    for path in (("Body", "stkCallback", "ResultCode"), ("Result", "ResultCode")):
        found = _nested(payload, *path)
        if found is not None:
            return str(found)
    if kind == "c2b_validation":
        return _answer_code(attempts)
    return None


def describe_callback(row: dict[str, Any]) -> CallbackView:
    attempts = row.get("attempts_detail", [])
    try:
        payload = orjson.loads(row["payload"])
        payload_text = orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONDecodeError:
        payload, payload_text = None, row["payload"]
    code = callback_code(row["kind"], payload, attempts)
    return CallbackView(
        row,
        code,
        meaning(code, family=family_of_callback(row["kind"])),
        payload_text,
        attempts,
    )


class InspectorService:
    """Reads requests from the request log's database (`platform.inspector_engine`: its own
    file on SQLite) and callbacks from the main one, each in its own db transaction."""

    def __init__(self, *, platform: Platform) -> None:
        self._platform = platform

    def _read(self, work: Any) -> Any:
        with read_transaction(self._platform.engine) as conn:
            return work(conn)

    def _read_log(self, work: Any) -> Any:
        with read_transaction(self._platform.inspector_engine) as log:
            return work(log)

    async def requests(self, wanted: InspectorFilter, *, limit: int = 50) -> list[RequestView]:
        rows = await asyncio.to_thread(
            self._read_log, lambda log: inspector_store.list_requests(log, wanted, limit=limit)
        )
        return [describe_request(row) for row in rows]

    async def callbacks(self, wanted: InspectorFilter, *, limit: int = 50) -> list[CallbackView]:
        window = self._platform.settings.inspector_retention

        def read() -> list[dict[str, Any]]:
            linked = self._read_log(lambda log: inspector_store.linked_transaction_ids(log, wanted))
            rows: list[dict[str, Any]] = self._read(
                lambda conn: inspector_store.list_callbacks(
                    conn, wanted, linked=linked, window=window, limit=limit
                )
            )
            return rows

        return [describe_callback(row) for row in await asyncio.to_thread(read)]

    async def request_detail(self, request_id: int) -> RequestDetail | None:
        if not 0 < request_id < _MAX_ID:
            return None

        def read() -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
            row = self._read_log(lambda log: inspector_store.get_request(log, request_id))
            if row is None:
                return None, []
            links = describe_request(row).links
            return row, self._read(
                lambda conn: inspector_store.callbacks_for_transactions(conn, links)
            )

        row, linked = await asyncio.to_thread(read)
        if row is None:
            return None
        return RequestDetail(describe_request(row), [describe_callback(c) for c in linked])

    async def callback_detail(
        self, callback_id: int
    ) -> tuple[CallbackView, list[RequestView]] | None:
        """A callback and the requests that carry its transaction id."""
        if not 0 < callback_id < _MAX_ID:
            return None

        def read() -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
            row = self._read(lambda conn: inspector_store.get_callback(conn, callback_id))
            if row is None:
                return None, []
            transaction_id = row["transaction_id"]
            return row, self._read_log(
                lambda log: inspector_store.requests_for_transaction(log, transaction_id)
            )

        row, requests = await asyncio.to_thread(read)
        if row is None:
            return None
        return describe_callback(row), [describe_request(r) for r in requests]

    async def apps(self) -> list[tuple[int, str]]:
        names = await asyncio.to_thread(self._read, inspector_store.app_names)
        return sorted(names.items())

    async def latest(self) -> tuple[int, int, int]:
        """What the live table watches: the newest request, callback and attempt."""

        def read() -> tuple[int, int, int]:
            request = self._read_log(inspector_store.latest_request_id)
            callback, attempt = self._read(inspector_store.latest_callback_ids)
            return request, callback, attempt

        return await asyncio.to_thread(read)

    async def resend(self, callback_id: int) -> None:
        await self._platform.sandbox.resend_callback(callback_id)
