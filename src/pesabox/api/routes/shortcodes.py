"""Organisations and shortcodes in the sandbox control API, under /sandbox/v1.

Writes go through the process's ledger writer, like every other write, and then empty the
process's shortcode cache so the next push or payment here sees the change at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from litestar import Router, get, post, put
from litestar.params import FromPath

from pesabox.api.body import decode
from pesabox.api.routes.common import AnyRequest, platform_of
from pesabox.api.schemas.shortcodes import (
    OrganisationCreateRequest,
    ProductsUpdateRequest,
    ShortcodeCreateRequest,
    ValidationUpdateRequest,
    organisation_out,
    shortcode_out,
)
from pesabox.domain.shortcode_setup import (
    SetupConflict,
    SetupNotFound,
    ShortcodeSetupError,
    check_name,
    parse_services,
    parse_setup,
)
from pesabox.errors import SandboxError
from pesabox.storage import orgs_store
from pesabox.storage.db import read_transaction
from pesabox.storage.types import Connection

T = TypeVar("T")


def _sandbox_error(error: ShortcodeSetupError) -> SandboxError:
    if isinstance(error, SetupNotFound):
        return SandboxError(str(error), error_code="404.001.01", http_status=404)
    if isinstance(error, SetupConflict):
        return SandboxError(str(error), error_code="409.001.01", http_status=409)
    return SandboxError(str(error))


@contextmanager
def _refusals_as_sandbox_errors() -> Iterator[None]:
    try:
        yield
    except ShortcodeSetupError as error:
        raise _sandbox_error(error) from None


async def _read(request: AnyRequest, query: Callable[[Connection], T]) -> T:
    engine = platform_of(request).engine

    def run() -> T:
        with read_transaction(engine) as conn:
            return query(conn)

    return await asyncio.to_thread(run)


async def _write(request: AnyRequest, job: Callable[[Connection], T]) -> T:
    platform = platform_of(request)
    with _refusals_as_sandbox_errors():
        result = await platform.writer.submit(job)
    platform.shortcodes.clear()
    return result


def _known_shape(shortcode: str) -> None:
    # A path may carry anything (NUL included, which PostgreSQL refuses outright); only a
    # shortcode's shape is worth a database read.
    if not shortcode.isascii() or not shortcode.isdigit() or not 5 <= len(shortcode) <= 7:
        raise SandboxError("no such shortcode", error_code="404.001.01", http_status=404)


@get("/organisations")
async def list_organisations(request: AnyRequest) -> dict[str, Any]:
    found = await _read(request, orgs_store.list_organisations)
    return {"organisations": [organisation_out(o) for o in found]}


@post("/organisations", status_code=201)
async def create_organisation(request: AnyRequest) -> dict[str, Any]:
    body = await decode(request, OrganisationCreateRequest)
    now = platform_of(request).clock.now()
    created = await _write(
        request, lambda conn: orgs_store.create_organisation(conn, body.name, now=now)
    )
    return organisation_out(created)


@get("/shortcodes")
async def list_shortcodes(request: AnyRequest) -> dict[str, Any]:
    found = await _read(request, orgs_store.list_shortcodes)
    return {"shortcodes": [shortcode_out(s) for s in found]}


@post("/shortcodes", status_code=201)
async def add_shortcode(request: AnyRequest) -> dict[str, Any]:
    body = await decode(request, ShortcodeCreateRequest)
    # The rules that need no database are checked before the write is queued, so a refused
    # set-up never costs the writer's batch a rollback.
    with _refusals_as_sandbox_errors():
        check_name(body.organisation, "organisation")
        setup = parse_setup(
            shortcode=str(body.shortcode),
            kind=body.kind,
            name=body.name,
            tariff_profile=body.tariff_profile,
            services=body.products,
            store_shortcode=None if body.store_shortcode is None else str(body.store_shortcode),
            passkey=body.passkey,
        )
    platform = platform_of(request)
    now = platform.clock.now()
    added = await _write(
        request,
        lambda conn: orgs_store.add_shortcode(
            conn, setup, organisation=body.organisation, ledger=platform.ledger, now=now
        ),
    )
    return shortcode_out(added)


@put("/shortcodes/{shortcode:str}/products")
async def set_products(request: AnyRequest, shortcode: FromPath[str]) -> dict[str, Any]:
    body = await decode(request, ProductsUpdateRequest)
    _known_shape(shortcode)
    with _refusals_as_sandbox_errors():
        services = parse_services(body.products)
    updated = await _write(request, lambda conn: orgs_store.set_products(conn, shortcode, services))
    return shortcode_out(updated)


@put("/shortcodes/{shortcode:str}/validation")
async def set_validation(request: AnyRequest, shortcode: FromPath[str]) -> dict[str, Any]:
    body = await decode(request, ValidationUpdateRequest)
    _known_shape(shortcode)
    changed = await _write(
        request,
        lambda conn: orgs_store.set_validation(conn, shortcode, enabled=body.enabled),
    )
    return {"shortcode": shortcode, "validation_enabled": body.enabled, "changed": changed}


shortcodes_router = Router(
    path="/sandbox/v1",
    route_handlers=[
        list_organisations,
        create_organisation,
        list_shortcodes,
        add_shortcode,
        set_products,
        set_validation,
    ],
    tags=["sandbox"],
)
