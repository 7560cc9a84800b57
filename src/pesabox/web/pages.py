"""What every page handler needs: rendering with the shared context, notices that survive a
redirect, and the platform of the running app."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from pesabox.core.platform import Platform

AnyRequest = Request[Any, Any, Any]
NOTICE_COOKIE = "pesabox_notice"
# A notice is shown by the page the redirect lands on, so it only has to live a moment.
_NOTICE_MAX_AGE_S = 60


@dataclass(frozen=True, slots=True)
class Notice:
    text: str
    # "" for success, "error" for a refusal.
    kind: str = ""


def platform_of(request: AnyRequest) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def page(request: AnyRequest, template: str, **context: Any) -> Template:
    """Render `template` with what base.html needs; a pending notice is shown once."""
    platform = platform_of(request)
    flashes = _pending_notices(request)
    response = Template(
        template_name=template,
        context={
            "environment": platform.settings.environment,
            "flashes": flashes,
            "request": request,
            **context,
        },
        headers={"cache-control": "no-store"},
    )
    if flashes:
        response.delete_cookie(NOTICE_COOKIE, path="/ui")
    return response


def fragment(request: AnyRequest, template: str, **context: Any) -> Template:
    """Part of a page, fetched by live.js when a stream says it changed."""
    return Template(
        template_name=template,
        context={"environment": platform_of(request).settings.environment, **context},
        headers={"cache-control": "no-store"},
    )


def redirect(request: AnyRequest, to: str, notice: Notice | None = None) -> Redirect:
    """Answer a form POST by sending the browser back to a page (POST, redirect, GET), with
    an optional notice for that page to show."""
    cookies = []
    if notice is not None:
        value = json.dumps({"text": notice.text, "kind": notice.kind})
        cookies.append(
            Cookie(
                key=NOTICE_COOKIE,
                value=value,
                path="/ui",
                max_age=_NOTICE_MAX_AGE_S,
                httponly=True,
                secure=platform_of(request).settings.web_cookie_secure,
                samesite="lax",
            )
        )
    return Redirect(path=to, status_code=303, cookies=cookies)


def _pending_notices(request: AnyRequest) -> list[Notice]:
    raw = request.cookies.get(NOTICE_COOKIE)
    if not raw:
        return []
    try:
        data = json.loads(raw)
        return [Notice(text=str(data["text"]), kind=str(data.get("kind", "")))]
    except (ValueError, KeyError, TypeError):
        return []
