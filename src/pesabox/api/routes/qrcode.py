"""Dynamic QR: `POST /mpesa/qrcode/v1/generate` draws a QR code a customer's handset can pay.

Nothing is stored: the code carries the whole payment (qr_payload), and paying it is an
ordinary customer payment made from the handset, as on M-Pesa, where a scanned code ends as a
C2B or Buy Goods transaction.
"""

from __future__ import annotations

import asyncio
import base64

from litestar import MediaType, Response, post

from pesabox.api.body import decode
from pesabox.api.routes.common import AnyRequest, platform_of
from pesabox.api.schemas.qrcode import DynamicQrRequest, DynamicQrResponse
from pesabox.domain import qr_payload
from pesabox.domain.products import Product
from pesabox.domain.qr_image import qr_png
from pesabox.ids import request_id

# "00": what mpesakit's model documents for success; see decisions.md, "Dynamic QR".
SUCCESS_CODE = "00"
GENERATED = "QR Code Successfully Generated."


@post(
    "/mpesa/qrcode/v1/generate",
    media_type=MediaType.JSON,
    status_code=200,
    summary="Generate a Dynamic QR code",
)
async def generate_qr_code(request: AnyRequest) -> Response[DynamicQrResponse]:
    await platform_of(request).tokens.authorize(
        request.headers.get("authorization"), product=Product.DYNAMIC_QR
    )
    command = (await decode(request, DynamicQrRequest)).to_command()
    payload = qr_payload.encode(command.payment)
    # Drawing a large code takes tens of milliseconds; off the event loop it delays no one else.
    png = await asyncio.to_thread(qr_png, payload, size_px=command.size_px)
    reply = DynamicQrResponse(
        ResponseCode=SUCCESS_CODE,
        RequestID=request_id(),
        ResponseDescription=GENERATED,
        QRCode=base64.b64encode(png).decode("ascii"),
    )
    return Response(reply, status_code=200)
