"""The phone pages render every screen, through the real app (the browser suite drives them)."""

from __future__ import annotations

import pytest

from tests.api.conftest import Gateway

JOHN = "254708374149"
SCREENS = [
    "menu", "send", "paybill", "buygoods", "airtime", "account",
    "bonga", "bonga-pin", "bonga-transfer", "bonga-bundle",
]  # fmt: skip


async def test_phones_page_lists_the_seeded_customers(gateway: Gateway) -> None:
    reply = await gateway.client.get("/ui/phones")
    assert reply.status_code == 200
    assert f'href="/ui/phone/{JOHN}"' in reply.text
    assert 'name="national_id"' in reply.text


@pytest.mark.parametrize("screen", SCREENS)
async def test_phone_page_renders_each_screen(gateway: Gateway, screen: str) -> None:
    reply = await gateway.client.get(f"/ui/phone/{JOHN}", params={"screen": screen})
    assert reply.status_code == 200, reply.text
    assert "John Doe" in reply.text
    assert 'id="screen-title"' in reply.text


async def test_phone_page_for_an_unknown_number_goes_back_to_the_list(
    gateway: Gateway,
) -> None:
    reply = await gateway.client.get("/ui/phone/254799999999", follow_redirects=False)
    assert reply.status_code == 303
    assert reply.headers["location"] == "/ui/phones"
