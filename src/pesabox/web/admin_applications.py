"""/ui/admin's business and LNMO applications: one application with its documents and trail,
and the decisions its state allows. A decision the state does not allow is not offered, and
refused by the service (state machine and conditional update) if posted anyway."""

from __future__ import annotations

from typing import Annotated

from litestar import get, post
from litestar.response import Redirect, Response, Template

from pesabox.domain.onboarding.documents import DOCUMENT_LABELS
from pesabox.domain.onboarding.states import ApplicationState, LnmoState
from pesabox.web.admin_session import current_operator
from pesabox.web.dev_business import document_response
from pesabox.web.dev_common import FORM, ReasonForm, RecordId, form_action, services_of
from pesabox.web.pages import AnyRequest, page

# What the console offers in each state (the service refuses anything else).
APPLICATION_ACTIONS: dict[ApplicationState, tuple[str, ...]] = {
    ApplicationState.SUBMITTED: ("review",),
    ApplicationState.IN_REVIEW: ("approve", "reject"),
    # A crash cut the set-up short: approving again finishes it.
    ApplicationState.APPROVING: ("approve",),
}


def application_url(application_id: int) -> str:
    return f"/ui/admin/applications/{application_id}"


def lnmo_url(lnmo_id: int) -> str:
    return f"/ui/admin/lnmo/{lnmo_id}"


@get("/applications/{application_id:int}", include_in_schema=False)
async def application_page(request: AnyRequest, application_id: RecordId) -> Template:
    operator = await current_operator(request)
    applications = services_of(request).onboarding.applications
    application = await applications.get(operator, application_id)
    return page(
        request,
        "admin/application.html",
        operator=operator,
        application=application,
        documents=await applications.documents(operator, application_id),
        trail=await applications.audit_trail(operator, application_id),
        labels=DOCUMENT_LABELS,
        actions=APPLICATION_ACTIONS.get(application.state, ()),
    )


@get("/documents/{document_id:int}", include_in_schema=False)
async def document_download(request: AnyRequest, document_id: RecordId) -> Response[bytes]:
    operator = await current_operator(request)
    info, data = await services_of(request).onboarding.applications.document(operator, document_id)
    return document_response(info, data)


@post("/applications/{application_id:int}/review", include_in_schema=False)
async def review_application(request: AnyRequest, application_id: RecordId) -> Redirect:
    operator = await current_operator(request)
    applications = services_of(request).onboarding.applications
    return await form_action(
        request,
        back=application_url(application_id),
        run=applications.start_review(operator, application_id),
        done="The application is in review.",
    )


@post("/applications/{application_id:int}/approve", include_in_schema=False)
async def approve_application(request: AnyRequest, application_id: RecordId) -> Redirect:
    operator = await current_operator(request)
    applications = services_of(request).onboarding.applications
    return await form_action(
        request,
        back=application_url(application_id),
        run=applications.approve(operator, application_id),
        done="Approved: the business is set up in production and its Business Administrator "
        "has the portal password by SMS.",
    )


@post("/applications/{application_id:int}/reject", include_in_schema=False)
async def reject_application(
    request: AnyRequest, application_id: RecordId, data: Annotated[ReasonForm, FORM]
) -> Redirect:
    operator = await current_operator(request)
    applications = services_of(request).onboarding.applications
    return await form_action(
        request,
        back=application_url(application_id),
        run=applications.reject(operator, application_id, reason=data.reason),
        done="The application is rejected; the developer sees the reason.",
    )


# --- LNMO --------------------------------------------------------------------------------


@get("/lnmo/{lnmo_id:int}", include_in_schema=False)
async def lnmo_page(request: AnyRequest, lnmo_id: RecordId) -> Template:
    operator = await current_operator(request)
    lnmo = services_of(request).onboarding.lnmo
    record = await lnmo.get(operator, lnmo_id)
    due = lnmo.is_decidable(record)
    actions: tuple[str, ...] = ()
    if record.state is LnmoState.SUBMITTED:
        actions = ("review",)
    elif record.state is LnmoState.UNDER_REVIEW and due:
        actions = ("approve", "reject")
    return page(
        request,
        "admin/lnmo.html",
        operator=operator,
        record=record,
        decidable_at=lnmo.decidable_at(record),
        due=due,
        actions=actions,
        trail=await lnmo.audit_trail(operator, lnmo_id),
    )


@post("/lnmo/{lnmo_id:int}/review", include_in_schema=False)
async def review_lnmo(request: AnyRequest, lnmo_id: RecordId) -> Redirect:
    operator = await current_operator(request)
    lnmo = services_of(request).onboarding.lnmo
    return await form_action(
        request,
        back=lnmo_url(lnmo_id),
        run=lnmo.start_review(operator, lnmo_id),
        done="The LNMO application is under review.",
    )


@post("/lnmo/{lnmo_id:int}/approve", include_in_schema=False)
async def approve_lnmo(request: AnyRequest, lnmo_id: RecordId) -> Redirect:
    operator = await current_operator(request)
    lnmo = services_of(request).onboarding.lnmo
    return await form_action(
        request,
        back=lnmo_url(lnmo_id),
        run=lnmo.approve(operator, lnmo_id),
        done="Approved: the passkey is set in production and shown to the developer.",
    )


@post("/lnmo/{lnmo_id:int}/reject", include_in_schema=False)
async def reject_lnmo(
    request: AnyRequest, lnmo_id: RecordId, data: Annotated[ReasonForm, FORM]
) -> Redirect:
    operator = await current_operator(request)
    lnmo = services_of(request).onboarding.lnmo
    return await form_action(
        request,
        back=lnmo_url(lnmo_id),
        run=lnmo.reject(operator, lnmo_id, reason=data.reason),
        done="The LNMO application is rejected.",
    )


APPLICATION_HANDLERS = [
    application_page,
    document_download,
    review_application,
    approve_application,
    reject_application,
    lnmo_page,
    review_lnmo,
    approve_lnmo,
    reject_lnmo,
]
