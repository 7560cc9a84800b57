"""The sandbox clock page: the time shown, and moving it on from the keyboard."""

from __future__ import annotations

from datetime import datetime

import httpx
from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_usable
from tests.browser.conftest import NARROW, Screenshot
from tests.e2e import PesaboxServer


def _offset_s(server: PesaboxServer) -> float:
    reply = httpx.get(f"{server.base_url}/sandbox/v1/clock")
    offset: float = reply.json()["offset_s"]
    return offset


def test_advancing_a_day_from_the_keyboard_moves_the_shared_clock(
    page: Page, ui_server: PesaboxServer, screenshot: Screenshot
) -> None:
    page.goto("/ui/clock")
    expect(page.locator("#sandbox-time")).to_contain_text("EAT")
    assert_usable(page)
    page.get_by_role("button", name="Advance a day").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("moved on a day")
    assert 86_400 <= _offset_s(ui_server) < 86_400 + 5
    screenshot(page, "after-a-day")


def test_the_next_business_morning_is_eight_o_clock_on_a_working_day(
    page: Page, ui_server: PesaboxServer
) -> None:
    page.goto("/ui/clock")
    page.get_by_role("button", name="Advance the next business morning").click()
    expect(page.get_by_role("status")).to_contain_text("next business morning")
    shown = page.locator("#sandbox-time").inner_text()
    moved_to = datetime.strptime(shown.removesuffix(" EAT"), "%A %d %B %Y, %H:%M:%S")
    assert (moved_to.hour, moved_to.minute) == (8, 0)
    assert moved_to.weekday() < 5


def test_a_jump_made_elsewhere_appears_without_a_reload(
    page: Page, ui_server: PesaboxServer
) -> None:
    page.goto("/ui/clock")
    before = page.locator("#clock-offset").inner_text()
    httpx.post(
        f"{ui_server.base_url}/sandbox/v1/clock", json={"advance_s": 7200}
    ).raise_for_status()
    expect(page.locator("#clock-offset")).not_to_have_text(before)
    expect(page.locator("#clock-offset")).to_contain_text("2:00:")


def test_the_clock_page_fits_a_narrow_phone(new_page, screenshot: Screenshot) -> None:  # type: ignore[no-untyped-def]
    narrow = new_page(NARROW)
    narrow.goto("/ui/clock")
    assert_usable(narrow)
    screenshot(narrow, "narrow")


def test_a_form_post_without_the_csrf_token_is_refused(ui_server: PesaboxServer) -> None:
    refused = httpx.post(f"{ui_server.base_url}/ui/clock/advance", data={"step": "day"})
    assert refused.status_code == 403
    assert _offset_s(ui_server) == 0
