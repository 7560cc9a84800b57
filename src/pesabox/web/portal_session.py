"""The org portal's session plumbing and its sign-in pages: who is signed in, what every
signed-in page shows, and how a missing session, a foreign shortcode or a missing role is
answered (to the sign-in page, 404, 403)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Response, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect, Template

from pesabox.core.org_portal import OrgPortalService, PortalForbidden, PortalNotFound
from pesabox.domain.portal_roles import ADMINISTER_ROLES, MOVE_FUNDS_ROLES, WITHDRAW_ROLES
from pesabox.security.web_sessions import PortalSession, session_cookie_name
from pesabox.web.pages import AnyRequest, Notice, page, platform_of, redirect

LOGIN = "/ui/org/login"
# Every form posts URL-encoded fields.
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
_COOKIE_PATH = "/ui/org"


class SignInNeeded(Exception):
    """No live session: the browser goes to the sign-in page."""


@dataclass
class SignInForm:
    shortcode: str = ""
    username: str = ""
    password: str = ""


def _cookie_name(request: AnyRequest) -> str:
    return session_cookie_name(platform_of(request).settings.environment)


async def current_session(request: AnyRequest) -> PortalSession:
    token = request.cookies.get(_cookie_name(request))
    session = await platform_of(request).portal_sessions.resolve(token)
    if session is None:
        raise SignInNeeded
    return session


async def shortcode_session(
    request: AnyRequest, shortcode: str
) -> tuple[PortalSession, OrgPortalService]:
    """The signed-in session, once `shortcode` is its organisation's (else PortalNotFound),
    with the portal service the page asks next."""
    session = await current_session(request)
    portal = platform_of(request).org_portal
    portal.own_shortcode(session, shortcode)
    return session, portal


def signed_in_context(session: PortalSession, shortcode: str, section: str) -> dict[str, Any]:
    """What every signed-in page shows: who, which shortcode, what they may do."""
    return {
        "session": session,
        "shortcode": shortcode,
        "section": section,
        "can_move": session.has_any(MOVE_FUNDS_ROLES),
        "can_withdraw": session.has_any(WITHDRAW_ROLES),
        "can_administer": session.has_any(ADMINISTER_ROLES),
    }


def new_form_key() -> str:
    """A money-moving form's one-time key: the same form sent twice moves money once."""
    return secrets.token_urlsafe(24)


def home_url(shortcode: str) -> str:
    return f"/ui/org/{shortcode}"


@get("/", include_in_schema=False)
async def portal_root(request: AnyRequest) -> Redirect:
    session = await current_session(request)
    return Redirect(path=home_url(session.shortcode), status_code=303)


@get("/switch", include_in_schema=False)
async def switch_shortcode(
    request: AnyRequest, to: Annotated[str, QueryParameter()] = ""
) -> Redirect:
    session = await current_session(request)
    platform_of(request).org_portal.own_shortcode(session, to)
    return Redirect(path=home_url(to), status_code=303)


@get("/login", include_in_schema=False)
async def login_page(request: AnyRequest) -> Template:
    return page(request, "portal/login.html")


@post("/login", include_in_schema=False)
async def login(
    request: AnyRequest,
    data: Annotated[SignInForm, FORM],
) -> Redirect:
    platform = platform_of(request)
    result = await platform.portal_sessions.sign_in(
        shortcode=data.shortcode, username=data.username, password=data.password
    )
    if result.token is None:
        return redirect(request, LOGIN, Notice(result.refusal or "Sign-in refused.", "error"))
    response = redirect(request, home_url(data.shortcode.strip()))
    response.set_cookie(
        Cookie(
            key=_cookie_name(request),
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
    cookie = _cookie_name(request)
    await platform_of(request).portal_sessions.sign_out(request.cookies.get(cookie))
    response = redirect(request, LOGIN, Notice("You have signed out."))
    response.delete_cookie(cookie, path=_COOKIE_PATH)
    return response


# --- refusals ----------------------------------------------------------------------------


def signed_out(request: AnyRequest, _: SignInNeeded) -> Response[Any]:
    if request.method == "GET":
        return redirect(request, LOGIN)
    return redirect(request, LOGIN, Notice("Your session has ended; sign in again.", "error"))


def not_found(request: AnyRequest, _: PortalNotFound) -> Response[Any]:
    template = page(request, "portal/refused.html", status=404, reason="Not found.")
    template.status_code = 404
    return template


def forbidden(request: AnyRequest, error: PortalForbidden) -> Response[Any]:
    template = page(request, "portal/refused.html", status=403, reason=f"Not allowed: {error}.")
    template.status_code = 403
    return template
