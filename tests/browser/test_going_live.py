"""Going live, end to end in a browser, against a real `pesabox serve` of both environments.
Two of its listeners are used: the sandbox's plain one and production's 1-way TLS one
(PESABOX_PRODUCTION_PORT); production's mutual-TLS listener runs but nothing here calls it.

A developer signs up and applies for a PayBill with documents; a platform operator approves
it; the developer applies for Lipa na M-Pesa Online; the clock page moves the platform clock
on a week and the operator approves it; the passkey shows; the developer asks to go live, the
operator approves, the code reaches the Business Administrator's phone, the developer enters
it and gets production keys. Then the test itself, over HTTPS verified against the trust
bundle the developer portal hands out, gets a production token and sends an STK push to
production's TLS listener, signed with the new passkey; the Business Administrator then sees
the implemented CRQ in the production org portal, on that same listener.

The developer and operator pages are driven on the sandbox's plain listener; the API calls
are where TLS matters, and there the server's certificate is verified for real.
"""

from __future__ import annotations

import base64
import re
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from pesabox.domain.onboarding.documents import REQUIRED_DOCUMENTS, BusinessType
from pesabox.sandbox.seed import seed_production
from pesabox.security.credentials import pin_digest
from pesabox.settings import Settings
from pesabox.storage import onboarding_store
from pesabox.storage.db import make_engine, write_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.migrate import upgrade_to_head
from tests.browser.conftest import EXPECT_TIMEOUT_MS, NARROW, WIDE, Screenshot, running_server
from tests.browser.test_every_page import _check as check_page
from tests.databases import fresh_database_url
from tests.e2e import CUSTOMER, PesaboxServer, Sandbox, daraja_timestamp, free_port, prepare_sandbox

OPERATOR = "ops.amina"
OPERATOR_PASSWORD = "Review3r#2026"  # noqa: S105 - a test value
DEVELOPER_PASSWORD = "Kiosk#Sale2026"  # noqa: S105 - a test value
# A seeded customer's handset: the Business Administrator's phone, where the code arrives.
ADMIN_PHONE = CUSTOMER
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
HTTP_TIMEOUT_S = 10.0


class BothEnvironments:
    def __init__(self, server: PesaboxServer, production_port: int) -> None:
        self.server = server
        self.production_url = f"https://127.0.0.1:{production_port}"


def _prepare_production(database_url: str) -> None:
    """Production's database with its simulated customers (`pesabox seed` does the same
    when PESABOX_ENVIRONMENTS names production), and a platform operator in the platform
    database (as `pesabox` would make one)."""
    settings = Settings(database_url=database_url, environments="sandbox,production")
    engine = make_engine(settings.production_url())
    upgrade_to_head(engine)
    with write_transaction(engine) as conn:
        seed_production(conn, now=time.time(), ledger=LedgerStore())
    engine.dispose()
    platform = make_engine(database_url)
    with write_transaction(platform) as conn:
        onboarding_store.add_platform_operator(
            conn, username=OPERATOR, name="Amina Ops",
            password_digest=pin_digest(OPERATOR_PASSWORD), now=time.time(),
        )  # fmt: skip
    platform.dispose()


@pytest.fixture
def both_environments(tmp_path: Path) -> Iterator[BothEnvironments]:
    with fresh_database_url("sqlite", str(tmp_path)) as url:
        sandbox: Sandbox = prepare_sandbox(url, app_name="browser")
        _prepare_production(url)
        production_port = free_port()
        env = {
            "PESABOX_ENVIRONMENTS": "sandbox,production",
            "PESABOX_PRODUCTION_PORT": str(production_port),
            "PESABOX_PRODUCTION_MTLS_PORT": str(free_port()),
        }
        with running_server(sandbox, tmp_path, env) as server:
            yield BothEnvironments(server, production_port)


