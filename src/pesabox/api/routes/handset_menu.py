"""The sandbox's customer-side controls under /sandbox/v1: test customers, and the
handset's Send Money, Buy Airtime, My Account and Bonga (*126#) menus. Money-moving calls
take an Idempotency-Key header, as the handset's Pay Bill does."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from litestar import Router, get, post
from litestar.params import FromPath

from pesabox.api import validation as check
from pesabox.api.body import decode
from pesabox.api.idempotency import scoped_key
from pesabox.api.routes.common import AnyRequest, platform_of
from pesabox.api.schemas.handset_menu import (
    AirtimeEntry,
    BongaPinEntry,
    BundleEntry,
    CustomerEntry,
    PointsTransferEntry,
    SendMoneyEntry,
    account_out,
    bundle_out,
    customer_out,
    pin_text,
    transaction_out,
    whole_number,
)
from pesabox.core.customer_menu import check_msisdn
from pesabox.domain.menu_numbers import MAX_POINTS, MAX_SHILLINGS
from pesabox.errors import SandboxError

EntryT = TypeVar("EntryT", bound=msgspec.Struct)
FoundT = TypeVar("FoundT")


def _key(request: AnyRequest, msisdn: str) -> str | None:
    # Scoped like the handset's C2B keys: the same key from another phone is another request.
    return scoped_key(request.headers.get("idempotency-key"), scope=f"handset-menu:{msisdn}")


async def _handset_entry(request: AnyRequest, msisdn: str, entry_type: type[EntryT]) -> EntryT:
    """The body of a menu action taken on the handset `msisdn`, once the number is checked."""
    check_msisdn(msisdn)
    return await decode(request, entry_type)


def _customer_found(found: FoundT | None) -> FoundT:
    """What was looked up for a customer, or the 404 when there is no such customer."""
    if found is None:
        raise SandboxError("no such customer", error_code="404.001.01", http_status=404)
    return found


@get("/customers")
async def list_customers(request: AnyRequest) -> dict[str, Any]:
    customers = await platform_of(request).customers.customers()
    return {"customers": [customer_out(c) for c in customers]}


@post("/customers", status_code=201)
async def create_customer(request: AnyRequest) -> dict[str, Any]:
    entry = await decode(request, CustomerEntry)
    created = await platform_of(request).customers.create_customer(entry.to_form())
    return customer_out(created)


@post("/customers/{msisdn:str}/unlock", status_code=200)
async def unlock_customer(request: AnyRequest, msisdn: FromPath[str]) -> dict[str, Any]:
    """Clear the customer's M-PESA PIN and Bonga vetting lockouts (sandbox customer care)."""
    unlocked = await platform_of(request).customers.unlock(msisdn)
    return customer_out(_customer_found(unlocked))


@post("/handsets/{msisdn:str}/send-money", status_code=200)
async def send_money(request: AnyRequest, msisdn: FromPath[str]) -> dict[str, Any]:
    entry = await _handset_entry(request, msisdn, SendMoneyEntry)
    done = await platform_of(request).customer_menu.send_money(
        msisdn,
        recipient=check.text(entry.recipient, "recipient", max_length=12),
        amount_cents=check.amount_cents(entry.amount, "amount"),
        pin=pin_text(entry.pin, "pin"),
        key=_key(request, msisdn),
    )
    return transaction_out(done)


@post("/handsets/{msisdn:str}/airtime", status_code=200)
async def buy_airtime(request: AnyRequest, msisdn: FromPath[str]) -> dict[str, Any]:
    entry = await _handset_entry(request, msisdn, AirtimeEntry)
    recipient = msisdn if entry.recipient in (None, "") else entry.recipient
    done = await platform_of(request).customer_menu.buy_airtime(
        msisdn,
        recipient=check.text(recipient, "recipient", max_length=12),
        amount_cents=check.amount_cents(entry.amount, "amount"),
        pin=pin_text(entry.pin, "pin"),
        key=_key(request, msisdn),
    )
    return transaction_out(done)


@get("/handsets/{msisdn:str}/account")
async def my_account(request: AnyRequest, msisdn: FromPath[str]) -> dict[str, Any]:
    view = await platform_of(request).customer_menu.account(msisdn)
    return account_out(_customer_found(view))


@get("/handsets/{msisdn:str}/bonga")
async def bonga_balance(request: AnyRequest, msisdn: FromPath[str]) -> dict[str, Any]:
    points = await platform_of(request).bonga.balance(msisdn)
    return {"msisdn": msisdn, "points": _customer_found(points)}


@post("/handsets/{msisdn:str}/bonga/pin", status_code=200)
async def set_bonga_pin(request: AnyRequest, msisdn: FromPath[str]) -> dict[str, Any]:
    entry = await _handset_entry(request, msisdn, BongaPinEntry)
    outcome = await platform_of(request).bonga.set_pin(
        msisdn,
        national_id=check.text(entry.national_id, "national_id", max_length=20),
        last_topup_cents=whole_number(entry.last_topup, "last_topup", cap=MAX_SHILLINGS) * 100,
        new_pin=check.text(entry.new_pin, "new_pin", max_length=4),
    )
    return {"msisdn": msisdn, "outcome": str(outcome)}


@post("/handsets/{msisdn:str}/bonga/transfer", status_code=200)
async def transfer_points(request: AnyRequest, msisdn: FromPath[str]) -> dict[str, Any]:
    entry = await _handset_entry(request, msisdn, PointsTransferEntry)
    done = await platform_of(request).bonga.transfer(
        msisdn,
        recipient=check.text(entry.recipient, "recipient", max_length=12),
        points=whole_number(entry.points, "points", cap=MAX_POINTS),
        pin=pin_text(entry.bonga_pin, "bonga_pin"),
        key=_key(request, msisdn),
    )
    return transaction_out(done)


@post("/handsets/{msisdn:str}/bonga/bundles", status_code=200)
async def buy_bundle(request: AnyRequest, msisdn: FromPath[str]) -> dict[str, Any]:
    entry = await _handset_entry(request, msisdn, BundleEntry)
    done = await platform_of(request).bonga.buy_bundle(
        msisdn,
        bundle_code=check.text(entry.bundle, "bundle", max_length=20),
        pin=pin_text(entry.bonga_pin, "bonga_pin"),
        key=_key(request, msisdn),
    )
    return transaction_out(done)


@get("/bonga/bundles")
async def list_bundles(request: AnyRequest) -> dict[str, Any]:
    return {"bundles": [bundle_out(b) for b in platform_of(request).bonga.bundles()]}


handset_menu_router = Router(
    path="/sandbox/v1",
    route_handlers=[
        list_customers,
        create_customer,
        unlock_customer,
        send_money,
        buy_airtime,
        my_account,
        bonga_balance,
        set_bonga_pin,
        transfer_points,
        buy_bundle,
        list_bundles,
    ],
    tags=["sandbox", "customers"],
)
