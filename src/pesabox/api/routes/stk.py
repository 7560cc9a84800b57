from __future__ import annotations

from litestar import MediaType, Response, post

from pesabox.api.body import decode
from pesabox.api.routes.common import AnyRequest, platform_of
from pesabox.api.schemas.stk import (
    StkPushRequest,
    StkPushResponse,
    StkQueryRequest,
    StkQueryResponse,
)
from pesabox.domain.products import Product

ACCEPTED = "Success. Request accepted for processing"


@post(
    "/mpesa/stkpush/v1/processrequest",
    status_code=200,
    media_type=MediaType.JSON,
    summary="M-Pesa Express: push a payment prompt",
)
async def stk_push(request: AnyRequest) -> Response[StkPushResponse]:
    platform = platform_of(request)
    grant = await platform.tokens.authorize(
        request.headers.get("authorization"), product=Product.MPESA_EXPRESS
    )
    body = await decode(request, StkPushRequest)
    command = body.to_command(https_only=platform.settings.environment == "production")
    merchant_request_id, checkout_request_id = await platform.stk.push(command, app_id=grant.app_id)
    return Response(
        StkPushResponse(
            MerchantRequestID=merchant_request_id,
            CheckoutRequestID=checkout_request_id,
            ResponseCode="0",
            ResponseDescription=ACCEPTED,
            CustomerMessage=ACCEPTED,
        ),
        status_code=200,
    )


@post(
    "/mpesa/stkpushquery/v1/query",
    status_code=200,
    media_type=MediaType.JSON,
    summary="M-Pesa Express: query a push's result",
)
async def stk_query(request: AnyRequest) -> Response[StkQueryResponse]:
    platform = platform_of(request)
    await platform.tokens.authorize(
        request.headers.get("authorization"), product=Product.MPESA_EXPRESS
    )
    body = await decode(request, StkQueryRequest)
    record = await platform.stk.query(body.to_command())
    return Response(
        StkQueryResponse(
            ResponseCode="0",
            ResponseDescription="The service request has been accepted successfully",
            MerchantRequestID=record.merchant_request_id,
            CheckoutRequestID=record.checkout_request_id,
            ResultCode=str(record.result_code),
            ResultDesc=record.result_desc or "",
        ),
        status_code=200,
    )
