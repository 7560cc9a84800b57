"""/ui/org: the organisation portal. A web operator signs in and sees only its own
organisation: balances, the statement (filters, CSV, chart), moving funds, withdrawing to the
bank and the settlement report, operators, C2B URLs and validation, and a SecurityCredential
helper.

Every page under /ui/org/{shortcode} asks the service, which checks that the shortcode (or
the withdrawal) is the session's organisation's; anything else is a 404, the same as for
something that does not exist.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from litestar import Response, Router, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, ServerSentEvent, Template

from pesabox.core.org_portal import ACCOUNT_LABELS, PortalForbidden, PortalNotFound
from pesabox.domain.operators import API_ROLES, OperatorRole, OperatorRuleError
from pesabox.domain.org_funds import (
    ADMINISTER_ROLES,
    MOVE_FUNDS_ROLES,
    WITHDRAW_ROLES,
    FundsRefusal,
    StatementFilter,
)
from pesabox.security.web_sessions import SESSION_COOKIE, PortalSession
from pesabox.web import portal_views
from pesabox.web.live import watch
from pesabox.web.pages import AnyRequest, Notice, fragment, page, platform_of, redirect
from pesabox.web.templating import kes

LOGIN = "/ui/org/login"
# Every form posts URL-encoded fields.
_FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
_COOKIE_PATH = "/ui/org"
STATEMENT_PAGE_ROWS = 200
RECENT_WITHDRAWALS = 10
# The settlement report lists the newest withdrawals of each day it shows, up to this many.
REPORT_WITHDRAWALS = 500
CSV_ROWS_MAX = 10_000


class SignInNeeded(Exception):
    """No live session: the browser goes to the sign-in page."""


@dataclass
class SignInForm:
    shortcode: str = ""
    username: str = ""
    password: str = ""


@dataclass
class AmountForm:
    amount: str = ""
    form_key: str = ""


@dataclass
class NewOperatorForm:
    shortcode: str = ""
    username: str = ""
    password: str = ""
    # One checked box arrives as a string, several as a list.
    roles: list[str] | str = field(default_factory=list)


@dataclass
class PasswordForm:
    operator: str = ""
    password: str = ""


@dataclass
class OperatorForm:
    operator: str = ""


@dataclass
class SwitchForm:
    switch: str = ""


@dataclass
class CredentialForm:
    password: str = ""


async def _session(request: AnyRequest) -> PortalSession:
    token = request.cookies.get(SESSION_COOKIE)
    session = await platform_of(request).portal_sessions.resolve(token)
    if session is None:
        raise SignInNeeded
    return session


def _base(session: PortalSession, shortcode: str, section: str) -> dict[str, Any]:
    """What every signed-in page shows: who, which shortcode, what they may do."""
    return {
        "session": session,
        "shortcode": shortcode,
        "section": section,
        "can_move": session.has_any(MOVE_FUNDS_ROLES),
        "can_withdraw": session.has_any(WITHDRAW_ROLES),
        "can_administer": session.has_any(ADMINISTER_ROLES),
    }


def _form_key() -> str:
    return secrets.token_urlsafe(24)


def _home(shortcode: str) -> str:
    return f"/ui/org/{shortcode}"


# --- signing in ------------------------------------------------------------------------


@get("/", include_in_schema=False)
async def portal_root(request: AnyRequest) -> Redirect:
    session = await _session(request)
    return Redirect(path=_home(session.shortcode), status_code=303)


@get("/switch", include_in_schema=False)
async def switch_shortcode(
    request: AnyRequest, to: Annotated[str, QueryParameter()] = ""
) -> Redirect:
    session = await _session(request)
    platform_of(request).org_portal.own_shortcode(session, to)
    return Redirect(path=_home(to), status_code=303)


@get("/login", include_in_schema=False)
async def login_page(request: AnyRequest) -> Template:
    return page(request, "portal/login.html")


@post("/login", include_in_schema=False)
async def login(
    request: AnyRequest,
    data: Annotated[SignInForm, _FORM],
) -> Redirect:
    platform = platform_of(request)
    result = await platform.portal_sessions.sign_in(
        shortcode=data.shortcode, username=data.username, password=data.password
    )
    if result.token is None:
        return redirect(request, LOGIN, Notice(result.refusal or "Sign-in refused.", "error"))
    response = redirect(request, _home(data.shortcode.strip()))
    response.set_cookie(
        Cookie(
            key=SESSION_COOKIE,
            value=result.token,
            path=_COOKIE_PATH,
            httponly=True,
            secure=platform.settings.web_cookie_secure,
            samesite="lax",
        )
    )
    return response


@post("/logout", include_in_schema=False)
async def logout(request: AnyRequest) -> Redirect:
    await platform_of(request).portal_sessions.sign_out(request.cookies.get(SESSION_COOKIE))
    response = redirect(request, LOGIN, Notice("You have signed out."))
    response.delete_cookie(SESSION_COOKIE, path=_COOKIE_PATH)
    return response


# --- money -------------------------------------------------------------------------------


@get("/{shortcode:str}", include_in_schema=False)
async def overview(request: AnyRequest, shortcode: FromPath[str]) -> Template:
    session = await _session(request)
    portal = platform_of(request).org_portal
    balances = await portal.balances(session, shortcode)
    lines = await portal.statement(
        session, shortcode, "working", StatementFilter(), limit=STATEMENT_PAGE_ROWS
    )
    return page(
        request,
        "portal/overview.html",
        balances=balances,
        bank=await portal.bank_details(session),
        withdrawals=await portal.withdrawals(session, limit=RECENT_WITHDRAWALS),
        chart=portal_views.balance_chart(lines, label="Working account balance"),
        move_key=_form_key(),
        withdraw_key=_form_key(),
        **_base(session, shortcode, "overview"),
    )


@post("/{shortcode:str}/move", include_in_schema=False)
async def move_funds(
    request: AnyRequest,
    shortcode: FromPath[str],
    data: Annotated[AmountForm, _FORM],
) -> Redirect:
    session = await _session(request)
    try:
        outcome = await platform_of(request).org_portal.move_to_working(
            session, shortcode, amount=data.amount, form_key=data.form_key
        )
    except FundsRefusal as refusal:
        return redirect(request, _home(shortcode), Notice(f"Not moved: {refusal}.", "error"))
    text = "That form was already sent; nothing moved again." if outcome.replayed else (
        f"Moved KES {data.amount.strip()} from the Utility to the Working account "
        f"(receipt {outcome.transaction_id})."
    )  # fmt: skip
    return redirect(request, _home(shortcode), Notice(text))


@post("/{shortcode:str}/withdraw", include_in_schema=False)
async def withdraw(
    request: AnyRequest,
    shortcode: FromPath[str],
    data: Annotated[AmountForm, _FORM],
) -> Redirect:
    session = await _session(request)
    try:
        made = await platform_of(request).org_portal.withdraw(
            session, shortcode, amount=data.amount, form_key=data.form_key
        )
    except FundsRefusal as refusal:
        return redirect(request, _home(shortcode), Notice(f"Not withdrawn: {refusal}.", "error"))
    text = (
        f"Withdrawal {made.id} of KES {kes(made.amount_cents)} has left M-PESA; "
        f"{made.bank.bank_name} will be credited on {made.settle_on:%A %d %B %Y}."
    )
    return redirect(request, f"/ui/org/{shortcode}/withdrawals/{made.id}", Notice(text))


@get("/{shortcode:str}/withdrawals/{withdrawal_id:str}", include_in_schema=False)
async def withdrawal_page(
    request: AnyRequest, shortcode: FromPath[str], withdrawal_id: FromPath[str]
) -> Template:
    session = await _session(request)
    portal = platform_of(request).org_portal
    portal.own_shortcode(session, shortcode)
    found = await portal.withdrawal(session, withdrawal_id)
    return page(
        request,
        "portal/withdrawal.html",
        withdrawal=found,
        **_base(session, shortcode, "settlements"),
    )


def _withdrawals_summary(rows: list[Any]) -> tuple[tuple[str, str], ...]:
    return tuple((row.id, str(row.status)) for row in rows)


@get("/{shortcode:str}/withdrawals/list", include_in_schema=False)
async def withdrawals_fragment(request: AnyRequest, shortcode: FromPath[str]) -> Template:
    session = await _session(request)
    portal = platform_of(request).org_portal
    portal.own_shortcode(session, shortcode)
    return fragment(
        request,
        "portal/withdrawals_table.html",
        withdrawals=await portal.withdrawals(session, limit=RECENT_WITHDRAWALS),
        shortcode=shortcode,
    )


@get("/{shortcode:str}/withdrawals/events", include_in_schema=False)
async def withdrawals_events(request: AnyRequest, shortcode: FromPath[str]) -> ServerSentEvent:
    session = await _session(request)
    portal = platform_of(request).org_portal
    portal.own_shortcode(session, shortcode)

    async def read() -> tuple[tuple[str, str], ...]:
        return _withdrawals_summary(await portal.withdrawals(session, limit=RECENT_WITHDRAWALS))

    return watch(read)


@get("/{shortcode:str}/settlements", include_in_schema=False)
async def settlements(request: AnyRequest, shortcode: FromPath[str]) -> Template:
    session = await _session(request)
    portal = platform_of(request).org_portal
    portal.own_shortcode(session, shortcode)
    days = await portal.settlement_days(session)
    by_day: dict[date, list[Any]] = {}
    for row in await portal.withdrawals(session, limit=REPORT_WITHDRAWALS):
        by_day.setdefault(row.settle_on, []).append(row)
    return page(
        request,
        "portal/settlements.html",
        days=days,
        by_day=by_day,
        **_base(session, shortcode, "settlements"),
    )


# --- the statement ---------------------------------------------------------------------


async def _statement(
    request: AnyRequest,
    shortcode: str,
    account: str,
    query: dict[str, str | None],
    limit: int,
) -> tuple[PortalSession, list[Any], dict[str, str]]:
    session = await _session(request)
    filters, shown = portal_views.statement_filter(
        date_from=query["from"],
        date_to=query["to"],
        direction=query["direction"],
        purpose=query["type"],
        receipt=query["receipt"],
    )
    if account not in ACCOUNT_LABELS:
        raise PortalNotFound(f"no account {account!r}")
    lines = await platform_of(request).org_portal.statement(
        session, shortcode, account, filters, limit=limit
    )
    return session, lines, shown


@get("/{shortcode:str}/statement", include_in_schema=False)
async def statement_page(
    request: AnyRequest,
    shortcode: FromPath[str],
    account: Annotated[str, QueryParameter()] = "utility",
    date_from: Annotated[str | None, QueryParameter(name="from")] = None,
    date_to: Annotated[str | None, QueryParameter(name="to")] = None,
    direction: Annotated[str | None, QueryParameter()] = None,
    purpose: Annotated[str | None, QueryParameter(name="type")] = None,
    receipt: Annotated[str | None, QueryParameter()] = None,
) -> Template:
    query = {"from": date_from, "to": date_to, "direction": direction, "type": purpose,
             "receipt": receipt}  # fmt: skip
    session, lines, shown = await _statement(
        request, shortcode, account, query, STATEMENT_PAGE_ROWS
    )
    label = f"{ACCOUNT_LABELS[account]} account balance"
    csv_query = "&".join(f"{key}={value}" for key, value in shown.items() if value)
    return page(
        request,
        "portal/statement.html",
        lines=lines,
        shown=shown,
        account=account,
        accounts=ACCOUNT_LABELS,
        purposes=portal_views.PURPOSES,
        details=portal_views.details,
        chart=portal_views.balance_chart(lines, label=label),
        csv_url=f"/ui/org/{shortcode}/statement.csv?account={account}"
        + (f"&{csv_query}" if csv_query else ""),
        page_rows=STATEMENT_PAGE_ROWS,
        **_base(session, shortcode, "statement"),
    )


@get("/{shortcode:str}/statement.csv", include_in_schema=False)
async def statement_csv(
    request: AnyRequest,
    shortcode: FromPath[str],
    account: Annotated[str, QueryParameter()] = "utility",
    date_from: Annotated[str | None, QueryParameter(name="from")] = None,
    date_to: Annotated[str | None, QueryParameter(name="to")] = None,
    direction: Annotated[str | None, QueryParameter()] = None,
    purpose: Annotated[str | None, QueryParameter(name="type")] = None,
    receipt: Annotated[str | None, QueryParameter()] = None,
) -> Response[str]:
    query = {"from": date_from, "to": date_to, "direction": direction, "type": purpose,
             "receipt": receipt}  # fmt: skip
    _, lines, _ = await _statement(request, shortcode, account, query, CSV_ROWS_MAX)
    filename = f"statement-{shortcode}-{account}.csv"
    return Response(
        portal_views.statement_csv(lines),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{filename}"',
            "cache-control": "no-store",
        },
    )


# --- operators, C2B, credentials ---------------------------------------------------------


def _operator_key(text: str) -> tuple[str, str]:
    """`shortcode/username` from the operator select."""
    shortcode, _, username = text.partition("/")
    return shortcode, username


@get("/{shortcode:str}/operators", include_in_schema=False)
async def operators_page(request: AnyRequest, shortcode: FromPath[str]) -> Template:
    session = await _session(request)
    portal = platform_of(request).org_portal
    portal.own_shortcode(session, shortcode)
    return page(
        request,
        "portal/operators.html",
        operators=await portal.operators(session),
        api_roles=[role for role in OperatorRole if role in API_ROLES],
        **_base(session, shortcode, "operators"),
    )


async def _operator_action(request: AnyRequest, shortcode: str, action: Any, done: str) -> Redirect:
    back = f"/ui/org/{shortcode}/operators"
    try:
        await action
    except OperatorRuleError as error:
        return redirect(request, back, Notice(f"Refused: {error}.", "error"))
    return redirect(request, back, Notice(done))


@post("/{shortcode:str}/operators", include_in_schema=False)
async def add_operator(
    request: AnyRequest,
    shortcode: FromPath[str],
    data: Annotated[NewOperatorForm, _FORM],
) -> Redirect:
    session = await _session(request)
    roles = [data.roles] if isinstance(data.roles, str) else data.roles
    action = platform_of(request).org_portal.add_api_operator(
        session,
        data.shortcode or shortcode,
        username=data.username,
        roles=roles,
        password=data.password,
    )
    return await _operator_action(
        request, shortcode, action, f"API operator {data.username.strip()} created."
    )


@post("/{shortcode:str}/operators/password", include_in_schema=False)
async def set_password(
    request: AnyRequest,
    shortcode: FromPath[str],
    data: Annotated[PasswordForm, _FORM],
) -> Redirect:
    session = await _session(request)
    code, username = _operator_key(data.operator)
    action = platform_of(request).org_portal.set_password(
        session, code, username=username, password=data.password
    )
    return await _operator_action(
        request, shortcode, action, f"New password set for {username}; it is unlocked."
    )


@post("/{shortcode:str}/operators/unlock", include_in_schema=False)
async def unlock(
    request: AnyRequest,
    shortcode: FromPath[str],
    data: Annotated[OperatorForm, _FORM],
) -> Redirect:
    session = await _session(request)
    code, username = _operator_key(data.operator)
    action = platform_of(request).org_portal.unlock(session, code, username=username)
    return await _operator_action(request, shortcode, action, f"{username} is unlocked.")


@get("/{shortcode:str}/c2b", include_in_schema=False)
async def c2b_page(request: AnyRequest, shortcode: FromPath[str]) -> Template:
    session = await _session(request)
    portal = platform_of(request).org_portal
    portal.own_shortcode(session, shortcode)
    records = await portal.shortcode_records(session)
    registrations = {
        record.shortcode: await portal.registration(session, record.shortcode) for record in records
    }
    return page(
        request,
        "portal/c2b.html",
        records=records,
        registrations=registrations,
        **_base(session, shortcode, "c2b"),
    )


@post("/{shortcode:str}/c2b/{target:str}/validation", include_in_schema=False)
async def validation_switch(
    request: AnyRequest,
    shortcode: FromPath[str],
    target: FromPath[str],
    data: Annotated[SwitchForm, _FORM],
) -> Redirect:
    session = await _session(request)
    on = data.switch == "on"
    await platform_of(request).org_portal.set_validation(session, target, on=on)
    state = "on" if on else "off"
    return redirect(
        request, f"/ui/org/{shortcode}/c2b", Notice(f"Validation on {target} is {state}.")
    )


@get("/{shortcode:str}/credential", include_in_schema=False)
async def credential_page(request: AnyRequest, shortcode: FromPath[str]) -> Template:
    session = await _session(request)
    platform_of(request).org_portal.own_shortcode(session, shortcode)
    return page(
        request,
        "portal/credential.html",
        credential=None,
        environment_name=platform_of(request).settings.environment,
        **_base(session, shortcode, "credential"),
    )


@post("/{shortcode:str}/credential", include_in_schema=False)
async def make_credential(
    request: AnyRequest,
    shortcode: FromPath[str],
    data: Annotated[CredentialForm, _FORM],
) -> Template:
    session = await _session(request)
    portal = platform_of(request).org_portal
    portal.own_shortcode(session, shortcode)
    credential, error = None, None
    try:
        credential = await portal.security_credential(data.password)
    except OperatorRuleError as refusal:
        error = str(refusal)
    return page(
        request,
        "portal/credential.html",
        credential=credential,
        error=error,
        environment_name=platform_of(request).settings.environment,
        **_base(session, shortcode, "credential"),
    )


# --- refusals ----------------------------------------------------------------------------


def _signed_out(request: AnyRequest, _: SignInNeeded) -> Response[Any]:
    if request.method == "GET":
        return redirect(request, LOGIN)
    return redirect(request, LOGIN, Notice("Your session has ended; sign in again.", "error"))


def _not_found(request: AnyRequest, _: PortalNotFound) -> Response[Any]:
    template = page(request, "portal/refused.html", status=404, reason="Not found.")
    template.status_code = 404
    return template


def _forbidden(request: AnyRequest, error: PortalForbidden) -> Response[Any]:
    template = page(request, "portal/refused.html", status=403, reason=f"Not allowed: {error}.")
    template.status_code = 403
    return template


portal_router = Router(
    path="/org",
    route_handlers=[
        portal_root,
        switch_shortcode,
        login_page,
        login,
        logout,
        overview,
        move_funds,
        withdraw,
        withdrawals_fragment,
        withdrawals_events,
        withdrawal_page,
        settlements,
        statement_page,
        statement_csv,
        operators_page,
        add_operator,
        set_password,
        unlock,
        c2b_page,
        validation_switch,
        credential_page,
        make_credential,
    ],
    exception_handlers={
        SignInNeeded: _signed_out,
        PortalNotFound: _not_found,
        PortalForbidden: _forbidden,
    },
    include_in_schema=False,
)
