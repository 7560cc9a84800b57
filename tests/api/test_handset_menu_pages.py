"""The phone pages render every screen, through the real app (the browser suite drives them)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from pesabox.settings import Settings
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


_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
HUGE = "9" * 5_000


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The test client speaks plain http, where a Secure cookie would not be sent back.
    return Settings(database_url=database_url, customer_delay_s=0, web_cookie_secure=False)


async def _post(gateway: Gateway, page: str, action: str, fields: dict[str, str]) -> Any:
    shown = await gateway.client.get(page)
    token = _CSRF.search(shown.text)
    assert token, "no CSRF token in the page"
    data = {"_csrf_token": token.group(1), **fields}
    return await gateway.client.post(action, data=data, follow_redirects=True)


@pytest.mark.parametrize("opening", ["²", HUGE, "1000001", "-5", "12.5"])
async def test_create_phone_refuses_odd_opening_balances(gateway: Gateway, opening: str) -> None:
    reply = await _post(gateway, "/ui/phones", "/ui/phones", {
        "msisdn": "254799000222", "name": "Odd Number", "pin": "2468",
        "national_id": "29876543", "line_type": "prepay", "opening_balance": opening,
    })  # fmt: skip
    assert reply.status_code == 200, reply.text
    assert "as a whole number up to 1,000,000" in reply.text


@pytest.mark.parametrize(
    ("screen", "fields"),
    [
        ("bonga/pin", {"national_id": "12345678", "last_topup": "²", "new_pin": "1357",
                       "confirm_pin": "1357"}),
        ("bonga/pin", {"national_id": "12345678", "last_topup": HUGE, "new_pin": "1357",
                       "confirm_pin": "1357"}),
        ("bonga/transfer", {"recipient": "254708374150", "points": str(2**63), "pin": "1357"}),
        ("bonga/transfer", {"recipient": "254708374150", "points": "٥٠", "pin": "1357"}),
    ],
)  # fmt: skip
async def test_phone_forms_refuse_odd_numbers(
    gateway: Gateway, screen: str, fields: dict[str, str]
) -> None:
    page = f"/ui/phone/{JOHN}?screen={screen.replace('/', '-')}"
    reply = await _post(gateway, page, f"/ui/phone/{JOHN}/{screen}", fields)
    assert reply.status_code == 200, reply.text
    assert "as a whole number up to" in reply.text


@pytest.mark.parametrize("part", ["prompts", "inbox", "events"])
@pytest.mark.parametrize("msisdn", ["%00", "2547083741%00", "junk", "254708374149%27"])
async def test_live_parts_refuse_a_number_that_is_no_msisdn(
    gateway: Gateway, part: str, msisdn: str
) -> None:
    reply = await gateway.client.get(f"/ui/phone/{msisdn}/{part}")
    assert reply.status_code == 404, reply.text


async def test_prompt_buttons_refuse_junk_ids(gateway: Gateway) -> None:
    for action in ("accept", "cancel"):
        reply = await _post(
            gateway,
            f"/ui/phone/{JOHN}?screen=send",
            f"/ui/phone/{JOHN}/prompts/ws%00CO/{action}",
            {"pin": "1"},
        )
        assert reply.status_code == 200, reply.text
        assert "No such payment prompt." in reply.text


async def test_a_send_money_form_posted_twice_sends_once(gateway: Gateway) -> None:
    shown = await gateway.client.get(f"/ui/phone/{JOHN}?screen=send")
    # The one-time field is named as the org portal's is.
    key = re.search(r'name="form_key" value="([^"]+)"', shown.text)
    token = _CSRF.search(shown.text)
    assert key and token
    fields = {
        "_csrf_token": token.group(1), "form_key": key.group(1),
        "recipient": "254708374150", "amount": "10", "pin": "1234",
    }  # fmt: skip
    for _ in range(2):
        reply = await gateway.client.post(f"/ui/phone/{JOHN}/send-money", data=fields)
        assert reply.status_code in (200, 303), reply.text
    account = (await gateway.client.get("/sandbox/v1/handsets/254708374150/account")).json()
    assert account["balance"] == 50_000 + 10


async def test_a_pay_bill_account_with_a_control_character_is_refused(gateway: Gateway) -> None:
    # PostgreSQL refuses a NUL in text; the form says what is wrong instead of a 500.
    reply = await _post(gateway, f"/ui/phone/{JOHN}?screen=paybill", f"/ui/phone/{JOHN}/paybill", {
        "business_number": "600000", "account_number": "INV\x001", "amount": "10", "pin": "1234",
    })  # fmt: skip
    assert reply.status_code == 200, reply.text
    assert "Enter an account number of 1 to" in reply.text
