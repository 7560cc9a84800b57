"""A week of a shop's trading, seen in the portal: customers pay its PayBill from their
phones on several days, the operator moves the takings to Working and withdraws to the bank,
and the clock runs on to settlement. The chart then spans the week, the statement lists each
payment, and the settlement report shows the withdrawal settled on the next business day.

Its screenshots are the ones the README shows (copied from test-artifacts/screenshots/ to
docs/screenshots/ by hand when the pages change)."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import Screenshot
from tests.browser.test_portal import advance_to_next_business_morning, sign_in
from tests.e2e import PesaboxServer

SHOP = "600000"  # Safaricom Daraja 000: a C2B PayBill that starts empty
CUSTOMERS = ["254708374149", "254708374150", "254722111111"]
DAY_S = 86_400
# Three days of payments; (customer, account, KES) per day.
TRADING = [
    [(0, "INV-101", 1_250), (1, "INV-102", 3_400)],
    [(2, "INV-103", 780), (0, "INV-104", 5_000), (1, "INV-105", 2_100)],
    [(2, "INV-106", 950), (0, "INV-107", 4_300)],
]


def _pay_bill(http: httpx.Client, customer: str, account: str, amount: int) -> None:
    paid = http.post(
        f"/sandbox/v1/handsets/{customer}/paybill",
        json={"business_number": SHOP, "account_number": account, "amount": amount, "pin": "1234"},
    )
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "completed", paid.text


def test_a_week_of_trading_charted_statemented_and_settled(
    page: Page, ui_server: PesaboxServer, screenshot: Screenshot
) -> None:
    with httpx.Client(base_url=ui_server.base_url, timeout=10.0) as http:
        for day in TRADING:
            for customer, account, amount in day:
                _pay_bill(http, CUSTOMERS[customer], account, amount)
            http.post("/sandbox/v1/clock", json={"advance_s": DAY_S}).raise_for_status()

    sign_in(page, SHOP)
    takings = sum(amount for day in TRADING for _, _, amount in day)
    expect(page.locator("#balance-utility")).to_contain_text(f"{takings:,}.00")

    for amount in ("6000", "9000"):
        page.get_by_label("Amount (KES)").fill(amount)
        page.get_by_role("button", name="Move to Working").click()
        expect(page.get_by_role("status")).to_contain_text(f"Moved KES {amount}")
    page.get_by_label("Amount to withdraw (KES)").fill("12000")
    page.get_by_role("button", name="Withdraw to bank").click()
    expect(page.locator("#withdrawal-status")).to_have_text("pending")

    advance_to_next_business_morning(page)

    page.goto(f"/ui/org/{SHOP}")
    expect(page.locator("#balance-working")).to_contain_text("3,000.00")
    chart = page.locator("svg.balance-chart")
    expect(chart).to_have_attribute("aria-label", re.compile(f"highest KES {takings:,}.00"))
    expect(page.locator("#withdrawals .withdrawal-status").first).to_have_text("settled")
    screenshot(page, "overview")

    page.goto(f"/ui/org/{SHOP}/statement?account=utility")
    from_customers = page.locator("tbody tr", has_text="Customer 2547")
    expect(from_customers).to_have_count(sum(len(day) for day in TRADING))
    for day in TRADING:
        for _, _, amount in day:
            expect(page.locator("tbody")).to_contain_text(f"{amount:,}.00")
    screenshot(page, "statement")

    page.goto(f"/ui/org/{SHOP}/settlements")
    expect(page.locator("main")).to_contain_text("12,000.00")
    screenshot(page, "settlements")
