"""Protection every page shares: CSRF tokens on forms."""

from __future__ import annotations

from litestar.config.csrf import CSRFConfig

from pesabox.settings import Settings

CSRF_COOKIE = "pesabox_csrf"
CSRF_HEADER = "x-csrftoken"
# Only the pages (/ui/...) take CSRF tokens. The Daraja and sandbox APIs are called by
# servers with bearer tokens or basic auth, not by browsers carrying cookies.
_NOT_UI = r"^/(?!ui/|$)"


def csrf_config(settings: Settings, secret: str) -> CSRFConfig:
    return CSRFConfig(
        secret=secret,
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_secure=settings.web_cookie_secure,
        cookie_samesite="lax",
        cookie_path="/ui",
        exclude=[_NOT_UI],
    )
