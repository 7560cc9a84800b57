"""/ui/phones and /ui/phone/{msisdn} (sandbox only): every test customer, and each one's
simulated phone. Payment prompts and SMS arrive live; the M-PESA menu (Send Money, Lipa na
M-PESA, Buy Airtime, My Account) and Bonga (*126#) call the same services as the API."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Router, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, ServerSentEvent, Template

from pesabox.core.customer_admin import CustomerForm
from pesabox.core.customer_menu import MSISDN
from pesabox.domain import c2b
from pesabox.domain.menu_numbers import MAX_POINTS, MAX_SHILLINGS, parse_whole
from pesabox.domain.services.c2b_payment import PaymentOrder
from pesabox.errors import PesaError
from pesabox.money import parse_whole_shillings
from pesabox.web.live import watch
from pesabox.web.pages import AnyRequest, Notice, fragment, page, platform_of, redirect
from pesabox.web.phone_views import (
    SCREENS,
    form_key,
    outcome_notice,
    prompts_with_merchants,
    result_notice,
    statement_rows,
)

Form = Body(media_type=RequestEncodingType.URL_ENCODED)
# A CheckoutRequestID's shape (ws_CO_ and digits), generously: only printable ASCII reaches
# the database.
_CHECKOUT_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")


@dataclass(frozen=True, slots=True)
class NewCustomerForm:
    msisdn: str = ""
    name: str = ""
    pin: str = ""
    national_id: str = ""
    line_type: str = "prepay"
    opening_balance: str = "0"


@dataclass(frozen=True, slots=True)
class PinForm:
    pin: str = ""


@dataclass(frozen=True, slots=True)
class MenuForm:
    """Every field the M-PESA and Bonga menus' forms send; each form fills its own."""

    form_key: str = ""
    pin: str = ""
    amount: str = ""
    recipient: str = ""
    business_number: str = ""
    account_number: str = ""
    till_number: str = ""
    points: str = ""
    bundle: str = ""
    national_id: str = ""
    last_topup: str = ""
    new_pin: str = ""
    confirm_pin: str = ""


class FormProblem(Exception):
    """A field the phone's menu would not accept; shown as the page's notice."""


def _amount_cents(value: str, what: str = "amount") -> int:
    cents = parse_whole_shillings(value)
    if cents is None:
        raise FormProblem(f"Enter the {what} in whole shillings.")
    return cents


def _whole(value: str, what: str, *, cap: int) -> int:
    number = parse_whole(value, cap=cap)
    if number is None:
        raise FormProblem(f"Enter the {what} as a whole number up to {cap:,}.")
    return number


def _phone_url(msisdn: str, screen: str = "menu") -> str:
    return f"/ui/phone/{msisdn}" + ("" if screen == "menu" else f"?screen={screen}")


# --- the list of phones ---------------------------------------------------------------------


@get("/phones", include_in_schema=False)
async def phones_page(request: AnyRequest) -> Template:
    customers = await platform_of(request).customers.customers()
    return page(request, "phone/phones.html", customers=customers)


@post("/phones", include_in_schema=False)
async def create_phone(request: AnyRequest, data: Annotated[NewCustomerForm, Form]) -> Redirect:
    try:
        opening = _whole(data.opening_balance or "0", "opening balance", cap=MAX_SHILLINGS)
        form = CustomerForm(
            data.msisdn.strip(), data.name, data.pin, data.national_id.strip(),
            data.line_type, opening * 100,
        )  # fmt: skip
        created = await platform_of(request).customers.create_customer(form)
    except (FormProblem, PesaError) as error:
        return redirect(request, "/ui/phones", Notice(str(error), "error"))
    return redirect(
        request, _phone_url(created.msisdn), Notice(f"{created.name}'s phone is ready.")
    )


# --- one phone --------------------------------------------------------------------------


