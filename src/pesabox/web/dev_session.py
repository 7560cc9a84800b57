"""/ui/dev's accounts: signing up, signing in and out, and who is signed in (a session cookie
scoped to /ui/dev, like the org portal's to /ui/org)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import get, post
from litestar.response import Redirect, Template

from pesabox.core.onboarding_services import DeveloperRecord
from pesabox.domain.onboarding.errors import OnboardingError
from pesabox.web.dev_common import (
    FORM,
    SignInForm,
    SignInNeeded,
    problems_of,
    refusal_text,
    services_of,
    session_cookie,
)
from pesabox.web.pages import AnyRequest, Notice, page, redirect

DEV = "/ui/dev"
LOGIN = "/ui/dev/login"
SIGN_UP = "/ui/dev/signup"
SESSION_COOKIE = "pesabox_dev_session"


@dataclass
class SignUpForm:
    email: str = ""
    name: str = ""
    phone: str = ""
    password: str = ""


async def current_developer(request: AnyRequest) -> DeveloperRecord:
    accounts = services_of(request).onboarding.accounts
    developer = await accounts.developer_session(request.cookies.get(SESSION_COOKIE))
    if developer is None:
        raise SignInNeeded(LOGIN)
    return developer


def _signed_in(request: AnyRequest, token: str, notice: Notice | None = None) -> Redirect:
    response = redirect(request, DEV, notice)
    response.set_cookie(session_cookie(request, name=SESSION_COOKIE, value=token, path=DEV))
    return response


@get("/signup", include_in_schema=False)
async def sign_up_page(request: AnyRequest) -> Template:
    services_of(request)
    return page(request, "dev/signup.html", form=SignUpForm(), problems=[])


@post("/signup", include_in_schema=False)
async def sign_up(request: AnyRequest, data: Annotated[SignUpForm, FORM]) -> Template | Redirect:
    accounts = services_of(request).onboarding.accounts
    try:
        developer = await accounts.sign_up(
            email=data.email, name=data.name, phone=data.phone, password=data.password
        )
        token = await accounts.sign_in_developer(email=developer.email, password=data.password)
    except OnboardingError as error:
        # The form comes back filled in (all but the password), with every problem listed.
        data.password = ""
        template = page(request, "dev/signup.html", form=data, problems=problems_of(error))
        template.status_code = error.http_status
        return template
    return _signed_in(request, token, Notice(f"Welcome, {developer.name}: your account is ready."))


@get("/login", include_in_schema=False)
async def login_page(request: AnyRequest) -> Template:
    services_of(request)
    return page(request, "dev/login.html")


@post("/login", include_in_schema=False)
async def login(request: AnyRequest, data: Annotated[SignInForm, FORM]) -> Redirect:
    accounts = services_of(request).onboarding.accounts
    try:
        token = await accounts.sign_in_developer(email=data.email, password=data.password)
    except OnboardingError as error:
        return redirect(request, LOGIN, Notice(refusal_text(error), "error"))
    return _signed_in(request, token)


@post("/logout", include_in_schema=False)
async def logout(request: AnyRequest) -> Redirect:
    await services_of(request).onboarding.accounts.sign_out(request.cookies.get(SESSION_COOKIE))
    response = redirect(request, LOGIN, Notice("You have signed out."))
    response.delete_cookie(SESSION_COOKIE, path=DEV)
    return response


SESSION_HANDLERS = [sign_up_page, sign_up, login_page, login, logout]
