"""The inspector in a real browser: an STK push by API and its callback appear live, linked,
and the callback is resent from the page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.accessibility import assert_usable
from tests.browser.conftest import NARROW, WIDE, Screenshot, running_server
from tests.e2e import PesaboxServer, Sandbox, bearer, fetch_token, forward_to, push_body
from tests.e2e.receiver import CallbackReceiver

CUSTOMER = "254708374149"


@pytest.fixture
def patient_server(
    ui_sandbox: Sandbox, ui_receiver: CallbackReceiver, tmp_path: Path
) -> Iterator[PesaboxServer]:
    """A sandbox server whose customers leave prompts pending until told what to do."""
    env = {**forward_to(ui_receiver.base_url), "PESABOX_CUSTOMER_DELAY_S": "3600"}
    with running_server(ui_sandbox, tmp_path, env) as server:
        yield server


@pytest.fixture
def inspector(browser: Browser, patient_server: PesaboxServer) -> Iterator[Page]:
    context = browser.new_context(base_url=patient_server.base_url, viewport=WIDE)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def push(server: PesaboxServer) -> str:
    with httpx.Client(timeout=10) as client:
        token = fetch_token(client, server.base_url, server.sandbox)
        reply = client.post(
            f"{server.base_url}/mpesa/stkpush/v1/processrequest",
            json=push_body(phone=CUSTOMER, amount=25),
            headers=bearer(token),
        )
    assert reply.status_code == 200, reply.text
    checkout_id: str = reply.json()["CheckoutRequestID"]
    return checkout_id


def accept_on_the_phone(browser: Browser, server: PesaboxServer, screenshot: Screenshot) -> None:
    """The customer types the PIN on the phone page's prompt and presses OK."""
    context = browser.new_context(base_url=server.base_url, viewport=NARROW)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    try:
        phone = context.new_page()
        phone.goto(f"/ui/phone/{CUSTOMER}")
        prompt = phone.get_by_role("alertdialog")
        expect(prompt).to_contain_text("Ksh 25")
        prompt.get_by_label("Enter M-PESA PIN").fill("1234")
        prompt.get_by_role("button", name="OK").click()
        expect(phone.get_by_role("status")).to_contain_text("Payment sent.")
        screenshot(phone, "phone-paid")
    finally:
        context.close()


def test_a_push_and_its_callback_appear_live_linked_and_resend_works(
    browser: Browser, inspector: Page, patient_server: PesaboxServer, screenshot: Screenshot
) -> None:
    inspector.goto("/ui/inspector")
    assert_usable(inspector)
    requests = inspector.locator("#inspector-requests")
    callbacks = inspector.locator("#inspector-callbacks")

    checkout_id = push(patient_server)
    pushed = requests.locator("tr", has_text=checkout_id)
    expect(pushed).to_contain_text("/mpesa/stkpush/v1/processrequest")
    expect(pushed).to_contain_text("accepted for processing")
    expect(callbacks).not_to_contain_text(checkout_id)
    screenshot(inspector, "push-listed")

    accept_on_the_phone(browser, patient_server, screenshot)
    delivered = callbacks.locator("tr", has_text=checkout_id)
    expect(delivered).to_contain_text("The service request is processed successfully.")
    expect(delivered).to_contain_text("200")
    screenshot(inspector, "callback-listed")

    pushed.get_by_role("link").click()
    expect(inspector.locator("h1")).to_contain_text("/mpesa/stkpush/v1/processrequest")
    expect(inspector.locator("#request-body")).to_contain_text('"****"')
    linked = inspector.locator("#linked-callbacks article")
    expect(linked).to_have_count(1)
    expect(linked.locator("tbody tr")).to_have_count(1)
    screenshot(inspector, "request-detail")

    linked.get_by_role("button", name="Resend").focus()
    inspector.keyboard.press("Enter")
    expect(inspector.get_by_role("status").first).to_contain_text("will be sent again")
    expect(inspector.locator("#linked-callbacks article tbody tr")).to_have_count(2)
    screenshot(inspector, "resent")


def test_the_filter_form_narrows_the_tables(inspector: Page, patient_server: PesaboxServer) -> None:
    checkout_id = push(patient_server)
    inspector.goto("/ui/inspector")
    inspector.get_by_label("MSISDN").fill("254722000000")
    inspector.get_by_label("MSISDN").press("Enter")
    expect(inspector.locator("#inspector-requests")).not_to_contain_text(checkout_id)
    inspector.get_by_label("MSISDN").fill(CUSTOMER)
    inspector.get_by_role("button", name="Filter").click()
    expect(inspector.locator("#inspector-requests")).to_contain_text(checkout_id)
    assert "msisdn=254708374149" in inspector.url


def test_the_inspector_fits_a_narrow_phone(
    browser: Browser, patient_server: PesaboxServer, screenshot: Screenshot
) -> None:
    push(patient_server)
    context = browser.new_context(base_url=patient_server.base_url, viewport=NARROW)  # type: ignore[arg-type]
    try:
        narrow = context.new_page()
        narrow.goto("/ui/inspector")
        expect(narrow.locator("#inspector-requests tbody tr").first).to_be_visible()
        assert_usable(narrow)
        screenshot(narrow, "narrow")
    finally:
        context.close()
