"""The customer's phone in a real browser: an STK prompt answered on the phone, a Pay Bill
from the menu reaching the business's URLs, and Bonga's PIN, transfer and data bundle."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_usable
from tests.browser.conftest import NARROW, Screenshot
from tests.e2e import SHOP, PesaboxServer, bearer, fetch_token, push_body
from tests.e2e.receiver import CallbackReceiver

JOHN = "254708374149"  # prepay, national ID 12345678, last top-up KES 100
JANE = "254708374150"
PAYBILL = "600000"
VALIDATE = "/c2b/validate"
CONFIRM = "/c2b/confirm"
CALLBACK_TIMEOUT_S = 15.0


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0) as client:
        yield client


def _open_screen(page: Page, msisdn: str, link: str) -> None:
    page.goto(f"/ui/phone/{msisdn}")
    page.get_by_role("link", name=link).click()


def _push_prompt_to_john(
    http: httpx.Client, server: PesaboxServer, *, amount: int, reference: str = "e2e"
) -> str:
    """An STK push to John's phone that waits there for the person; its CheckoutRequestID."""
    # The scenario rules answer a prompt for John at once unless told otherwise, so the
    # handset is told to wait for the person instead (a rule on the amount).
    http.post(
        f"{server.base_url}/sandbox/v1/scenarios",
        json={"name": "wait", "msisdn": JOHN, "amount": amount, "action": "ignore"},
    ).raise_for_status()
    token = fetch_token(http, server.base_url, server.sandbox)
    pushed = http.post(
        f"{server.base_url}/mpesa/stkpush/v1/processrequest",
        json=push_body(phone=JOHN, amount=amount, reference=reference),
        headers=bearer(token),
    )
    assert pushed.status_code == 200, pushed.text
    return str(pushed.json()["CheckoutRequestID"])


def test_stk_prompt_pops_up_and_the_pin_pays_it(
    page: Page,
    ui_server: PesaboxServer,
    ui_receiver: CallbackReceiver,
    http: httpx.Client,
    screenshot: Screenshot,
) -> None:
    page.goto(f"/ui/phone/{JOHN}")
    expect(page.get_by_role("heading", name="M-PESA")).to_be_visible()
    checkout_id = _push_prompt_to_john(http, ui_server, amount=77, reference="INV-77")
    prompt = page.get_by_role("alertdialog")
    expect(prompt).to_contain_text("Do you want to pay Ksh 77 to Safaricom Daraja Sandbox?")
    expect(prompt).to_contain_text("INV-77")
    screenshot(page, "prompt")
    prompt.get_by_label("Enter M-PESA PIN").fill("1234")
    prompt.get_by_role("button", name="OK").click()
    expect(page.get_by_role("status")).to_contain_text("Payment sent.")
    expect(page.locator("#inbox")).to_contain_text("Ksh77.00 sent to Safaricom Daraja Sandbox")
    callback = ui_receiver.wait_for(checkout_id, timeout_s=CALLBACK_TIMEOUT_S)
    assert callback.json()["Body"]["stkCallback"]["ResultCode"] == 0
    screenshot(page, "paid")


def test_pay_bill_from_the_menu_reaches_validation_and_confirmation(
    page: Page,
    ui_server: PesaboxServer,
    ui_receiver: CallbackReceiver,
    http: httpx.Client,
    screenshot: Screenshot,
) -> None:
    token = fetch_token(http, ui_server.base_url, ui_server.sandbox)
    registered = http.post(
        f"{ui_server.base_url}/mpesa/c2b/v1/registerurl",
        json={
            "ShortCode": PAYBILL,
            "ResponseType": "Completed",
            "ConfirmationURL": f"{SHOP}{CONFIRM}",
            "ValidationURL": f"{SHOP}{VALIDATE}",
        },  # fmt: skip
        headers=bearer(token),
    )
    assert registered.status_code == 200, registered.text
    http.put(
        f"{ui_server.base_url}/sandbox/v1/shortcodes/{PAYBILL}/validation", json={"enabled": True}
    ).raise_for_status()
    ui_receiver.answer(VALIDATE, {"ResultCode": "0", "ResultDesc": "Accepted"})

    _open_screen(page, JOHN, "Lipa na M-PESA: Pay Bill")
    page.get_by_label("Business number").fill(PAYBILL)
    page.get_by_label("Account number").fill("ACC-PHONE")
    page.get_by_label("Amount (Ksh)").fill("250")
    page.get_by_label("Enter M-PESA PIN").fill("1234")
    assert_usable(page)
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_role("status")).to_contain_text("Payment sent.")
    ui_receiver.wait_until(
        lambda items: any(r.path == CONFIRM for r in items),
        timeout_s=CALLBACK_TIMEOUT_S,
        what="the confirmation",
    )
    [validation] = ui_receiver.on(VALIDATE)
    [confirmation] = ui_receiver.on(CONFIRM)
    assert validation.json()["BillRefNumber"] == "ACC-PHONE"
    assert confirmation.json()["TransAmount"] == "250.00"
    assert confirmation.json()["TransID"] == validation.json()["TransID"]
    expect(page.locator("#inbox")).to_contain_text("for account ACC-PHONE")
    screenshot(page, "paid")


