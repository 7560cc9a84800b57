"""One browser on both environments: cookies go by host, not port, so the sandbox's and
production's pages see each other's cookies and must not trip over them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from pesabox.sandbox import fixtures
from pesabox.serving.environments import build_environments
from tests.serving.asgi_tls import presenting
from tests.serving.world import build_world
from tests.serving.world_settings import sqlite_settings

SANDBOX_URL = "https://127.0.0.1:8000"
PRODUCTION_URL = "https://127.0.0.1:9443"
PAYBILL = "600996"
_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[tuple[Any, Any]]:
    """The sandbox's and production's test clients, sharing one cookie jar as a browser
    does for one host."""
    # Cookies without Secure, as a browser on plain-http loopback would be sent them.
    settings = sqlite_settings(tmp_path).model_copy(update={"web_cookie_secure": False})
    build_world(settings)
    served = build_environments(settings)
    jar = CookieJar()
    async with (
        AsyncTestClient(app=served["sandbox"].app, base_url=SANDBOX_URL) as sandbox,  # type: ignore[type-var]
        AsyncTestClient(
            # Production's listener is TLS-only; a browser presents no client certificate.
            app=presenting(served["production"].app, None),
            base_url=PRODUCTION_URL,
        ) as production,  # type: ignore[type-var]
    ):
        # httpx keeps a CookieJar it is given, so both clients read and write this one.
        sandbox.cookies = jar
        production.cookies = jar
        yield sandbox, production


async def sign_in(client: Any) -> Any:
    page = await client.get("/ui/org/login")
    assert page.status_code == 200
    token = _CSRF.search(page.text)
    assert token, "no CSRF token in the page"
    return await client.post(
        "/ui/org/login",
        data={
            "_csrf_token": token.group(1),
            "shortcode": PAYBILL,
            "username": fixtures.WEB_OPERATOR_NAME,
            "password": fixtures.WEB_OPERATOR_PASSWORD,
        },
        follow_redirects=False,
    )


async def test_a_form_from_one_environment_posts_after_a_page_of_the_other(
    browser: tuple[Any, Any],
) -> None:
    sandbox, production = browser
    assert (await sandbox.get("/ui/org/login")).status_code == 200
    reply = await sign_in(production)
    assert reply.status_code == 303, reply.text
    assert reply.headers["location"] == f"/ui/org/{PAYBILL}"


async def test_signed_into_both_portals_at_once(browser: tuple[Any, Any]) -> None:
    sandbox, production = browser
    assert (await sign_in(sandbox)).status_code == 303
    assert (await sign_in(production)).status_code == 303
    for client in (sandbox, production):
        home = await client.get(f"/ui/org/{PAYBILL}", follow_redirects=False)
        assert home.status_code == 200, client.base_url
    names = {cookie.name for cookie in browser[0].cookies.jar}
    assert {"pesabox_org_session", "pesabox_org_session_production"} <= names