async def _phone_or_none(request: AnyRequest, msisdn: str) -> Any:
    return (
        await platform_of(request).customers.profile(msisdn) if MSISDN.fullmatch(msisdn) else None
    )


@get("/phone/{msisdn:str}", include_in_schema=False)
async def phone_page(
    request: AnyRequest, msisdn: FromPath[str], screen: FromQuery[str] = "menu"
) -> Template | Redirect:
    platform = platform_of(request)
    profile = await _phone_or_none(request, msisdn)
    if profile is None:
        return redirect(request, "/ui/phones", Notice("No customer has that number.", "error"))
    screen = screen if screen in SCREENS else "menu"
    account = await platform.customer_menu.account(msisdn)
    return page(
        request,
        "phone/phone.html",
        profile=profile,
        screen=screen,
        account=account,
        statement=statement_rows(account.mini_statement) if account else [],
        bundles=platform.bonga.bundles(),
        form_key=secrets.token_urlsafe(12),
        **await _live_parts(request, msisdn),
    )


async def _live_parts(request: AnyRequest, msisdn: str) -> dict[str, Any]:
    platform = platform_of(request)
    view = await platform.handsets.view(msisdn)
    return {
        "msisdn": msisdn,
        "prompts": await prompts_with_merchants(platform, view["prompts"]),
        "messages": view["messages"],
    }


async def _checked(request: AnyRequest, msisdn: str) -> str:
    # The live parts show what phone_page shows, so they refuse what it refuses: a number
    # that is no simulated customer's (its inbox may hold a go-live code) answers 404. Anything
    # but a Safaricom number (a NUL, say, which PostgreSQL refuses in text) never reaches the
    # database.
    if await _phone_or_none(request, msisdn) is None:
        raise NotFoundException("No customer has that number.")
    return msisdn


@get("/phone/{msisdn:str}/prompts", include_in_schema=False)
async def prompts_fragment(request: AnyRequest, msisdn: FromPath[str]) -> Template:
    parts = await _live_parts(request, await _checked(request, msisdn))
    return fragment(request, "phone/prompts.html", **parts)


@get("/phone/{msisdn:str}/inbox", include_in_schema=False)
async def inbox_fragment(request: AnyRequest, msisdn: FromPath[str]) -> Template:
    return fragment(
        request, "phone/inbox.html", **await _live_parts(request, await _checked(request, msisdn))
    )


@get("/phone/{msisdn:str}/events", include_in_schema=False)
async def phone_events(request: AnyRequest, msisdn: FromPath[str]) -> ServerSentEvent:
    await _checked(request, msisdn)
    handsets = platform_of(request).handsets

    async def summary() -> tuple[Any, ...]:
        # A prompt arriving or leaving, or a new SMS: what the two live regions show.
        view = await handsets.view(msisdn)
        newest_sms = view["messages"][0]["id"] if view["messages"] else 0
        return (newest_sms, *(p["CheckoutRequestID"] for p in view["prompts"]))

    return watch(summary)


# --- the payment prompt ---------------------------------------------------------------------


@post("/phone/{msisdn:str}/prompts/{checkout_id:str}/accept", include_in_schema=False)
async def accept_prompt(
    request: AnyRequest,
    msisdn: FromPath[str],
    checkout_id: FromPath[str],
    data: Annotated[PinForm, Form],
) -> Redirect:
    async def act() -> Notice:
        handsets = platform_of(request).handsets
        settled = await handsets.accept(msisdn, checkout_id, pin=data.pin)
        return result_notice(settled.result_code, settled.receipt, done="Payment sent.")

    return await _prompt_action(request, msisdn, checkout_id, act)


@post("/phone/{msisdn:str}/prompts/{checkout_id:str}/cancel", include_in_schema=False)
async def cancel_prompt(
    request: AnyRequest, msisdn: FromPath[str], checkout_id: FromPath[str]
) -> Redirect:
    async def act() -> Notice:
        await platform_of(request).handsets.decline(msisdn, checkout_id)
        return Notice("You cancelled the payment.")

    return await _prompt_action(request, msisdn, checkout_id, act)


