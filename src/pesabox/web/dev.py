"""/ui/dev: the developer portal. A developer signs up and in (dev_session), makes sandbox
apps (here), applies for a PayBill or Till with its documents and for LNMO (dev_business),
and asks to go live, for a client certificate and follows their change requests (dev_crqs).

Pages call the process's onboarding services (core/onboarding_services.py); a developer only
ever sees their own apps, applications and CRQs (the services check, and answer "not found"
for anybody else's).
"""

from __future__ import annotations

from litestar import Router, get, post
from litestar.response import Redirect, Template

from pesabox.domain.onboarding.errors import OnboardingError
from pesabox.domain.onboarding.states import LnmoState
from pesabox.domain.products import Product
from pesabox.web.dev_business import BUSINESS_HANDLERS
from pesabox.web.dev_common import (
    EXCEPTION_HANDLERS,
    RecordId,
    form_action,
    refusal_text,
    services_of,
    support_context,
)
from pesabox.web.dev_crqs import CRQ_HANDLERS
from pesabox.web.dev_session import DEV, SESSION_HANDLERS, current_developer
from pesabox.web.pages import AnyRequest, Notice, page, redirect

PRODUCTS = [product.value for product in Product]


@get("/", include_in_schema=False)
async def dashboard(request: AnyRequest) -> Template:
    developer = await current_developer(request)
    services = services_of(request)
    onboarding = services.onboarding
    applications = await onboarding.applications.of_developer(developer)
    # The newest LNMO application of each business (a rejected one may be followed by another).
    records = sorted(await onboarding.lnmo.of_developer(developer), key=lambda record: record.id)
    lnmo = {record.application_id: record for record in records}
    return page(
        request,
        "dev/dashboard.html",
        developer=developer,
        apps=await onboarding.accounts.list_apps(developer),
        applications=applications,
        businesses=await onboarding.applications.businesses_of(developer),
        lnmo=lnmo,
        lnmo_due={key: onboarding.lnmo.decidable_at(record) for key, record in lnmo.items()},
        lnmo_approved=LnmoState.APPROVED,
        crqs=await services.change_requests.of_developer(developer.id),
        products=PRODUCTS,
        **support_context(request),
    )


@post("/apps", include_in_schema=False)
async def create_app(request: AnyRequest) -> Template | Redirect:
    """The new app's key and secret are shown on this answer once, never again (only the
    secret's digest is kept), so it is a page, not a redirect."""
    developer = await current_developer(request)
    form = await request.form()
    try:
        made = await services_of(request).onboarding.accounts.create_app(
            developer, name=str(form.get("name", "")), products=form.getall("products", [])
        )
    except OnboardingError as error:
        return redirect(request, DEV, Notice(refusal_text(error), "error"))
    return page(
        request,
        "dev/secret.html",
        title=f"Sandbox app {made.app.name}",
        consumer_key=made.app.consumer_key,
        consumer_secret=made.consumer_secret,
        products=sorted(made.app.products),
        environment_label="sandbox",
    )


@post("/apps/{app_id:int}/delete", include_in_schema=False)
async def delete_app(request: AnyRequest, app_id: RecordId) -> Redirect:
    developer = await current_developer(request)
    accounts = services_of(request).onboarding.accounts
    return await form_action(
        request,
        back=DEV,
        run=accounts.delete_app(developer, app_id),
        done=f"App {app_id} is deleted; its keys no longer work.",
    )


dev_router = Router(
    path="/dev",
    route_handlers=[
        *SESSION_HANDLERS,
        dashboard,
        create_app,
        delete_app,
        *BUSINESS_HANDLERS,
        *CRQ_HANDLERS,
    ],
    exception_handlers=dict(EXCEPTION_HANDLERS),
    include_in_schema=False,
)
