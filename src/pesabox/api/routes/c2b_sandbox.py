"""The sandbox's C2B controls under /sandbox/v1: the handset's Pay Bill and Buy Goods menu,
the payments it made, and the registrations' MSISDN setting."""

from __future__ import annotations

import re
from typing import Any

from litestar import Router, get, post, put
from litestar.params import FromPath, FromQuery

from pesabox.api.body import decode
from pesabox.api.idempotency import scoped_key
from pesabox.api.routes.common import AnyRequest, platform_of
from pesabox.api.schemas.c2b_sandbox import (
    BuyGoodsEntry,
    HandsetEntry,
    MsisdnFormatEntry,
    PayBillEntry,
    QrEntry,
    payment_out,
)
from pesabox.errors import SandboxError

_TRANS_ID = re.compile(r"[A-Z0-9]{10}")
_SHORTCODE = re.compile(r"[0-9]{5,7}")


def _idempotency_key(request: AnyRequest, msisdn: str) -> str | None:
    # A handset's keys are its own: the same key from another phone is another payment.
    return scoped_key(request.headers.get("idempotency-key"), scope=f"handset:{msisdn}")


def _no_such(what: str) -> SandboxError:
    return SandboxError(f"no such {what}", error_code="404.001.01", http_status=404)


async def _pay_from_menu(
    request: AnyRequest, msisdn: str, entry_type: type[HandsetEntry]
) -> dict[str, Any]:
    entry = await decode(request, entry_type)
    order = entry.to_order(msisdn, _idempotency_key(request, msisdn))
    outcome = await platform_of(request).handsets.pay(order, pin=entry.pin)
    return payment_out(outcome.payment)


@post("/handsets/{msisdn:str}/paybill", status_code=200)
async def pay_bill(request: AnyRequest, msisdn: FromPath[str]) -> dict[str, Any]:
    return await _pay_from_menu(request, msisdn, PayBillEntry)


@post("/handsets/{msisdn:str}/buygoods", status_code=200)
async def buy_goods(request: AnyRequest, msisdn: FromPath[str]) -> dict[str, Any]:
    return await _pay_from_menu(request, msisdn, BuyGoodsEntry)


@post("/handsets/{msisdn:str}/qr", status_code=200)
async def pay_qr(request: AnyRequest, msisdn: FromPath[str]) -> dict[str, Any]:
    return await _pay_from_menu(request, msisdn, QrEntry)


@get("/c2b/payments")
async def list_payments(
    request: AnyRequest,
    shortcode: FromQuery[str | None] = None,
    msisdn: FromQuery[str | None] = None,
    limit: FromQuery[int] = 50,
) -> dict[str, Any]:
    if shortcode is not None and not _SHORTCODE.fullmatch(shortcode):
        return {"payments": []}
    if msisdn is not None and not msisdn.isdigit():
        return {"payments": []}
    payments = await platform_of(request).c2b.list_payments(
        shortcode=shortcode, msisdn=msisdn, limit=max(1, min(limit, 500))
    )
    return {"payments": [payment_out(p) for p in payments]}


@get("/c2b/payments/{trans_id:str}")
async def get_payment(request: AnyRequest, trans_id: FromPath[str]) -> dict[str, Any]:
    # Checked before any SQL: a path may carry anything, NUL included.
    payment = (
        await platform_of(request).c2b.payment(trans_id) if _TRANS_ID.fullmatch(trans_id) else None
    )
    if payment is None:
        raise _no_such("payment")
    return payment_out(payment)


@get("/c2b/registrations")
async def list_registrations(request: AnyRequest) -> dict[str, Any]:
    registrations = await platform_of(request).c2b.list_registrations()
    return {"registrations": [r.view() for r in registrations]}


@put("/c2b/registrations/{shortcode:str}/msisdn-format", status_code=200)
async def set_msisdn_format(request: AnyRequest, shortcode: FromPath[str]) -> dict[str, Any]:
    entry = await decode(request, MsisdnFormatEntry)
    if not _SHORTCODE.fullmatch(shortcode) or not await platform_of(request).c2b.set_msisdn_format(
        shortcode, entry.msisdn_format
    ):
        raise _no_such("C2B registration for this shortcode")
    return {"shortcode": shortcode, "msisdn_format": str(entry.msisdn_format)}


c2b_sandbox_router = Router(
    path="/sandbox/v1",
    route_handlers=[
        pay_bill,
        buy_goods,
        pay_qr,
        list_payments,
        get_payment,
        list_registrations,
        set_msisdn_format,
    ],
    tags=["sandbox", "c2b"],
)
