"""/ui/admin's sign-in: platform operators (made with the onboarding service, by username)
and their session cookie, scoped to /ui/admin."""

from __future__ import annotations

from typing import Annotated

from litestar import get, post
from litestar.response import Redirect, Template

from pesabox.core.onboarding_services import PlatformOperatorRecord
from pesabox.domain.change_requests import Actor, ActorKind
from pesabox.domain.onboarding.errors import OnboardingError
from pesabox.web.dev_common import (
    FORM,
    SignInForm,
    SignInNeeded,
    refusal_text,
    services_of,
    session_cookie,
)
from pesabox.web.pages import AnyRequest, Notice, page, redirect

ADMIN = "/ui/admin"
LOGIN = "/ui/admin/login"
SESSION_COOKIE = "pesabox_admin_session"


async def current_operator(request: AnyRequest) -> PlatformOperatorRecord:
    accounts = services_of(request).onboarding.accounts
    operator = await accounts.operator_session(request.cookies.get(SESSION_COOKIE))
    if operator is None:
        raise SignInNeeded(LOGIN)
    return operator


def operator_actor(operator: PlatformOperatorRecord) -> Actor:
    return Actor(ActorKind.PLATFORM_OPERATOR, operator.username)


@get("/login", include_in_schema=False)
async def login_page(request: AnyRequest) -> Template:
    services_of(request)
    return page(request, "admin/login.html")


@post("/login", include_in_schema=False)
async def login(request: AnyRequest, data: Annotated[SignInForm, FORM]) -> Redirect:
    accounts = services_of(request).onboarding.accounts
    try:
        token = await accounts.sign_in_operator(username=data.username, password=data.password)
    except OnboardingError as error:
        return redirect(request, LOGIN, Notice(refusal_text(error), "error"))
    response = redirect(request, ADMIN)
    response.set_cookie(session_cookie(request, name=SESSION_COOKIE, value=token, path=ADMIN))
    return response


@post("/logout", include_in_schema=False)
async def logout(request: AnyRequest) -> Redirect:
    await services_of(request).onboarding.accounts.sign_out(request.cookies.get(SESSION_COOKIE))
    response = redirect(request, LOGIN, Notice("You have signed out."))
    response.delete_cookie(SESSION_COOKIE, path=ADMIN)
    return response


SESSION_HANDLERS = [login_page, login, logout]
