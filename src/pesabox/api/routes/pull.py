"""Pull Transactions (Daraja §16): register a shortcode, then page through its completed C2B
payments of the last 48 hours to backfill confirmations the business missed."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

from litestar import MediaType, post

from pesabox.api.body import decode
from pesabox.api.routes.common import AnyRequest, platform_of
from pesabox.api.schemas.pull import (
    PullQueryRequest,
    PullQueryResponse,
    PullRegisterRequest,
    PullRegisterResponse,
    PullTransaction,
)
from pesabox.domain import pull_transactions as pull
from pesabox.domain.products import Product
from pesabox.errors import BadRequest, PesaError
from pesabox.ids import request_id
from pesabox.storage import parties_store, pull_store
from pesabox.storage.db import read_transaction
from pesabox.storage.types import Connection

if TYPE_CHECKING:
    from pesabox.core.platform import Platform

NOT_REGISTERED = "Bad Request - Invalid ShortCode - ShortCode not registered for Pull"


def not_registered() -> PesaError:
    # The field error's code and status, with the reason spelled out: the shortcode is
    # well formed and may exist, but this app has not registered it for Pull.
    return PesaError(NOT_REGISTERED, error_code=BadRequest.error_code, http_status=400)


@post(
    "/pulltransactions/v1/register",
    status_code=200,
    media_type=MediaType.JSON,
    summary="Register a shortcode for Pull Transactions",
)
async def pull_register(request: AnyRequest) -> PullRegisterResponse:
    platform = platform_of(request)
    grant = await platform.tokens.authorize(
        request.headers.get("authorization"), product=Product.PULL_TRANSACTIONS
    )
    body = await decode(request, PullRegisterRequest)
    command = body.to_command(https_only=platform.settings.environment == "production")
    if not await asyncio.to_thread(_shortcode_exists, platform, command.shortcode):
        raise BadRequest("ShortCode")
    wanted = pull_store.PullRegistration(
        shortcode=command.shortcode,
        request_type=pull.REQUEST_TYPE,
        nominated_number=command.nominated_number,
        callback_url=command.callback_url,
        response_ref_id=str(uuid.uuid4()),
        app_id=grant.app_id,
        created_at=platform.clock.now(),
    )

    def job(conn: Connection) -> tuple[bool, pull_store.PullRegistration]:
        return pull_store.register(conn, wanted)

    # A second registration changes nothing: the first one's URL and number stand.
    created, standing = await platform.writer.submit(job)
    status, description = pull.REGISTERED if created else pull.ALREADY_REGISTERED
    return PullRegisterResponse(
        ResponseRefID=standing.response_ref_id,
        ResponseStatus=status,
        ShortCode=standing.shortcode,
        ResponseDescription=description,
    )


@post(
    "/pulltransactions/v1/query",
    status_code=200,
    media_type=MediaType.JSON,
    summary="Page through a shortcode's completed C2B payments of the last 48 hours",
)
async def pull_query(request: AnyRequest) -> PullQueryResponse:
    platform = platform_of(request)
    grant = await platform.tokens.authorize(
        request.headers.get("authorization"), product=Product.PULL_TRANSACTIONS
    )
    query = (await decode(request, PullQueryRequest)).to_query()
    window = pull.query_window(query, now_s=platform.clock.now())
    payments = await asyncio.to_thread(_read_page, platform, query, window, grant.app_id)
    if payments is None:
        raise not_registered()
    code, message = pull.FOUND if payments else pull.NOT_FOUND
    return PullQueryResponse(
        ResponseRefID=request_id(),
        ResponseCode=code,
        ResponseMessage=message,
        Response=[[PullTransaction.of(payment) for payment in payments]],
    )


def _shortcode_exists(platform: Platform, shortcode: str) -> bool:
    with read_transaction(platform.engine) as conn:
        return parties_store.get_shortcode(conn, shortcode) is not None


def _read_page(
    platform: Platform, query: pull.PullQuery, window: pull.Window, app_id: int
) -> list[pull.PulledPayment] | None:
    """The page, or None when the calling app has not registered the shortcode."""
    with read_transaction(platform.engine) as conn:
        registration = pull_store.get_registration(conn, query.shortcode)
        # Payments carry customers' numbers and names: only the app that registered sees them.
        if registration is None or registration.app_id != app_id:
            return None
        return pull_store.completed_payments(
            conn,
            shortcode=query.shortcode,
            window=window,
            offset=query.offset,
            limit=pull.PAGE_SIZE,
        )
