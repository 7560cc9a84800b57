"""The org portal's additions: the support contacts on its home page, and the change
requests page (CRQs name production organisations, so the sandbox portal points there)."""

from __future__ import annotations

from typing import Any

from pesabox.sandbox import fixtures
from tests.web_onboarding.conftest import post_form

PORTAL = "/ui/org/600996"


async def sign_in_to_portal(client: Any) -> None:
    reply = await post_form(
        client, "/ui/org/login", "/ui/org/login", shortcode="600996",
        username=fixtures.WEB_OPERATOR_NAME, password=fixtures.WEB_OPERATOR_PASSWORD,
    )  # fmt: skip
    assert reply.status_code == 200, reply.text


async def test_portal_home_shows_the_support_contacts(client: Any) -> None:
    await sign_in_to_portal(client)
    home = await client.get(PORTAL)
    assert "0722002222" in home.text and "apisupport@pesabox.example" in home.text
    assert f'href="{PORTAL}/crqs"' in home.text


async def test_portal_crqs_in_the_sandbox_point_to_production(client: Any) -> None:
    await sign_in_to_portal(client)
    page = await client.get(f"{PORTAL}/crqs")
    assert page.status_code == 200
    assert "concern production" in page.text and "0722002222" in page.text


async def test_portal_crqs_of_another_organisation_are_not_found(client: Any) -> None:
    await sign_in_to_portal(client)
    assert (await client.get("/ui/org/174379/crqs")).status_code == 404
