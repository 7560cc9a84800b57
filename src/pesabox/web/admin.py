"""/ui/admin: the platform operators' console. An operator signs in (admin_session) and
works three queues: business applications and LNMO applications (admin_applications), and
change requests (admin_crqs). Every action is a POST form with its CSRF token; one without a
session or without the token is refused (403) and changes nothing."""

from __future__ import annotations

from litestar import Router, get
from litestar.response import Template

from pesabox.domain.onboarding.states import ApplicationState, LnmoState
from pesabox.web.admin_applications import APPLICATION_HANDLERS
from pesabox.web.admin_crqs import CRQ_HANDLERS
from pesabox.web.admin_session import SESSION_HANDLERS, current_operator
from pesabox.web.dev_common import EXCEPTION_HANDLERS, services_of
from pesabox.web.pages import AnyRequest, page

OPEN_APPLICATIONS = frozenset(
    {ApplicationState.SUBMITTED, ApplicationState.IN_REVIEW, ApplicationState.APPROVING}
)
OPEN_LNMO = frozenset({LnmoState.SUBMITTED, LnmoState.UNDER_REVIEW})
QUEUE_ROWS = 50


@get("/", include_in_schema=False)
async def console(request: AnyRequest) -> Template:
    operator = await current_operator(request)
    services = services_of(request)
    applications = services.onboarding.applications
    lnmo = services.onboarding.lnmo
    lnmo_queue = await lnmo.listed(operator, states=OPEN_LNMO)
    return page(
        request,
        "admin/console.html",
        operator=operator,
        applications=await applications.listed(operator, states=OPEN_APPLICATIONS),
        lnmo_queue=[
            (record, lnmo.decidable_at(record), lnmo.is_decidable(record)) for record in lnmo_queue
        ],  # fmt: skip
        crqs=await services.change_requests.queue(limit=QUEUE_ROWS),
    )


admin_router = Router(
    path="/admin",
    route_handlers=[*SESSION_HANDLERS, console, *APPLICATION_HANDLERS, *CRQ_HANDLERS],
    exception_handlers=dict(EXCEPTION_HANDLERS),
    include_in_schema=False,
)
