"""What the onboarding areas (/ui/dev for developers, /ui/admin for platform operators)
share: the process's onboarding services, their session cookies, answering a form with a
notice, and the pages that refuse (not signed in, not found, onboarding not served).

Refusals of the services (OnboardingError, ChangeRequestError) carry a message meant for the
person who asked, so a refused form goes back to its page with that message as is.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Response
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.params import Body, Parameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_413_REQUEST_ENTITY_TOO_LARGE
from litestar.types import ExceptionHandlersMap

from pesabox.core.onboarding_services import ONBOARDING_STATE, OnboardingServices
from pesabox.domain.change_requests import ChangeRequestError, ChangeRequestNotFound
from pesabox.domain.onboarding.errors import OnboardingError, OnboardingNotFound
from pesabox.web.pages import AnyRequest, Notice, page, platform_of, redirect

# Record ids in paths: positive and within the database's 64-bit integers, else the page
# answers 400 (an id past that would reach the database and fail there).
ID_MAX = 2**63 - 1
RecordId = Annotated[int, Parameter(ge=1, le=ID_MAX)]
# Every plain form posts URL-encoded fields; the upload forms read multipart themselves.
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
REFUSALS = (OnboardingError, ChangeRequestError)
# Uploads (documents, CSRs) may be far larger than the app's default body limit, on their
# own routes only: every document at its limit, plus the form's fields.
UPLOAD_BODY_BYTES_MAX = 21 * 1024 * 1024
CSR_BODY_BYTES_MAX = 64 * 1024


class OnboardingNotServed(Exception):
    """This process does not serve production, so there is nothing to onboard onto."""


class SignInNeeded(Exception):
    """No live session for this area: the browser goes to its sign-in page."""

    def __init__(self, login_url: str) -> None:
        super().__init__(login_url)
        self.login_url = login_url


@dataclass
class SignInForm:
    email: str = ""
    username: str = ""
    password: str = ""


@dataclass
class ReasonForm:
    reason: str = ""


@dataclass
class CommentForm:
    text: str = ""


def services_of(request: AnyRequest) -> OnboardingServices:
    services: OnboardingServices | None = request.app.state.get(ONBOARDING_STATE)
    if services is None:
        raise OnboardingNotServed
    return services


def session_cookie(request: AnyRequest, *, name: str, value: str, path: str) -> Cookie:
    return Cookie(
        key=name,
        value=value,
        path=path,
        httponly=True,
        secure=platform_of(request).settings.web_cookie_secure,
        samesite="lax",
    )


async def form_action(
    request: AnyRequest, *, back: str, run: Awaitable[object], done: str
) -> Redirect:
    """Run one form's service call: back to `back` with `done`, or with the refusal."""
    try:
        await run
    except REFUSALS as error:
        return redirect(request, back, Notice(refusal_text(error), "error"))
    return redirect(request, back, Notice(done))


def refusal_text(error: Exception) -> str:
    text = str(error)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def problems_of(error: Exception) -> list[str]:
    """A refusal listing several problems ("a; b; c"), one sentence each."""
    return [refusal_text(Exception(part)) for part in str(error).split("; ") if part]


def support_context(request: AnyRequest) -> dict[str, str]:
    settings = platform_of(request).settings
    return {"support_phone": settings.support_phone, "support_email": settings.support_email}


# --- refusals ----------------------------------------------------------------------------


def _refused(request: AnyRequest, status: int, reason: str) -> Response[Any]:
    template = page(request, "dev/refused.html", status=status, reason=reason)
    template.status_code = status
    return template


def signed_out(request: AnyRequest, error: SignInNeeded) -> Response[Any]:
    """A page without a session goes to the sign-in page; a form posted without one is
    refused (403), nothing done: it may be forged, and its effect must not wait for a
    sign-in. The page says where to sign in."""
    if request.method == "GET":
        return redirect(request, error.login_url)
    template = page(
        request, "dev/refused.html", status=403, reason="Your session has ended; sign in again.",
        login_url=error.login_url,
    )  # fmt: skip
    template.status_code = 403
    return template


def not_found(request: AnyRequest, error: Exception) -> Response[Any]:
    return _refused(request, 404, refusal_text(error))


def refused(request: AnyRequest, error: Exception) -> Response[Any]:
    """Any other refusal on a page: its status (400, 403, 409) and its message."""
    return _refused(request, int(getattr(error, "http_status", 400)), refusal_text(error))


def too_large(request: AnyRequest, _: Exception) -> Response[Any]:
    """A body over its route's limit (413), as a page rather than the API's error."""
    limit_mb = UPLOAD_BODY_BYTES_MAX // (1024 * 1024)
    return _refused(
        request,
        413,
        f"That is too much to send at once: documents add up to at most {limit_mb} MB.",
    )


def bad_input(request: AnyRequest, _: ValidationException) -> Response[Any]:
    return _refused(request, 400, "That address or form holds a value out of range.")


def not_served(request: AnyRequest, _: OnboardingNotServed) -> Response[Any]:
    return _refused(
        request,
        503,
        "Onboarding needs both environments: serve PESABOX_ENVIRONMENTS=sandbox,production.",
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    SignInNeeded: signed_out,
    OnboardingNotFound: not_found,
    ChangeRequestNotFound: not_found,
    OnboardingNotServed: not_served,
    ValidationException: bad_input,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE: too_large,
    OnboardingError: refused,
    ChangeRequestError: refused,
}
