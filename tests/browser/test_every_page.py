"""Every page, at a phone's width and a desktop's: each visible control is labelled, nothing
is wider than the screen, and the keyboard reaches every control (Tab moves focus through
them, and focus is always visible on something)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from tests.browser.accessibility import assert_usable
from tests.browser.conftest import NARROW, WIDE, Screenshot
from tests.browser.test_portal import sign_in

PHONE = "/ui/phone/254708374149"
PHONE_SCREENS = [
    "menu", "send", "paybill", "buygoods", "airtime", "account",
    "bonga", "bonga-pin", "bonga-transfer", "bonga-bundle",
]  # fmt: skip
OPEN_PAGES = [
    "/ui/",
    "/ui/phones",
    *[f"{PHONE}?screen={screen}" for screen in PHONE_SCREENS],
    "/ui/clock",
    "/ui/inspector",
    "/ui/org/login",
]
PORTAL = "/ui/org/600996"
PORTAL_PAGES = [
    PORTAL,
    f"{PORTAL}/statement",
    f"{PORTAL}/settlements",
    f"{PORTAL}/operators",
    f"{PORTAL}/c2b",
    f"{PORTAL}/credential",
    f"{PORTAL}/crqs",
]
WIDTHS = {"narrow": NARROW, "wide": WIDE}

# How many Tab presses reach every control is not known in advance; these pages have fewer
# than this many.
_MAX_TABS = 120
_FOCUSABLE = """
() => Array.from(document.querySelectorAll('a[href], input, select, textarea, button'))
  .filter((el) => el.type !== 'hidden' && !el.disabled && el.offsetParent !== null)
  // A group of radio buttons is one stop for Tab; the arrow keys move within it.
  .filter((el, i, all) => el.type !== 'radio'
    || all.findIndex((o) => o.type === 'radio' && o.name === el.name) === i)
  .length
"""
_FOCUSED = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const box = el.getBoundingClientRect();
  return {tag: el.tagName, visible: box.width > 0 && box.height > 0,
          where: Array.prototype.indexOf.call(document.querySelectorAll('*'), el),
          key: el.outerHTML.slice(0, 80)};
}
"""


def _reached_by_tab(page: Page) -> int:
    """Press Tab until focus comes round again; returns how many distinct controls it met.
    Every one it met must be visible, so no focus lands on something hidden."""
    seen: list[int] = []
    for _ in range(_MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if focused is None:
            continue
        assert focused["visible"], f"focus on something invisible: {focused['key']}"
        if seen and focused["where"] == seen[0]:
            break
        seen.append(focused["where"])
    return len(set(seen))


def _check(page: Page, url: str) -> None:
    page.goto(url)
    assert_usable(page)
    focusable: int = page.evaluate(_FOCUSABLE)
    reached = _reached_by_tab(page)
    assert reached >= min(focusable, _MAX_TABS), f"{url}: {reached} of {focusable} by Tab"


@pytest.mark.parametrize("width", WIDTHS)
def test_the_open_pages_are_usable(
    new_page: Callable[..., Page], width: str, screenshot: Screenshot
) -> None:
    page = new_page(WIDTHS[width])
    for url in OPEN_PAGES:
        _check(page, url)
    screenshot(page, "last")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_portal_pages_are_usable(
    new_page: Callable[..., Page], width: str, screenshot: Screenshot
) -> None:
    page = new_page(WIDTHS[width])
    sign_in(page, "600996")
    for url in PORTAL_PAGES:
        _check(page, url)
    screenshot(page, "last")