async def _prompt_action(
    request: AnyRequest, msisdn: str, checkout_id: str, act: Callable[[], Awaitable[Notice]]
) -> Redirect:
    """Answer a payment prompt; back to the phone with the outcome, or with the reason."""
    if not (MSISDN.fullmatch(msisdn) and _CHECKOUT_ID.fullmatch(checkout_id)):
        return redirect(request, "/ui/phones", Notice("No such payment prompt.", "error"))
    try:
        notice = await act()
    except PesaError as error:
        notice = Notice(str(error), "error")
    return redirect(request, _phone_url(msisdn), notice)


# --- the M-PESA menu ------------------------------------------------------------------------


@post("/phone/{msisdn:str}/send-money", include_in_schema=False)
async def send_money(
    request: AnyRequest, msisdn: FromPath[str], data: Annotated[MenuForm, Form]
) -> Redirect:
    async def act() -> Notice:
        done = await platform_of(request).customer_menu.send_money(
            msisdn, recipient=data.recipient.strip(), amount_cents=_amount_cents(data.amount),
            pin=data.pin, key=form_key(msisdn, data.form_key),
        )  # fmt: skip
        return outcome_notice(done, done="Money sent.")

    return await _menu_action(request, msisdn, "send", act)


@post("/phone/{msisdn:str}/paybill", include_in_schema=False)
async def pay_bill(
    request: AnyRequest, msisdn: FromPath[str], data: Annotated[MenuForm, Form]
) -> Redirect:
    async def act() -> Notice:
        account = data.account_number.strip()
        if not 1 <= len(account) <= c2b.MAX_BILL_REF_CHARS or not account.isprintable():
            raise FormProblem(
                f"Enter an account number of 1 to {c2b.MAX_BILL_REF_CHARS} characters."
            )
        return await _pay(request, msisdn, data, data.business_number, c2b.PAY_BILL, account)

    return await _menu_action(request, msisdn, "paybill", act)


@post("/phone/{msisdn:str}/buygoods", include_in_schema=False)
async def buy_goods(
    request: AnyRequest, msisdn: FromPath[str], data: Annotated[MenuForm, Form]
) -> Redirect:
    async def act() -> Notice:
        return await _pay(request, msisdn, data, data.till_number, c2b.BUY_GOODS, "")

    return await _menu_action(request, msisdn, "buygoods", act)


def _shortcode(value: str) -> str:
    code = value.strip()
    if not (code.isdigit() and 5 <= len(code) <= 7):
        raise FormProblem("Enter a business or till number of 5 to 7 digits.")
    return code


async def _pay(
    request: AnyRequest,
    msisdn: str,
    data: MenuForm,
    number: str,
    transaction_type: str,
    bill_ref: str,
) -> Notice:
    """Lipa na M-PESA to the business or till `number`, from the menu form's amount and PIN."""
    order = PaymentOrder(
        "handset", msisdn, _shortcode(number), transaction_type, _amount_cents(data.amount),
        bill_ref, idempotency_key=form_key(msisdn, data.form_key),
    )  # fmt: skip
    # The real C2B path: validation and confirmation reach the business's URLs.
    outcome = await platform_of(request).handsets.pay(order, pin=data.pin)
    payment = outcome.payment
    code = payment.result_code if payment.result_code is not None else 1
    return result_notice(code, payment.trans_id, done="Payment sent.")


@post("/phone/{msisdn:str}/airtime", include_in_schema=False)
async def buy_airtime(
    request: AnyRequest, msisdn: FromPath[str], data: Annotated[MenuForm, Form]
) -> Redirect:
    async def act() -> Notice:
        done = await platform_of(request).customer_menu.buy_airtime(
            msisdn, recipient=data.recipient.strip() or msisdn,
            amount_cents=_amount_cents(data.amount), pin=data.pin,
            key=form_key(msisdn, data.form_key),
        )  # fmt: skip
        return outcome_notice(done, done="Airtime bought.")

    return await _menu_action(request, msisdn, "airtime", act)


