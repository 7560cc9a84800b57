"""Checks every page must pass: each control has a label, and nothing is wider than the
screen (the pages must work at 360 px as well as at 1280 px)."""

from __future__ import annotations

from playwright.sync_api import Page

# Controls whose accessible name the browser would compute as empty: no <label>, no
# aria-label or aria-labelledby, no text (buttons), no title. Hidden inputs carry no UI.
_UNLABELLED = """
() => Array.from(document.querySelectorAll('input, select, textarea, button'))
  .filter((el) => el.type !== 'hidden' && el.offsetParent !== null)
  .filter((el) => {
    const labelled = (el.labels && el.labels.length > 0)
      || el.getAttribute('aria-label')
      || el.getAttribute('aria-labelledby')
      || el.getAttribute('title');
    const text = (el.tagName === 'BUTTON' ? el.textContent : el.value || '').trim();
    const isButton = el.tagName === 'BUTTON' || ['submit', 'button', 'reset'].includes(el.type);
    return !(labelled || (isButton && text));
  })
  .map((el) => el.outerHTML.slice(0, 120))
"""
_OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def unlabelled_controls(page: Page) -> list[str]:
    found: list[str] = page.evaluate(_UNLABELLED)
    return found


def horizontal_overflow_px(page: Page) -> int:
    overflow: int = page.evaluate(_OVERFLOW)
    return overflow


def assert_usable(page: Page) -> None:
    """Every visible control is labelled and the page fits the viewport's width."""
    assert unlabelled_controls(page) == []
    assert horizontal_overflow_px(page) <= 0
