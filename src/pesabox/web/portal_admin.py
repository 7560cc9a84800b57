"""The org portal's administration pages: operators (create API operators, set passwords,
unlock), the registered C2B URLs with the validation switch, and the SecurityCredential
helper. Each action is refused by the service unless the operator is a Business
Administrator of the shortcode's organisation."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Annotated, Any

from litestar import get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from pesabox.domain.operators import API_ROLES, OperatorRole, OperatorRuleError
from pesabox.web.pages import AnyRequest, Notice, page, platform_of, redirect
from pesabox.web.portal_session import FORM, current_session, shortcode_session, signed_in_context


@dataclass
class NewOperatorForm:
    shortcode: str = ""
    username: str = ""
    password: str = ""
    # One checked box arrives as a string, several as a list.
    roles: list[str] | str = field(default_factory=list)


@dataclass
class PasswordForm:
    operator: str = ""
    password: str = ""


@dataclass
class OperatorForm:
    operator: str = ""


@dataclass
class SwitchForm:
    switch: str = ""


@dataclass
class CredentialForm:
    password: str = ""


def _operator_key(text: str) -> tuple[str, str]:
    """`shortcode/username` from the operator select."""
    shortcode, _, username = text.partition("/")
    return shortcode, username


@get("/{shortcode:str}/operators", include_in_schema=False)
async def operators_page(request: AnyRequest, shortcode: FromPath[str]) -> Template:
    session, portal = await shortcode_session(request, shortcode)
    return page(
        request,
        "portal/operators.html",
        operators=await portal.operators(session),
        api_roles=[role for role in OperatorRole if role in API_ROLES],
        **signed_in_context(session, shortcode, "operators"),
    )


async def _operator_action(
    request: AnyRequest, shortcode: str, action: Awaitable[Any], done: str
) -> Redirect:
    back = f"/ui/org/{shortcode}/operators"
    try:
        await action
    except OperatorRuleError as error:
        return redirect(request, back, Notice(f"Refused: {error}.", "error"))
    return redirect(request, back, Notice(done))


@post("/{shortcode:str}/operators", include_in_schema=False)
async def add_operator(
    request: AnyRequest,
    shortcode: FromPath[str],
    data: Annotated[NewOperatorForm, FORM],
) -> Redirect:
    session = await current_session(request)
    roles = [data.roles] if isinstance(data.roles, str) else data.roles
    action = platform_of(request).org_portal.add_api_operator(
        session,
        data.shortcode or shortcode,
        username=data.username,
        roles=roles,
        password=data.password,
    )
    return await _operator_action(
        request, shortcode, action, f"API operator {data.username.strip()} created."
    )


@post("/{shortcode:str}/operators/password", include_in_schema=False)
async def set_password(
    request: AnyRequest,
    shortcode: FromPath[str],
    data: Annotated[PasswordForm, FORM],
) -> Redirect:
    session = await current_session(request)
    code, username = _operator_key(data.operator)
    action = platform_of(request).org_portal.set_password(
        session, code, username=username, password=data.password
    )
    return await _operator_action(
        request, shortcode, action, f"New password set for {username}; it is unlocked."
    )


@post("/{shortcode:str}/operators/unlock", include_in_schema=False)
async def unlock(
    request: AnyRequest,
    shortcode: FromPath[str],
    data: Annotated[OperatorForm, FORM],
) -> Redirect:
    session = await current_session(request)
    code, username = _operator_key(data.operator)
    action = platform_of(request).org_portal.unlock(session, code, username=username)
    return await _operator_action(request, shortcode, action, f"{username} is unlocked.")


@get("/{shortcode:str}/c2b", include_in_schema=False)
async def c2b_page(request: AnyRequest, shortcode: FromPath[str]) -> Template:
    session, portal = await shortcode_session(request, shortcode)
    records = await portal.shortcode_records(session)
    registrations = {
        record.shortcode: await portal.registration(session, record.shortcode) for record in records
    }
    return page(
        request,
        "portal/c2b.html",
        records=records,
        registrations=registrations,
        **signed_in_context(session, shortcode, "c2b"),
    )


@post("/{shortcode:str}/c2b/{target:str}/validation", include_in_schema=False)
async def validation_switch(
    request: AnyRequest,
    shortcode: FromPath[str],
    target: FromPath[str],
    data: Annotated[SwitchForm, FORM],
) -> Redirect:
    session = await current_session(request)
    on = data.switch == "on"
    await platform_of(request).org_portal.set_validation(session, target, on=on)
    state = "on" if on else "off"
    return redirect(
        request, f"/ui/org/{shortcode}/c2b", Notice(f"Validation on {target} is {state}.")
    )


@get("/{shortcode:str}/credential", include_in_schema=False)
async def credential_page(request: AnyRequest, shortcode: FromPath[str]) -> Template:
    session, _ = await shortcode_session(request, shortcode)
    return page(
        request,
        "portal/credential.html",
        credential=None,
        environment_name=platform_of(request).settings.environment,
        **signed_in_context(session, shortcode, "credential"),
    )


@post("/{shortcode:str}/credential", include_in_schema=False)
async def make_credential(
    request: AnyRequest,
    shortcode: FromPath[str],
    data: Annotated[CredentialForm, FORM],
) -> Template:
    session, portal = await shortcode_session(request, shortcode)
    credential, error = None, None
    try:
        credential = await portal.security_credential(data.password)
    except OperatorRuleError as refusal:
        error = str(refusal)
    return page(
        request,
        "portal/credential.html",
        credential=credential,
        error=error,
        environment_name=platform_of(request).settings.environment,
        **signed_in_context(session, shortcode, "credential"),
    )


ADMIN_HANDLERS = [
    operators_page,
    add_operator,
    set_password,
    unlock,
    c2b_page,
    validation_switch,
    credential_page,
    make_credential,
]
