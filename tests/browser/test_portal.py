"""The organisation portal in Chromium: an operator withdraws to the bank, the withdrawal is
pending, the sandbox clock moves to the next business morning, and the settlement appears;
another organisation's operator sees none of it."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect

from pesabox.sandbox import fixtures
from tests.browser.accessibility import assert_usable
from tests.browser.conftest import NARROW, Screenshot
from tests.e2e import PesaboxServer

B2C_PAYBILL = "600996"  # Safaricom Daraja 996: Utility seeded with KES 10,000,000
OTHER = "600000"


def sign_in(page: Page, shortcode: str) -> None:
    page.goto("/ui/org/login")
    page.get_by_label("Shortcode").fill(shortcode)
    page.get_by_label("Username").fill(fixtures.WEB_OPERATOR_NAME)
    page.get_by_label("Password").fill(fixtures.WEB_OPERATOR_PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url(re.compile(f"/ui/org/{shortcode}$"))


def advance_to_next_business_morning(page: Page) -> None:
    """The clock page's button, in the page's own browser session."""
    page.goto("/ui/clock")
    page.get_by_role("button", name="Advance the next business morning").click()
    expect(page.get_by_role("status")).to_contain_text("next business morning")


def _move_and_withdraw(page: Page, kes: str) -> None:
    """From the overview: move `kes` to the Working account, then withdraw it to the bank."""
    page.get_by_label("Amount (KES)").fill(kes)
    page.get_by_role("button", name="Move to Working").click()
    page.get_by_label("Amount to withdraw (KES)").fill(kes)
    page.get_by_role("button", name="Withdraw to bank").click()


def test_a_withdrawal_is_pending_then_settled_the_next_business_morning(
    page: Page, screenshot: Screenshot
) -> None:
    sign_in(page, B2C_PAYBILL)
    expect(page.locator("#balance-utility")).to_contain_text("10,000,000.00")
    assert_usable(page)
    page.get_by_label("Amount (KES)").fill("5000")
    page.get_by_role("button", name="Move to Working").click()
    expect(page.get_by_role("status")).to_contain_text("Moved KES 5000")
    expect(page.locator("#balance-working")).to_contain_text("5,000.00")

    page.get_by_label("Amount to withdraw (KES)").fill("2500")
    page.get_by_role("button", name="Withdraw to bank").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("has left M-PESA")
    expect(page.locator("#withdrawal-status")).to_have_text("pending")
    receipt = page.locator("h1").inner_text().removeprefix("Withdrawal ").strip()
    screenshot(page, "pending")

    page.goto(f"/ui/org/{B2C_PAYBILL}")
    expect(page.locator("#balance-working")).to_contain_text("2,500.00")
    row = page.locator(f'#withdrawals tr[data-withdrawal="{receipt}"]')
    expect(row.locator(".withdrawal-status")).to_have_text("pending")

    # The clock page, in the same browser: on to the next business morning.
    advance_to_next_business_morning(page)

    page.goto(f"/ui/org/{B2C_PAYBILL}/withdrawals/{receipt}")
    expect(page.locator("#withdrawal-status")).to_have_text("settled")
    expect(page.locator("#withdrawal-reference")).to_contain_text("STL")
    expect(page.locator("#withdrawal-reference")).to_contain_text(receipt)
    page.get_by_role("link", name="Settlement report").click()
    report = page.locator("#settlement-days tbody tr").first
    expect(report).to_contain_text("2,500.00")
    expect(report).to_contain_text("1 of 1")
    expect(page.locator(f'tr[data-withdrawal="{receipt}"] .withdrawal-status')).to_have_text(
        "settled"
    )
    assert_usable(page)
    screenshot(page, "settlement-report")

    page.get_by_role("link", name="Statement").click()
    page.locator("select[name=account]").select_option("working")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#statement tbody tr")).to_have_count(2)
    expect(page.locator(".balance-chart")).to_be_visible()
    screenshot(page, "statement")


def test_another_organisations_operator_sees_nothing_of_it(
    page: Page, new_page: Callable[..., Page], screenshot: Screenshot
) -> None:
    sign_in(page, B2C_PAYBILL)
    _move_and_withdraw(page, "300")
    expect(page.locator("#withdrawal-status")).to_have_text("pending")
    withdrawal_url = page.url

    stranger = new_page()
    sign_in(stranger, OTHER)
    expect(stranger.locator("#balance-utility")).to_be_visible()
    stranger.goto(withdrawal_url)
    expect(stranger.locator("h1")).to_have_text("Not found.")
    reply = stranger.goto(f"/ui/org/{B2C_PAYBILL}/statement.csv?account=working")
    assert reply is not None and reply.status == 404
    stranger.goto(f"/ui/org/{B2C_PAYBILL}")
    expect(stranger.locator("h1")).to_have_text("Not found.")
    screenshot(stranger, "refused")
    stranger.goto(f"/ui/org/{OTHER}/settlements")
    expect(stranger.locator("main")).to_contain_text("No withdrawals yet.")


def test_the_portal_fits_a_narrow_phone(
    new_page: Callable[..., Page], screenshot: Screenshot
) -> None:
    narrow = new_page(NARROW)
    narrow.goto("/ui/org/login")
    assert_usable(narrow)
    sign_in(narrow, B2C_PAYBILL)
    assert_usable(narrow)
    screenshot(narrow, "overview-360")
    for path in ("statement", "settlements", "operators", "c2b", "credential"):
        narrow.goto(f"/ui/org/{B2C_PAYBILL}/{path}")
        assert_usable(narrow)
    screenshot(narrow, "credential-360")


def test_the_overview_shows_the_settlement_live(
    page: Page, ui_server: PesaboxServer, screenshot: Screenshot
) -> None:
    sign_in(page, B2C_PAYBILL)
    _move_and_withdraw(page, "400")
    receipt = page.locator("h1").inner_text().removeprefix("Withdrawal ").strip()
    page.goto(f"/ui/org/{B2C_PAYBILL}")
    status = page.locator(f'#withdrawals tr[data-withdrawal="{receipt}"] .withdrawal-status')
    expect(status).to_have_text("pending")
    # Another client moves the shared clock a week on: past any run of Kenyan holidays.
    httpx.post(
        f"{ui_server.base_url}/sandbox/v1/clock", json={"advance_s": 8 * 86_400}
    ).raise_for_status()
    expect(status).to_have_text("settled")
    screenshot(page, "settled-live")