@pytest.fixture
def person(browser: Browser, both_environments: BothEnvironments) -> Iterator[Callable[..., Page]]:
    """A browser of its own (its own cookies) per person: the developer, the operator."""
    contexts: list[BrowserContext] = []

    def make(viewport: dict[str, int] | None = None, *, production: bool = False) -> Page:
        # Production's pages are on its TLS listener; the browser is not the point of the
        # TLS checks (the API calls verify the trust bundle), so it skips verification.
        base_url = (
            both_environments.production_url if production else both_environments.server.base_url
        )
        context = browser.new_context(
            base_url=base_url,
            viewport=viewport or WIDE,  # type: ignore[arg-type]
            ignore_https_errors=production,
        )
        context.set_default_timeout(EXPECT_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


# --- the people's steps --------------------------------------------------------------------


def sign_up(page: Page) -> None:
    page.goto("/ui/dev/signup")
    page.get_by_label("E-mail").fill("wanjiru@mboga.example")
    page.get_by_label("Your name").fill("Wanjiru Dev")
    page.get_by_label("Phone (2547…)").fill("254712345678")
    page.get_by_label("Password").fill(DEVELOPER_PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("status")).to_contain_text("Welcome, Wanjiru Dev")


def apply_for_a_paybill(page: Page, documents: Path) -> None:
    page.goto("/ui/dev/applications/new")
    page.get_by_label("Business type").select_option("sole_proprietor")
    page.get_by_role("button", name="Show the form").click()
    fields = {
        "Registered name": "Mama Mboga Traders", "Trading name": "Mama Mboga",
        "Bank": "KCB", "Branch": "Moi Avenue", "Account number": "1234567890",
        "Account name": "Mama Mboga Traders", "Name": "Achieng Admin",
        "Username": "achieng", "Phone (2547…)": ADMIN_PHONE, "E-mail": "achieng@mboga.example",
    }  # fmt: skip
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    for number, kind in enumerate(REQUIRED_DOCUMENTS[BusinessType.SOLE_PROPRIETOR]):
        # Real small files on disk, PDF and PNG by turns, chosen as a person would.
        path = documents / f"{kind.value}.{'pdf' if number % 2 == 0 else 'png'}"
        path.write_bytes(PDF if number % 2 == 0 else PNG)
        page.locator(f'input[type=file][name="{kind.value}"]').set_input_files(str(path))
    page.get_by_role("button", name="Send the application").click()
    expect(page.locator("#application-state")).to_have_text("submitted")


def sign_in_operator(page: Page) -> None:
    page.goto("/ui/admin/login")
    page.get_by_label("Username").fill(OPERATOR)
    page.get_by_label("Password").fill(OPERATOR_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Queues")).to_be_visible()


def review_and_approve(page: Page, state: str, approved: str = "approved") -> None:
    """On an application's, LNMO's or CRQ's console page: start the review, approve."""
    page.get_by_role("button", name="Start the review").click()
    expect(page.get_by_role("status")).to_be_visible()
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(state)).to_have_text(approved)


def advance_a_week(page: Page) -> None:
    page.goto("/ui/clock")
    for _ in range(7):
        page.get_by_role("button", name="Advance a day").click()
        expect(page.get_by_role("status")).to_contain_text("a day")


def portal_password(page: Page) -> str:
    """The org portal's one-time password, from the approval's SMS to the admin's phone."""
    page.goto(f"/ui/phone/{ADMIN_PHONE}")
    message = page.locator("#inbox").get_by_text("one-time password")
    expect(message).to_be_visible()
    found = re.search(r"one-time password (\S+), then", message.inner_text())
    assert found is not None
    return found.group(1)


def go_live_code(page: Page, number: str) -> str:
    page.goto(f"/ui/phone/{ADMIN_PHONE}")
    message = page.locator("#inbox").get_by_text(f"Daraja Go Live code for {number}")
    expect(message).to_be_visible()
    found = re.search(r"(\d{6}) is your Daraja Go Live code", message.inner_text())
    assert found is not None
    return found.group(1)


# --- production over https -----------------------------------------------------------------


def _production_client(base_url: str, trust_bundle: str) -> httpx.Client:
    verify = ssl.create_default_context(cadata=trust_bundle)
    return httpx.Client(base_url=base_url, verify=verify, timeout=HTTP_TIMEOUT_S)


def stk_push_in_production(
    env: BothEnvironments, trust_bundle: str, *, key: str, secret: str, shortcode: str, passkey: str
) -> dict[str, str]:
    with _production_client(env.production_url, trust_bundle) as client:
        token = client.get(
            "/oauth/v1/generate",
            params={"grant_type": "client_credentials"},
            auth=(key, secret),
        )
        assert token.status_code == 200, token.text
        stamp = daraja_timestamp()
        password = base64.b64encode(f"{shortcode}{passkey}{stamp}".encode()).decode()
        pushed = client.post(
            "/mpesa/stkpush/v1/processrequest",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            json={
                "BusinessShortCode": shortcode,
                "Password": password,
                "Timestamp": stamp,
                "TransactionType": "CustomerPayBillOnline",
                "Amount": 1,
                "PartyA": CUSTOMER,
                "PartyB": shortcode,
                "PhoneNumber": CUSTOMER,
                "CallBackURL": "https://shop.example/mpesa/callback",
                "AccountReference": "first-sale",
                "TransactionDesc": "going live",
            },  # fmt: skip
        )
        assert pushed.status_code == 200, pushed.text
        reply: dict[str, str] = pushed.json()
        return reply


# --- the test ------------------------------------------------------------------------------


def _usable_at_both_widths(page: Page, urls: list[str]) -> None:
    """test_every_page's check (labels, width, the keyboard reaching every control) on pages
    that need a server of both environments and a signed-in person."""
    for viewport in (NARROW, WIDE):
        page.set_viewport_size(viewport)
        for url in urls:
            check_page(page, url)
    page.set_viewport_size(WIDE)


def test_going_live_from_sign_up_to_a_production_stk_push(
    person: Callable[..., Page],
    both_environments: BothEnvironments,
    screenshot: Screenshot,
    tmp_path: Path,
) -> None:
    developer, operator = person(), person()
    sign_up(developer)
    apply_for_a_paybill(developer, tmp_path)
    application_url = developer.url
    screenshot(developer, "1-application-sent")

    sign_in_operator(operator)
    operator.get_by_role("link", name=re.compile(r"^\d+$")).first.click()
    sole = REQUIRED_DOCUMENTS[BusinessType.SOLE_PROPRIETOR]
    expect(operator.locator("#documents li")).to_have_count(len(sole))
    review_and_approve(operator, "#application-state")
    screenshot(operator, "2-application-approved")

    developer.goto("/ui/dev")
    developer.get_by_role("button", name="Apply for Lipa na M-Pesa Online").click()
    expect(developer.get_by_role("status")).to_contain_text("application is sent")

    operator.goto("/ui/admin")
    operator.locator("#lnmo").get_by_role("link").first.click()
    operator.get_by_role("button", name="Start the review").click()
    expect(operator.locator("#not-due")).to_be_visible()
    lnmo_url = operator.url
    advance_a_week(operator)
    operator.goto(lnmo_url)
    operator.get_by_role("button", name="Approve").click()
    expect(operator.locator("#lnmo-state")).to_have_text("approved")

    developer.goto("/ui/dev")
    passkey = developer.locator(".passkey").inner_text()
    shortcode = developer.locator(".business h2").inner_text().split()[-1]
    assert re.fullmatch(r"[0-9a-f]{64}", passkey) and shortcode.isdigit()
    developer.get_by_label("Production app name").fill("Mama Mboga live")
    developer.get_by_role("button", name="Request go-live").click()
    expect(developer.get_by_role("status")).to_contain_text("Go-live request")
    number = developer.get_by_role("heading", level=1).inner_text()
    crq_url = developer.url

    operator.goto(f"/ui/admin/crqs/{number}")
    review_and_approve(operator, "#crq-state")
    screenshot(operator, "3-go-live-approved")

    code = go_live_code(operator, number)
    developer.goto(crq_url)
    developer.get_by_label("Code").fill(code)
    developer.get_by_role("button", name="Confirm and get the production keys").click()
    key = developer.locator("#consumer-key").inner_text()
    secret = developer.locator("#consumer-secret").inner_text()
    screenshot(developer, "4-production-keys")

    bundle = developer.request.get("/ui/dev/trust-bundle.pem")
    assert bundle.ok
    reply = stk_push_in_production(
        both_environments, bundle.text(),
        key=key, secret=secret, shortcode=shortcode, passkey=passkey,
    )  # fmt: skip
    assert reply["ResponseCode"] == "0", reply

    developer.goto(crq_url)
    expect(developer.locator("#crq-state")).to_have_text("implemented")
    # The Business Administrator sees the CRQ in the production org portal.
    administrator = person(production=True)
    administrator.goto("/ui/org/login")
    administrator.get_by_label("Shortcode").fill(shortcode)
    administrator.get_by_label("Username").fill("achieng")
    administrator.get_by_label("Password").fill(portal_password(operator))
    administrator.get_by_role("button", name="Sign in").click()
    expect(administrator.locator("#support")).to_contain_text("0722002222")
    administrator.get_by_role("link", name="Change requests").click()
    crq = administrator.locator(f'[data-crq="{number}"]')
    expect(crq.locator(".state")).to_have_text("implemented")
    screenshot(administrator, "5-production-portal-crqs")

    _usable_at_both_widths(
        developer, ["/ui/dev", "/ui/dev/applications/new?business_type=limited_company",
                    application_url, crq_url],
    )  # fmt: skip
    _usable_at_both_widths(
        operator, ["/ui/admin", "/ui/admin/crqs", f"/ui/admin/crqs/{number}", lnmo_url]
    )
