"""/ui/admin's change requests: the queue (filtered by state and kind), one CRQ with its
details and audit trail, the decisions its state allows, and comments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from pesabox.domain.change_requests import Kind, State
from pesabox.web.admin_session import current_operator, operator_actor
from pesabox.web.dev_common import FORM, CommentForm, ReasonForm, form_action, services_of
from pesabox.web.pages import AnyRequest, page

QUEUE_ROWS = 200


@dataclass
class ApprovalForm:
    text: str = ""


def crq_url(number: str) -> str:
    return f"/ui/admin/crqs/{number}"


def crq_actions(state: State, kind: Kind) -> tuple[str, ...]:
    """What the console offers; the service refuses anything else."""
    if state is State.SUBMITTED:
        return ("review",)
    if state is State.IN_REVIEW:
        return ("approve", "reject")
    if state is State.APPROVED:
        # A go-live waits for its code (a new one may be sent); the others are implemented
        # at once, and "implement" retries one a failure cut short.
        return ("code",) if kind is Kind.GO_LIVE else ("implement",)
    return ()


@get("/crqs", include_in_schema=False)
async def crq_queue(
    request: AnyRequest,
    state_filter: Annotated[str, QueryParameter(name="state")] = "",
    kind_filter: Annotated[str, QueryParameter(name="kind")] = "",
) -> Template:
    operator = await current_operator(request)
    # An unknown value filters nothing, as an empty one does.
    chosen_state = State(state_filter) if state_filter in set(State) else None
    chosen_kind = Kind(kind_filter) if kind_filter in set(Kind) else None
    queue = await services_of(request).change_requests.queue(
        state=chosen_state, kind=chosen_kind, limit=QUEUE_ROWS
    )
    return page(
        request,
        "admin/crqs.html",
        operator=operator,
        crqs=queue,
        states=list(State),
        kinds=list(Kind),
        chosen_state=chosen_state,
        chosen_kind=chosen_kind,
    )


@get("/crqs/{number:str}", include_in_schema=False)
async def crq_page(request: AnyRequest, number: FromPath[str]) -> Template:
    operator = await current_operator(request)
    detail = await services_of(request).change_requests.detail(number)
    return page(
        request,
        "admin/crq.html",
        operator=operator,
        change=detail.request,
        trail=detail.trail,
        actions=crq_actions(detail.request.state, detail.request.kind),
    )


@post("/crqs/{number:str}/review", include_in_schema=False)
async def review(request: AnyRequest, number: FromPath[str]) -> Redirect:
    operator = await current_operator(request)
    crqs = services_of(request).change_requests
    return await form_action(
        request,
        back=crq_url(number),
        run=crqs.review(number, operator_actor(operator)),
        done=f"{number} is in review.",
    )


@post("/crqs/{number:str}/approve", include_in_schema=False)
async def approve(
    request: AnyRequest, number: FromPath[str], data: Annotated[ApprovalForm, FORM]
) -> Redirect:
    operator = await current_operator(request)
    crqs = services_of(request).change_requests
    return await form_action(
        request,
        back=crq_url(number),
        run=crqs.approve(number, operator_actor(operator), data.text),
        done=f"{number} is approved.",
    )


@post("/crqs/{number:str}/reject", include_in_schema=False)
async def reject(
    request: AnyRequest, number: FromPath[str], data: Annotated[ReasonForm, FORM]
) -> Redirect:
    operator = await current_operator(request)
    crqs = services_of(request).change_requests
    return await form_action(
        request,
        back=crq_url(number),
        run=crqs.reject(number, operator_actor(operator), data.reason),
        done=f"{number} is rejected.",
    )


@post("/crqs/{number:str}/implement", include_in_schema=False)
async def implement(request: AnyRequest, number: FromPath[str]) -> Redirect:
    await current_operator(request)
    crqs = services_of(request).change_requests
    return await form_action(
        request, back=crq_url(number), run=crqs.implement(number), done=f"{number} is implemented."
    )


@post("/crqs/{number:str}/code", include_in_schema=False)
async def send_code(request: AnyRequest, number: FromPath[str]) -> Redirect:
    operator = await current_operator(request)
    crqs = services_of(request).change_requests
    return await form_action(
        request,
        back=crq_url(number),
        run=crqs.send_code(number, operator_actor(operator)),
        done="A new code is on its way to the Business Administrator's phone.",
    )


@post("/crqs/{number:str}/comment", include_in_schema=False)
async def comment(
    request: AnyRequest, number: FromPath[str], data: Annotated[CommentForm, FORM]
) -> Redirect:
    operator = await current_operator(request)
    crqs = services_of(request).change_requests
    return await form_action(
        request,
        back=crq_url(number),
        run=crqs.comment(number, operator_actor(operator), data.text),
        done="Your comment is added.",
    )


CRQ_HANDLERS = [crq_queue, crq_page, review, approve, reject, implement, send_code, comment]
