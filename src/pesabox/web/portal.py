"""/ui/org: the organisation portal. A web operator signs in and sees only its own
organisation: balances, the statement (filters, CSV, chart), moving funds, withdrawing to the
bank and the settlement report (here); operators, C2B URLs and validation, and a
SecurityCredential helper (portal_admin); signing in (portal_session).

Every page under /ui/org/{shortcode} asks the service, which checks that the shortcode (or
the withdrawal) is the session's organisation's; anything else is a 404, the same as for
something that does not exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol, TypeVar
from urllib.parse import urlencode

from litestar import Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, ServerSentEvent, Template

from pesabox.core.org_portal import (
    ACCOUNT_LABELS,
    OrgPortalService,
    PortalForbidden,
    PortalNotFound,
    Withdrawn,
)
from pesabox.domain.org_funds import FundsRefusal
from pesabox.domain.services.org_funds import MoveOutcome
from pesabox.domain.statement_filter import StatementFilter
from pesabox.security.web_sessions import PortalSession
from pesabox.web import portal_views
from pesabox.web.dev_common import support_context
from pesabox.web.live import watch
from pesabox.web.pages import AnyRequest, Notice, fragment, page, platform_of, redirect
from pesabox.web.portal_admin import ADMIN_HANDLERS
from pesabox.web.portal_crqs import change_requests
from pesabox.web.portal_session import (
    FORM,
    SignInNeeded,
    current_session,
    forbidden,
    home_url,
    login,
    login_page,
    logout,
    new_form_key,
    not_found,
    portal_root,
    shortcode_session,
    signed_in_context,
    signed_out,
    switch_shortcode,
)
from pesabox.web.templating import kes

STATEMENT_PAGE_ROWS = 200
RECENT_WITHDRAWALS = 10
CSV_ROWS_MAX = 10_000

OutcomeT = TypeVar("OutcomeT")
OutcomeT_co = TypeVar("OutcomeT_co", covariant=True)


@dataclass
class AmountForm:
    amount: str = ""
    form_key: str = ""


# --- money -------------------------------------------------------------------------------


@get("/{shortcode:str}", include_in_schema=False)
async def overview(request: AnyRequest, shortcode: FromPath[str]) -> Template:
    session = await current_session(request)
    portal = platform_of(request).org_portal
    balances = await portal.balances(session, shortcode)
    # The Utility account is where customers' payments land, so its line shows the trading;
    # the statement page charts any of the three.
    lines = await portal.statement(
        session, shortcode, "utility", StatementFilter(), limit=STATEMENT_PAGE_ROWS
    )
    return page(
        request,
        "portal/overview.html",
        balances=balances,
        bank=await portal.bank_details(session),
        withdrawals=await portal.withdrawals(session, limit=RECENT_WITHDRAWALS),
        chart=portal_views.balance_chart(lines, label="Utility account balance"),
        move_key=new_form_key(),
        withdraw_key=new_form_key(),
        **support_context(request),
        **signed_in_context(session, shortcode, "overview"),
    )


class _FundsAction(Protocol[OutcomeT_co]):
    """A money action of the portal service: move_to_working or withdraw."""

    def __call__(
        self, portal: OrgPortalService, session: PortalSession, shortcode: str, /,
        *, amount: str, form_key: str,
    ) -> Awaitable[OutcomeT_co]: ...  # fmt: skip


async def _submit_funds_form(
    request: AnyRequest,
    shortcode: str,
    data: AmountForm,
    action: _FundsAction[OutcomeT],
    *,
    refused: str,
    done: Callable[[OutcomeT], tuple[str, str]],
) -> Redirect:
    """Runs one money form for the session; a refusal goes back home as an error notice,
    anything else to the (url, text) that `done` makes of the outcome."""
    session = await current_session(request)
    portal = platform_of(request).org_portal
    try:
        outcome = await action(
            portal, session, shortcode, amount=data.amount, form_key=data.form_key
        )
    except FundsRefusal as refusal:
        return redirect(request, home_url(shortcode), Notice(f"{refused}: {refusal}.", "error"))
    url, text = done(outcome)
    return redirect(request, url, Notice(text))


@post("/{shortcode:str}/move", include_in_schema=False)
async def move_funds(
    request: AnyRequest,
    shortcode: FromPath[str],
    data: Annotated[AmountForm, FORM],
) -> Redirect:
    def done(outcome: MoveOutcome) -> tuple[str, str]:
        text = "That form was already sent; nothing moved again." if outcome.replayed else (
            f"Moved KES {data.amount.strip()} from the Utility to the Working account "
            f"(receipt {outcome.transaction_id})."
        )  # fmt: skip
        return home_url(shortcode), text

    return await _submit_funds_form(
        request,
        shortcode,
        data,
        OrgPortalService.move_to_working,
        refused="Not moved",
        done=done,
    )


@post("/{shortcode:str}/withdraw", include_in_schema=False)
async def withdraw(
    request: AnyRequest,
    shortcode: FromPath[str],
    data: Annotated[AmountForm, FORM],
) -> Redirect:
    def done(outcome: Withdrawn) -> tuple[str, str]:
        made = outcome.withdrawal
        text = f"That form was already sent; withdrawal {made.id} was not made again." if (
            outcome.replayed
        ) else (
            f"Withdrawal {made.id} of KES {kes(made.amount_cents)} has left M-PESA; "
            f"{made.bank.bank_name} will be credited on {made.settle_on:%A %d %B %Y}."
        )  # fmt: skip
        return f"/ui/org/{shortcode}/withdrawals/{made.id}", text

    return await _submit_funds_form(
        request,
        shortcode,
        data,
        OrgPortalService.withdraw,
        refused="Not withdrawn",
        done=done,
    )


@get("/{shortcode:str}/withdrawals/{withdrawal_id:str}", include_in_schema=False)
async def withdrawal_page(
    request: AnyRequest, shortcode: FromPath[str], withdrawal_id: FromPath[str]
) -> Template:
    session, portal = await shortcode_session(request, shortcode)
    found = await portal.withdrawal(session, withdrawal_id)
    return page(
        request,
        "portal/withdrawal.html",
        withdrawal=found,
        **signed_in_context(session, shortcode, "settlements"),
    )


def _withdrawals_summary(rows: list[Any]) -> tuple[tuple[str, str], ...]:
    return tuple((row.id, str(row.status)) for row in rows)


@get("/{shortcode:str}/withdrawals/list", include_in_schema=False)
async def withdrawals_fragment(request: AnyRequest, shortcode: FromPath[str]) -> Template:
    session, portal = await shortcode_session(request, shortcode)
    return fragment(
        request,
        "portal/withdrawals_table.html",
        withdrawals=await portal.withdrawals(session, limit=RECENT_WITHDRAWALS),
        shortcode=shortcode,
    )


@get("/{shortcode:str}/withdrawals/events", include_in_schema=False)
async def withdrawals_events(request: AnyRequest, shortcode: FromPath[str]) -> ServerSentEvent:
    session, portal = await shortcode_session(request, shortcode)

    async def read() -> tuple[tuple[str, str], ...]:
        return _withdrawals_summary(await portal.withdrawals(session, limit=RECENT_WITHDRAWALS))

    return watch(read)


@get("/{shortcode:str}/settlements", include_in_schema=False)
async def settlements(
    request: AnyRequest,
    shortcode: FromPath[str],
    page_number: Annotated[int, QueryParameter(name="page", ge=1, le=10_000)] = 1,
) -> Template:
    session, portal = await shortcode_session(request, shortcode)
    report = await portal.settlement_report(session, page=page_number)
    return page(
        request,
        "portal/settlements.html",
        report=report,
        days=report.days,
        by_day=report.withdrawals,
        **signed_in_context(session, shortcode, "settlements"),
    )


# --- the statement ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatementQuery:
    """The statement's query string, shared by the page and its CSV: the account and the
    filters as typed (portal_views.statement_filter checks them)."""

    account: str
    date_from: str | None
    date_to: str | None
    direction: str | None
    purpose: str | None
    receipt: str | None


def statement_query(
    account: Annotated[str, QueryParameter()] = "utility",
    date_from: Annotated[str | None, QueryParameter(name="from")] = None,
    date_to: Annotated[str | None, QueryParameter(name="to")] = None,
    direction: Annotated[str | None, QueryParameter()] = None,
    purpose: Annotated[str | None, QueryParameter(name="type")] = None,
    receipt: Annotated[str | None, QueryParameter()] = None,
) -> StatementQuery:
    return StatementQuery(account, date_from, date_to, direction, purpose, receipt)


_STATEMENT_QUERY = {"wanted": Provide(statement_query, sync_to_thread=False)}


async def _statement(
    request: AnyRequest, shortcode: str, wanted: StatementQuery, limit: int
) -> tuple[PortalSession, list[Any], dict[str, str]]:
    session = await current_session(request)
    filters, shown = portal_views.statement_filter(
        date_from=wanted.date_from,
        date_to=wanted.date_to,
        direction=wanted.direction,
        purpose=wanted.purpose,
        receipt=wanted.receipt,
    )
    if wanted.account not in ACCOUNT_LABELS:
        raise PortalNotFound(f"no account {wanted.account!r}")
    lines = await platform_of(request).org_portal.statement(
        session, shortcode, wanted.account, filters, limit=limit
    )
    return session, lines, shown


@get("/{shortcode:str}/statement", include_in_schema=False, dependencies=_STATEMENT_QUERY)
async def statement_page(
    request: AnyRequest, shortcode: FromPath[str], wanted: NamedDependency[StatementQuery]
) -> Template:
    session, lines, shown = await _statement(request, shortcode, wanted, STATEMENT_PAGE_ROWS)
    account = wanted.account
    label = f"{ACCOUNT_LABELS[account]} account balance"
    csv_query = urlencode({key: value for key, value in shown.items() if value})
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
        csv_url=f"/ui/org/{shortcode}/statement.csv?{urlencode({'account': account})}"
        + (f"&{csv_query}" if csv_query else ""),
        page_rows=STATEMENT_PAGE_ROWS,
        **signed_in_context(session, shortcode, "statement"),
    )


@get("/{shortcode:str}/statement.csv", include_in_schema=False, dependencies=_STATEMENT_QUERY)
async def statement_csv(
    request: AnyRequest, shortcode: FromPath[str], wanted: NamedDependency[StatementQuery]
) -> Response[str]:
    _, lines, _ = await _statement(request, shortcode, wanted, CSV_ROWS_MAX)
    filename = f"statement-{shortcode}-{wanted.account}.csv"
    return Response(
        portal_views.statement_csv(lines),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{filename}"',
            "cache-control": "no-store",
        },
    )


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
        change_requests,
        *ADMIN_HANDLERS,
    ],
    exception_handlers={
        SignInNeeded: signed_out,
        PortalNotFound: not_found,
        PortalForbidden: forbidden,
    },
    include_in_schema=False,
)