def _set_bonga_pin(page: Page, *, national_id: str, last_topup: str) -> None:
    _open_screen(page, JOHN, "Bonga *126#")
    page.get_by_role("link", name="Set or change Bonga PIN (*126*5#)").click()
    page.get_by_label("National ID number").fill(national_id)
    page.get_by_label("Amount of your last top-up (Ksh)").fill(last_topup)
    page.get_by_label("New Bonga PIN (4 digits)").fill("2580")
    page.get_by_label("Confirm new Bonga PIN").fill("2580")
    page.get_by_role("button", name="Set PIN").click()


def test_bonga_pin_vetting_then_a_points_transfer_and_a_data_bundle(
    new_page: Callable[..., Page],
    ui_server: PesaboxServer,
    http: httpx.Client,
    screenshot: Screenshot,
) -> None:
    page: Page = new_page(NARROW)
    # KES 1,500 sent earns John 150 points (10 per KES 100 by default).
    sent = http.post(
        f"{ui_server.base_url}/sandbox/v1/handsets/{JOHN}/send-money",
        json={"recipient": JANE, "amount": 1_500, "pin": "1234"},
    )
    assert sent.json()["result_code"] == 0, sent.text

    _set_bonga_pin(page, national_id="12345678", last_topup="90")
    expect(page.get_by_role("status")).to_contain_text("has not changed")
    screenshot(page, "vetting-refused")
    _set_bonga_pin(page, national_id="12345678", last_topup="100")
    expect(page.get_by_role("status")).to_contain_text("Your Bonga PIN has been set.")

    _open_screen(page, JOHN, "Bonga *126#")
    expect(page.locator("#bonga-points")).to_have_text("150")
    page.get_by_role("link", name="Transfer points").click()
    page.get_by_label("Phone number").fill(JANE)
    page.get_by_label("Points", exact=True).fill("60")
    page.get_by_label("Enter Bonga PIN").fill("2580")
    assert_usable(page)
    page.get_by_role("button", name="Transfer").click()
    expect(page.get_by_role("status")).to_contain_text("60 Bonga points transferred.")
    expect(page.locator("#inbox")).to_contain_text("Your new Bonga balance is 90 points.")

    _open_screen(page, JOHN, "Bonga *126#")
    page.get_by_role("link", name="Buy data bundle with M-PESA").click()
    page.get_by_label("2.5GB valid for 7 days, Ksh 300.00").check()
    page.get_by_label("Enter Bonga PIN").fill("2580")
    page.get_by_role("button", name="Buy").click()
    expect(page.get_by_role("status")).to_contain_text("Data bundle bought.")
    expect(page.locator("#inbox")).to_contain_text("You have received 2.5GB valid for 7 days.")
    account = http.get(f"{ui_server.base_url}/sandbox/v1/handsets/{JOHN}/account").json()
    assert account["balance"] == 100_000 - 1_500 - 23 - 300  # KES 23: the 1,001-1,500 band
    assert account["bonga_points"] == 90 + 30
    screenshot(page, "bundle-bought")


def test_phones_list_creates_a_customer_whose_phone_fits_360_px(
    new_page: Callable[..., Page],
    screenshot: Screenshot,
) -> None:
    page: Page = new_page(NARROW)
    page.goto("/ui/phones")
    page.get_by_label("Name").fill("Akinyi Odhiambo")
    page.get_by_label("MSISDN (254 and 9 digits)").fill("254799123456")
    page.get_by_label("M-PESA PIN (4 digits)").fill("1357")
    page.get_by_label("National ID number").fill("31234567")
    page.get_by_label("Line type").select_option("postpay")
    page.get_by_label("Opening balance (KES)").fill("2500")
    assert_usable(page)
    page.get_by_role("button", name="Create customer").click()
    expect(page.get_by_role("status")).to_contain_text("Akinyi Odhiambo's phone is ready.")
    page.get_by_role("link", name="My Account").click()
    expect(page.locator("#balance")).to_have_text("Ksh 2,500.00")
    assert_usable(page)
    screenshot(page, "new-customer")


def test_an_unanswered_prompt_times_out_on_its_own(
    page: Page,
    ui_server: PesaboxServer,
    ui_receiver: CallbackReceiver,
    http: httpx.Client,
    screenshot: Screenshot,
) -> None:
    checkout_id = _push_prompt_to_john(http, ui_server, amount=78)
    page.goto(f"/ui/phone/{JOHN}")
    expect(page.get_by_role("alertdialog")).to_be_visible()
    # Nobody answers; the sandbox clock moves past the prompt's expiry.
    http.post(f"{ui_server.base_url}/sandbox/v1/clock", json={"advance_s": 120}).raise_for_status()
    expect(page.get_by_role("alertdialog")).to_have_count(0)
    callback = ui_receiver.wait_for(checkout_id, timeout_s=CALLBACK_TIMEOUT_S)
    assert callback.json()["Body"]["stkCallback"]["ResultCode"] == 1037
    screenshot(page, "timed-out")


def test_send_money_from_the_keyboard_alone(page: Page, screenshot: Screenshot) -> None:
    page.goto(f"/ui/phone/{JOHN}")
    page.get_by_role("link", name="Send Money").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Send Money")).to_be_visible()
    page.get_by_label("Phone number").focus()
    page.keyboard.type(JANE)
    page.keyboard.press("Tab")
    page.keyboard.type("600")
    page.keyboard.press("Tab")
    page.keyboard.type("1234")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Money sent.")
    expect(page.locator("#inbox")).to_contain_text("Ksh600.00 sent to JANE WANJIRU")
    expect(page.locator("#inbox")).to_contain_text("Transaction cost, Ksh13.00.")
    screenshot(page, "sent")
