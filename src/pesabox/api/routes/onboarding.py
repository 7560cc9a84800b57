"""Onboarding's API for developers: sign up, then make, list and delete sandbox apps.

    POST   /onboarding/v1/developers        sign up (JSON: email, name, phone, password)
    POST   /onboarding/v1/apps              a sandbox app; its consumer secret shown once
    GET    /onboarding/v1/apps              the developer's apps (never their secrets)
    DELETE /onboarding/v1/apps/{app_id}     revoke one

The app routes take HTTP Basic with the developer's e-mail and password. The service is the
process-wide `OnboardingService`, found in the app's state under "onboarding" (set where
both Platforms are built); without one, the routes answer 404 like any unknown path.
Refusals come in Daraja's error envelope, their messages naming every wrong field.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from litestar import Router, delete, get, post
from litestar.params import FromPath

from pesabox.api.body import decode
from pesabox.api.routes.common import AnyRequest
from pesabox.api.schemas.onboarding import (
    AppCreateRequest,
    DeveloperSignUpRequest,
    app_out,
    developer_out,
)
from pesabox.core.onboarding import OnboardingService
from pesabox.domain.onboarding.errors import NotSignedIn, OnboardingError, OnboardingNotFound
from pesabox.errors import PesaError
from pesabox.storage.onboarding_store import DeveloperRecord

_CODES = {400: "400.002.02", 401: "401.002.01", 403: "403.001.01", 404: "404.001.01"}
_CODES[409] = "409.001.01"
_MAX_ID = 2**62
ONBOARDING_STATE = "onboarding"


class OnboardingApiError(PesaError):
    """An onboarding refusal in Daraja's envelope."""

    def __init__(self, refusal: OnboardingError) -> None:
        status = refusal.http_status
        super().__init__(str(refusal), error_code=_CODES.get(status, "400.002.02"),
                         http_status=status)  # fmt: skip


def onboarding_of(request: AnyRequest) -> OnboardingService:
    # The app's state holds the process's onboarding services (`create_app(onboarding=...)`,
    # an object whose `.onboarding` is this service) or, in tests, the service itself.
    held = request.app.state.get(ONBOARDING_STATE)
    service = held if isinstance(held, OnboardingService) else getattr(held, "onboarding", None)
    if not isinstance(service, OnboardingService):
        raise PesaError("Resource not found", error_code="404.001.01", http_status=404)
    return service


def _basic(request: AnyRequest) -> tuple[str, str]:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    email, separator, password = decoded.partition(":")
    if scheme.lower() != "basic" or not separator:
        raise OnboardingApiError(
            NotSignedIn("send HTTP Basic credentials: your e-mail and password")
        )
    return email, password


async def _developer(request: AnyRequest) -> DeveloperRecord:
    email, password = _basic(request)
    try:
        return await onboarding_of(request).accounts.authenticate_developer(
            email=email, password=password
        )
    except OnboardingError as refusal:
        raise OnboardingApiError(refusal) from None


@post("/developers", status_code=201)
async def sign_up(request: AnyRequest) -> dict[str, Any]:
    body = await decode(request, DeveloperSignUpRequest)
    try:
        developer = await onboarding_of(request).accounts.sign_up(
            email=body.email, name=body.name, phone=body.phone, password=body.password
        )
    except OnboardingError as refusal:
        raise OnboardingApiError(refusal) from None
    return developer_out(developer)


@post("/apps", status_code=201)
async def create_app(request: AnyRequest) -> dict[str, Any]:
    developer = await _developer(request)
    body = await decode(request, AppCreateRequest)
    try:
        made = await onboarding_of(request).accounts.create_app(
            developer, name=body.name, products=body.products
        )
    except OnboardingError as refusal:
        raise OnboardingApiError(refusal) from None
    return app_out(made.app, consumer_secret=made.consumer_secret)


@get("/apps")
async def list_apps(request: AnyRequest) -> dict[str, Any]:
    developer = await _developer(request)
    apps = await onboarding_of(request).accounts.list_apps(developer)
    return {"apps": [app_out(app) for app in apps]}


@delete("/apps/{app_id:int}", status_code=200)
async def delete_app(request: AnyRequest, app_id: FromPath[int]) -> dict[str, Any]:
    developer = await _developer(request)
    if not 0 < app_id < _MAX_ID:
        raise OnboardingApiError(OnboardingNotFound(f"you have no app {app_id}"))
    try:
        await onboarding_of(request).accounts.delete_app(developer, app_id)
    except OnboardingError as refusal:
        raise OnboardingApiError(refusal) from None
    return {"deleted": app_id}


onboarding_router = Router(
    path="/onboarding/v1",
    route_handlers=[sign_up, create_app, list_apps, delete_app],
    tags=["onboarding"],
)
