"""Change requests in the developer-facing onboarding API (HTTP Basic: the developer's e-mail
and password), under /onboarding/v1/change-requests:

    POST /                      raise a CRQ (go_live | url_change | certificate)
    GET  /{number}              the CRQ and its trail
    POST /{number}/confirm      the go-live code -> production keys (the secret shown once)
    POST /{number}/code         a new go-live code to the Business Administrator's phone
    POST /{number}/comments     a comment on the CRQ's trail {"text"}
    POST /{number}/withdraw     take it back before a decision
    GET  /{number}/certificate  the signed client certificate (PEM)

The service is the `change_requests` of the onboarding services in the app's state (see
api/routes/onboarding.py, which also authenticates the developer); an app without them
answers 404 here. A developer sees only its own CRQs.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from litestar import Response, Router, get, post
from litestar.params import FromPath

from pesabox.api.body import decode
from pesabox.api.routes.common import AnyRequest
from pesabox.api.routes.onboarding import ONBOARDING_STATE
from pesabox.api.routes.onboarding import _developer as authenticated_developer
from pesabox.api.schemas.change_requests import (
    ChangeRequestCreateRequest,
    CommentRequest,
    ConfirmRequest,
    change_request_out,
    event_out,
)
from pesabox.core.change_requests import ChangeRequestService
from pesabox.domain.change_requests import (
    Actor,
    ActorKind,
    ChangeRequest,
    ChangeRequestError,
    ChangeRequestNotFound,
    CodeRefused,
    IllegalTransition,
)
from pesabox.errors import PesaError, ResourceNotFound

T = TypeVar("T")
# A CRQ refusal as a Daraja-shaped error: (HTTP status, errorCode) by kind of refusal.
_REFUSALS: list[tuple[type[ChangeRequestError], int, str]] = [
    (ChangeRequestNotFound, 404, "404.001.01"),
    (IllegalTransition, 409, "409.001.01"),
    (CodeRefused, 403, "403.001.01"),
    (ChangeRequestError, 400, "400.002.02"),
]


def _service(request: AnyRequest) -> ChangeRequestService:
    held = request.app.state.get(ONBOARDING_STATE)
    service = getattr(held, "change_requests", None)
    if not isinstance(service, ChangeRequestService):
        raise ResourceNotFound()
    return service


async def _developer(request: AnyRequest) -> tuple[ChangeRequestService, Actor, int]:
    service = _service(request)
    developer = await authenticated_developer(request)
    return service, Actor(ActorKind.DEVELOPER, str(developer.id)), developer.id


async def _answer(work: Awaitable[T]) -> T:
    try:
        return await work
    except ChangeRequestError as refusal:
        status, code = next((s, c) for kind, s, c in _REFUSALS if isinstance(refusal, kind))
        raise PesaError(str(refusal), error_code=code, http_status=status) from None


async def _own(service: ChangeRequestService, number: str, developer_id: int) -> ChangeRequest:
    request = (await service.detail(number)).request
    if request.developer_id != developer_id:
        # Someone else's CRQ is as unknown as one that does not exist.
        raise ChangeRequestNotFound(f"there is no change request {number}")
    return request


@post("/", status_code=201)
async def submit_change_request(request: AnyRequest) -> dict[str, Any]:
    service, actor, developer_id = await _developer(request)
    body = await decode(request, ChangeRequestCreateRequest)

    async def work() -> dict[str, Any]:
        created = await service.submit(
            requester=actor, organisation_id=body.organisation(),
            shortcode=body.shortcode_text(), payload=body.to_payload(),
            developer_id=developer_id,
        )  # fmt: skip
        return change_request_out(created, (await service.detail(created.number)).trail)

    return await _answer(work())


@get("/{number:str}")
async def get_change_request(request: AnyRequest, number: FromPath[str]) -> dict[str, Any]:
    service, _, developer_id = await _developer(request)

    async def work() -> dict[str, Any]:
        await _own(service, number, developer_id)
        detail = await service.detail(number)
        return change_request_out(detail.request, detail.trail)

    return await _answer(work())


@post("/{number:str}/confirm", status_code=200)
async def confirm_go_live(request: AnyRequest, number: FromPath[str]) -> dict[str, Any]:
    service, actor, developer_id = await _developer(request)
    body = await decode(request, ConfirmRequest)

    async def work() -> dict[str, Any]:
        await _own(service, number, developer_id)
        code = body.code if isinstance(body.code, str) else ""
        keys = await service.confirm(number, code, actor)
        return {
            "number": keys.number,
            "app_id": keys.app_id,
            "consumer_key": keys.consumer_key,
            "consumer_secret": keys.consumer_secret,
            "note": "The consumer secret is shown once; keep it now.",
        }

    return await _answer(work())


@post("/{number:str}/code", status_code=202)
async def send_go_live_code(request: AnyRequest, number: FromPath[str]) -> dict[str, Any]:
    service, actor, developer_id = await _developer(request)

    async def work() -> dict[str, Any]:
        await _own(service, number, developer_id)
        await service.send_code(number, actor)
        return {"number": number, "sent": True}

    return await _answer(work())


@post("/{number:str}/comments", status_code=201)
async def comment_change_request(request: AnyRequest, number: FromPath[str]) -> dict[str, Any]:
    service, actor, developer_id = await _developer(request)
    body = await decode(request, CommentRequest)

    async def work() -> dict[str, Any]:
        await _own(service, number, developer_id)
        text = body.text if isinstance(body.text, str) else ""
        return event_out(await service.comment(number, actor, text))

    return await _answer(work())


@post("/{number:str}/withdraw", status_code=200)
async def withdraw_change_request(request: AnyRequest, number: FromPath[str]) -> dict[str, Any]:
    service, actor, developer_id = await _developer(request)

    async def work() -> dict[str, Any]:
        await _own(service, number, developer_id)
        withdrawn = await service.withdraw(number, actor)
        return change_request_out(withdrawn, (await service.detail(number)).trail)

    return await _answer(work())


@get("/{number:str}/certificate", media_type="application/x-pem-file")
async def download_certificate(request: AnyRequest, number: FromPath[str]) -> Response[str]:
    service, _, developer_id = await _developer(request)

    async def work() -> str:
        await _own(service, number, developer_id)
        return await service.certificate_pem(number)

    pem = await _answer(work())
    return Response(
        pem,
        media_type="application/x-pem-file",
        headers={"content-disposition": f'attachment; filename="{number}.pem"'},
    )


change_requests_router = Router(
    path="/onboarding/v1/change-requests",
    route_handlers=[
        submit_change_request,
        get_change_request,
        confirm_go_live,
        send_go_live_code,
        comment_change_request,
        withdraw_change_request,
        download_certificate,
    ],
    tags=["onboarding"],
)

__all__ = ["change_requests_router"]