# --- Bonga (*126#) --------------------------------------------------------------------------


@post("/phone/{msisdn:str}/bonga/pin", include_in_schema=False)
async def set_bonga_pin(
    request: AnyRequest, msisdn: FromPath[str], data: Annotated[MenuForm, Form]
) -> Redirect:
    async def act() -> Notice:
        if data.new_pin != data.confirm_pin:
            raise FormProblem("The two PINs you entered do not match.")
        outcome = await platform_of(request).bonga.set_pin(
            msisdn, national_id=data.national_id, new_pin=data.new_pin,
            last_topup_cents=_whole(data.last_topup, "last top-up amount", cap=MAX_SHILLINGS) * 100,
        )  # fmt: skip
        return _PIN_NOTICES[str(outcome)]

    return await _menu_action(request, msisdn, "bonga-pin", act)


_PIN_NOTICES = {
    "set": Notice("Your Bonga PIN has been set."),
    "vetting_failed": Notice(
        "The ID number or last top-up amount is wrong. Your Bonga PIN has not changed.", "error"
    ),
    "call_200": Notice("Postpay lines set the Bonga PIN by calling 200.", "error"),
    "vetting_locked": Notice(
        "Too many wrong answers: the Bonga PIN cannot be set here. Call 100.", "error"
    ),
    "unknown_customer": Notice("This line is not registered.", "error"),
}


@post("/phone/{msisdn:str}/bonga/transfer", include_in_schema=False)
async def transfer_points(
    request: AnyRequest, msisdn: FromPath[str], data: Annotated[MenuForm, Form]
) -> Redirect:
    async def act() -> Notice:
        points = _whole(data.points, "points", cap=MAX_POINTS)
        done = await platform_of(request).bonga.transfer(
            msisdn, recipient=data.recipient.strip(), points=points, pin=data.pin,
            key=form_key(msisdn, data.form_key),
        )  # fmt: skip
        return outcome_notice(done, done=f"{done.amount} Bonga points transferred.")

    return await _menu_action(request, msisdn, "bonga-transfer", act)


@post("/phone/{msisdn:str}/bonga/bundle", include_in_schema=False)
async def buy_bundle(
    request: AnyRequest, msisdn: FromPath[str], data: Annotated[MenuForm, Form]
) -> Redirect:
    async def act() -> Notice:
        done = await platform_of(request).bonga.buy_bundle(
            msisdn, bundle_code=data.bundle, pin=data.pin, key=form_key(msisdn, data.form_key)
        )
        return outcome_notice(done, done="Data bundle bought.")

    return await _menu_action(request, msisdn, "bonga-bundle", act)


async def _menu_action(
    request: AnyRequest, msisdn: str, screen: str, act: Callable[[], Awaitable[Notice]]
) -> Redirect:
    """Run a menu action; back to the menu on success, or to its own screen with the reason."""
    if not MSISDN.fullmatch(msisdn):
        return redirect(request, "/ui/phones", Notice("No customer has that number.", "error"))
    try:
        notice = await act()
    except (FormProblem, PesaError) as error:
        notice = Notice(str(error), "error")
    return redirect(request, _phone_url(msisdn, screen if notice.kind else "menu"), notice)


phone_router = Router(
    path="/",
    route_handlers=[
        phones_page,
        create_phone,
        phone_page,
        prompts_fragment,
        inbox_fragment,
        phone_events,
        accept_prompt,
        cancel_prompt,
        send_money,
        pay_bill,
        buy_goods,
        buy_airtime,
        set_bonga_pin,
        transfer_points,
        buy_bundle,
    ],  # fmt: skip
    include_in_schema=False,
)

__all__ = ["phone_router"]
