"""The org portal over HTTP: sign-in, cookies, CSRF, one organisation's pages closed to
another's operator, and the statement's CSV."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import Engine

from pesabox.api.app import create_app
from pesabox.clock import FixedClock
from pesabox.core.platform import Platform
from pesabox.domain.operators import OperatorRole
from pesabox.sandbox import fixtures
from pesabox.sandbox.seed import SandboxCredentials
from pesabox.security.web_sessions import SESSION_COOKIE, PortalSessions
from pesabox.settings import Settings
from tests.portal.conftest import add_web_operator

B2C_PAYBILL = "600996"
OTHER = "600000"
_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
_FORM_KEY = re.compile(r'name="form_key" value="([^"]+)"')


@pytest.fixture
async def client(
    database_url: str, seeded_engine: tuple[Engine, SandboxCredentials]
) -> AsyncIterator[Any]:
    engine, _ = seeded_engine
    # The test client speaks plain http, where a Secure cookie would not be sent back.
    settings = Settings(database_url=database_url, web_cookie_secure=False)
    platform = Platform(settings, engine=engine)
    app = create_app(settings, platform=platform)
    async with AsyncTestClient(app=app) as running:  # type: ignore[type-var]
        yield running


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


async def sign_in(
    client: Any, shortcode: str, password: str = fixtures.WEB_OPERATOR_PASSWORD
) -> Any:
    page = await client.get("/ui/org/login")
    assert page.status_code == 200
    return await client.post(
        "/ui/org/login",
        data={
            "_csrf_token": csrf_of(page.text),
            "shortcode": shortcode,
            "username": fixtures.WEB_OPERATOR_NAME,
            "password": password,
        },
        follow_redirects=False,
    )


async def post_form(client: Any, page_url: str, action: str, **fields: str) -> Any:
    page = await client.get(page_url)
    assert page.status_code == 200, page.text
    data = {"_csrf_token": csrf_of(page.text), **fields}
    key = _FORM_KEY.search(page.text)
    if key and "form_key" not in data:
        data["form_key"] = key.group(1)
    return await client.post(action, data=data, follow_redirects=False)


async def test_sign_in_sets_a_locked_down_session_cookie(client: Any) -> None:
    reply = await sign_in(client, B2C_PAYBILL)
    assert reply.status_code == 303
    assert reply.headers["location"] == f"/ui/org/{B2C_PAYBILL}"
    cookie = next(c for c in reply.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Path=/ui/org" in cookie
    home = await client.get(f"/ui/org/{B2C_PAYBILL}")
    assert home.status_code == 200
    assert "Safaricom Daraja 996" in home.text and "Stanbic Bank" in home.text


async def test_the_session_cookie_is_secure_by_default(
    database_url: str, seeded_engine: tuple[Engine, SandboxCredentials]
) -> None:
    """With the default settings the Set-Cookie header itself carries every flag."""
    settings = Settings(database_url=database_url)
    app = create_app(settings, platform=Platform(settings, engine=seeded_engine[0]))
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as secure_client:  # type: ignore[type-var]
        reply = await sign_in(secure_client, B2C_PAYBILL)
    assert reply.status_code == 303
    cookie = next(c for c in reply.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert "secure" in flags and "httponly" in flags
    assert flags["samesite"].lower() == "samesite=lax"
    assert flags["path"] == "Path=/ui/org"


async def test_a_wrong_password_signs_nobody_in(client: Any) -> None:
    reply = await sign_in(client, B2C_PAYBILL, password="Wrong#Pass1")
    assert reply.status_code == 303 and reply.headers["location"] == "/ui/org/login"
    assert not any(c.startswith(SESSION_COOKIE) for c in reply.headers.get_list("set-cookie"))
    page = await client.get("/ui/org/login")
    assert "shortcode, username or password is wrong" in page.text
    assert (await client.get(f"/ui/org/{B2C_PAYBILL}", follow_redirects=False)).status_code == 303


async def test_a_locked_operator_cannot_sign_in_until_unlocked(client: Any) -> None:
    for _ in range(5):
        await sign_in(client, OTHER, password="Wrong#Pass1")
    reply = await sign_in(client, OTHER)
    assert reply.headers["location"] == "/ui/org/login"
    assert "locked" in (await client.get("/ui/org/login")).text
    # Another organisation's administrator cannot unlock it; its own could (tested below).
    await sign_in(client, B2C_PAYBILL)
    refused = await post_form(
        client,
        f"/ui/org/{B2C_PAYBILL}/operators",
        f"/ui/org/{OTHER}/operators/unlock",
        operator=f"{OTHER}/{fixtures.WEB_OPERATOR_NAME}",
    )
    assert refused.status_code == 404
    again = await sign_in(client, OTHER)
    assert again.headers["location"] == "/ui/org/login"


async def test_sign_out_ends_the_session(client: Any) -> None:
    await sign_in(client, B2C_PAYBILL)
    token = client.cookies.get(SESSION_COOKIE)
    out = await post_form(client, f"/ui/org/{B2C_PAYBILL}", "/ui/org/logout")
    assert out.status_code == 303 and out.headers["location"] == "/ui/org/login"
    client.cookies.set(SESSION_COOKIE, token, path="/ui/org")
    gone = await client.get(f"/ui/org/{B2C_PAYBILL}", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"] == "/ui/org/login"


async def test_a_session_expires(database_url: str, seeded_engine: Any) -> None:
    engine, _ = seeded_engine
    settings = Settings(database_url=database_url)
    platform = Platform(settings, engine=engine)
    clock = FixedClock(start=1_800_000_000.0)
    sessions = PortalSessions(
        engine=engine, writer=platform.writer, settings=settings,
        platform_clock=platform.clock, clock=clock, lifetime_s=600,
    )  # fmt: skip
    try:
        signed = await sessions.sign_in(
            shortcode=B2C_PAYBILL,
            username=fixtures.WEB_OPERATOR_NAME,
            password=fixtures.WEB_OPERATOR_PASSWORD,
        )
        assert await sessions.resolve(signed.token) is not None
        clock.advance(599)
        assert await sessions.resolve(signed.token) is not None
        clock.advance(1)
        assert await sessions.resolve(signed.token) is None
    finally:
        await platform.stop()


async def test_a_post_without_the_csrf_token_is_refused(client: Any) -> None:
    await sign_in(client, B2C_PAYBILL)
    page = await client.get(f"/ui/org/{B2C_PAYBILL}")
    key = _FORM_KEY.search(page.text)
    assert key
    refused = await client.post(
        f"/ui/org/{B2C_PAYBILL}/move",
        data={"amount": "100", "form_key": key.group(1)},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    home = await client.get(f"/ui/org/{B2C_PAYBILL}")
    assert 'id="balance-working">KES 0.00' in home.text


async def test_another_organisations_pages_and_csv_give_nothing(client: Any) -> None:
    await sign_in(client, B2C_PAYBILL)
    await post_form(client, f"/ui/org/{B2C_PAYBILL}", f"/ui/org/{B2C_PAYBILL}/move", amount="800")
    made = await post_form(
        client, f"/ui/org/{B2C_PAYBILL}", f"/ui/org/{B2C_PAYBILL}/withdraw", amount="750"
    )
    withdrawal_url = made.headers["location"]
    withdrawal_id = withdrawal_url.rsplit("/", 1)[1]
    assert (await client.get(withdrawal_url)).status_code == 200

    client.cookies.clear()
    await sign_in(client, OTHER)
    for url in (
        f"/ui/org/{B2C_PAYBILL}",
        f"/ui/org/{B2C_PAYBILL}/statement?account=working",
        f"/ui/org/{B2C_PAYBILL}/statement.csv?account=working",
        f"/ui/org/{B2C_PAYBILL}/settlements",
        f"/ui/org/{B2C_PAYBILL}/operators",
        f"/ui/org/{B2C_PAYBILL}/withdrawals/{withdrawal_id}",
        f"/ui/org/{OTHER}/withdrawals/{withdrawal_id}",
        f"/ui/org/switch?to={B2C_PAYBILL}",
    ):
        reply = await client.get(url, follow_redirects=False)
        assert reply.status_code == 404, url
        assert withdrawal_id not in reply.text and "750.00" not in reply.text
    own = await client.get(f"/ui/org/{OTHER}/settlements")
    assert own.status_code == 200 and withdrawal_id not in own.text
    refused = await post_form(
        client, f"/ui/org/{OTHER}", f"/ui/org/{B2C_PAYBILL}/withdraw", amount="1"
    )
    assert refused.status_code == 404


async def test_statement_csv_lists_the_lines_with_balances(client: Any) -> None:
    await sign_in(client, B2C_PAYBILL)
    await post_form(client, f"/ui/org/{B2C_PAYBILL}", f"/ui/org/{B2C_PAYBILL}/move", amount="1,200")
    made = await post_form(
        client, f"/ui/org/{B2C_PAYBILL}", f"/ui/org/{B2C_PAYBILL}/withdraw", amount="500"
    )
    withdrawal_id = made.headers["location"].rsplit("/", 1)[1]
    reply = await client.get(f"/ui/org/{B2C_PAYBILL}/statement.csv?account=working")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/csv")
    assert "attachment" in reply.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(reply.text)))
    assert rows[0] == ["Receipt No.", "Completion Time", "Details", "Direction", "Paid In",
                       "Withdrawn", "Balance"]  # fmt: skip
    assert [(r[0], r[2], r[4], r[5], r[6]) for r in rows[1:]] == [
        (withdrawal_id, "Payment: Bank settlement", "", "500.00", "700.00"),
        (rows[2][0], f"Payment: Utility account {B2C_PAYBILL}", "1200.00", "", "1200.00"),
    ]
    only_debits = await client.get(
        f"/ui/org/{B2C_PAYBILL}/statement.csv?account=working&direction=debit"
    )
    assert len(list(csv.reader(io.StringIO(only_debits.text)))) == 2
    page = await client.get(
        f"/ui/org/{B2C_PAYBILL}/statement?account=working&receipt={withdrawal_id.lower()}"
    )
    assert withdrawal_id in page.text and "<svg" not in page.text  # one line: no chart
    full = await client.get(f"/ui/org/{B2C_PAYBILL}/statement?account=working")
    assert 'class="balance-chart"' in full.text


async def test_admin_pages_work_for_the_own_organisation(client: Any) -> None:
    await sign_in(client, B2C_PAYBILL)
    created = await post_form(
        client,
        f"/ui/org/{B2C_PAYBILL}/operators",
        f"/ui/org/{B2C_PAYBILL}/operators",
        shortcode=B2C_PAYBILL,
        username="payouts1",
        roles="ORG B2C API initiator",
        password="Payout#2026x",
    )
    assert created.status_code == 303
    listing = await client.get(f"/ui/org/{B2C_PAYBILL}/operators")
    assert "payouts1" in listing.text and "API operator payouts1 created" in listing.text
    weak = await post_form(
        client,
        f"/ui/org/{B2C_PAYBILL}/operators",
        f"/ui/org/{B2C_PAYBILL}/operators/password",
        operator=f"{B2C_PAYBILL}/payouts1",
        password="short",
    )
    assert weak.status_code == 303
    assert "Refused: the password must" in (await client.get(weak.headers["location"])).text
    switched = await post_form(
        client, f"/ui/org/{B2C_PAYBILL}/c2b", f"/ui/org/{B2C_PAYBILL}/c2b/{B2C_PAYBILL}/validation",
        switch="on",
    )  # fmt: skip
    assert switched.status_code == 303
    assert "Validation on 600996 is on" in (await client.get(f"/ui/org/{B2C_PAYBILL}/c2b")).text
    made = await post_form(
        client,
        f"/ui/org/{B2C_PAYBILL}/credential",
        f"/ui/org/{B2C_PAYBILL}/credential",
        password="Safaricom999!*!",
    )
    assert made.status_code == 200
    assert 'id="security-credential"' in made.text


async def test_bad_input_is_refused_never_a_server_error(client: Any) -> None:
    refused = await client.post(
        "/ui/org/login",
        data={
            "_csrf_token": csrf_of((await client.get("/ui/org/login")).text),
            "shortcode": "600996\x00",
            "username": "web\x00admin",
            "password": "x",
        },
        follow_redirects=False,
    )
    assert refused.status_code == 303 and refused.headers["location"] == "/ui/org/login"
    await sign_in(client, B2C_PAYBILL)
    for url in (
        f"/ui/org/{B2C_PAYBILL}/withdrawals/%00",
        f"/ui/org/{B2C_PAYBILL}/withdrawals/NOSUCHRCPT",
        f"/ui/org/{B2C_PAYBILL}/statement?account=nothing",
        "/ui/org/%00",
    ):
        assert (await client.get(url, follow_redirects=False)).status_code == 404, url
    for url in (f"/ui/org/{B2C_PAYBILL}/settlements?page=0",
                f"/ui/org/{B2C_PAYBILL}/settlements?page=x"):  # fmt: skip
        assert (await client.get(url, follow_redirects=False)).status_code == 400, url
    assert (await client.get(f"/ui/org/{B2C_PAYBILL}/settlements?page=3")).status_code == 200
    odd = await client.get(
        f"/ui/org/{B2C_PAYBILL}/statement?account=working&receipt=%00&from=yesterday&type=x"
    )
    assert odd.status_code == 200
    for action, fields in (
        ("withdraw", {"amount": "lots", "form_key": "k" * 24}),
        ("withdraw", {"amount": "100", "form_key": "\x00"}),
        ("move", {"amount": "1e9"}),
        # Past Python's 4,300-digit limit int() raises ValueError: refused before it is parsed.
        ("move", {"amount": "9" * 5000}),
        ("withdraw", {"amount": "1" * 5000, "form_key": "k" * 24}),
        ("withdraw", {"amount": "1," + "000," * 1500 + "000"}),
        ("operators/unlock", {"operator": f"{B2C_PAYBILL}/\x00"}),
        ("operators/password", {"operator": f"{B2C_PAYBILL}/x\x00", "password": "A#1aaaaa"}),
    ):
        reply = await post_form(
            client, f"/ui/org/{B2C_PAYBILL}", f"/ui/org/{B2C_PAYBILL}/{action}", **fields
        )
        assert reply.status_code == 303, (action, reply.text)
        page = await client.get(reply.headers["location"])
        assert 'class="notice error"' in page.text, action
    long_password = await post_form(
        client,
        f"/ui/org/{B2C_PAYBILL}/credential",
        f"/ui/org/{B2C_PAYBILL}/credential",
        password="A" * 300,
    )
    assert long_password.status_code == 200 and "1 to 64 characters" in long_password.text


async def test_a_resent_withdraw_form_says_so(client: Any) -> None:
    await sign_in(client, B2C_PAYBILL)
    home = f"/ui/org/{B2C_PAYBILL}"
    await post_form(client, home, f"{home}/move", amount="300")
    page = await client.get(home)
    # The page's second form key is the withdraw form's (the first is the move form's).
    withdraw_key = _FORM_KEY.findall(page.text)[1]
    data = {"_csrf_token": csrf_of(page.text), "amount": "100", "form_key": withdraw_key}
    first = await client.post(f"{home}/withdraw", data=data, follow_redirects=False)
    assert "has left M-PESA" in (await client.get(first.headers["location"])).text
    again = await client.post(f"{home}/withdraw", data=data, follow_redirects=False)
    assert again.headers["location"] == first.headers["location"]
    shown = (await client.get(again.headers["location"])).text
    assert "already sent" in shown and "has left M-PESA" not in shown


async def test_a_business_operator_cannot_withdraw_or_administer(
    client: Any, seeded_engine: tuple[Engine, SandboxCredentials]
) -> None:
    """Roles are checked on the server, whatever the form: a Business Operator (no Business
    Manager or Business Administrator role) posting the forms by hand is refused."""
    add_web_operator(
        seeded_engine[0], shortcode=B2C_PAYBILL, username="teller",
        role=OperatorRole.BUSINESS_OPERATOR, password="Clerk#2026pw", now=time.time(),
    )  # fmt: skip
    page = await client.get("/ui/org/login")
    signed = await client.post(
        "/ui/org/login",
        data={"_csrf_token": csrf_of(page.text), "shortcode": B2C_PAYBILL,
              "username": "teller", "password": "Clerk#2026pw"},
        follow_redirects=False,
    )  # fmt: skip
    assert signed.headers["location"] == f"/ui/org/{B2C_PAYBILL}"
    home = f"/ui/org/{B2C_PAYBILL}"
    for action, fields in (
        ("withdraw", {"amount": "100", "form_key": "k" * 24}),
        ("move", {"amount": "100", "form_key": "m" * 24}),
        ("operators/unlock", {"operator": f"{B2C_PAYBILL}/{fixtures.WEB_OPERATOR_NAME}"}),
        (f"c2b/{B2C_PAYBILL}/validation", {"switch": "on"}),
        ("operators/password", {"operator": f"{B2C_PAYBILL}/teller", "password": "Clerk#2027pw"}),
    ):
        reply = await post_form(client, home, f"{home}/{action}", **fields)
        assert reply.status_code == 403, (action, reply.status_code)
        assert "Not allowed" in reply.text
    assert "No withdrawals yet." in (await client.get(f"{home}/settlements")).text
