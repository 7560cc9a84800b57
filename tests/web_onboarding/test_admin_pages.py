"""/ui/admin over HTTP, with /ui/dev on the other side: an application reviewed and
approved, LNMO decided only once due on the platform clock, a go-live CRQ through its code to
production keys, a CSR to a certificate; forged and illegal actions refused."""

from __future__ import annotations

import re
from typing import Any

import pytest

from pesabox.domain.change_requests import State
from tests.conftest import DATABASES
from tests.security.pki_helpers import make_csr
from tests.web_onboarding.conftest import (
    ADMIN_PHONE,
    World,
    apply,
    csrf_of,
    go_live_code,
    post_form,
    sign_in_operator,
    sign_up,
)

_DAY_S = 86_400.0


def _number(html: str, prefix: str) -> str:
    found = re.search(rf"{re.escape(prefix)}(\w+)", html)
    assert found, f"no {prefix} link on the page"
    return found.group(1)


async def approved_business(client: Any) -> str:
    """A developer's application, reviewed and approved by the operator; its page URL."""
    await sign_up(client)
    application_url = str((await apply(client)).url.path)
    number = application_url.rsplit("/", 1)[1]
    await sign_in_operator(client)
    admin_url = f"/ui/admin/applications/{number}"
    await post_form(client, admin_url, f"{admin_url}/review")
    approved = await post_form(client, admin_url, f"{admin_url}/approve")
    assert 'id="application-state">approved' in approved.text, approved.text
    return application_url


async def test_admin_pages_need_a_session_and_posts_the_csrf_token(
    client: Any, operator: None
) -> None:
    reply = await client.get("/ui/admin", follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == "/ui/admin/login"
    # A forged decision: refused without a CSRF token, and with one but without a session.
    forged = await client.post("/ui/admin/applications/1/approve", data={})
    assert forged.status_code == 403
    token = csrf_of((await client.get("/ui/admin/login")).text)
    no_session = await client.post(
        "/ui/admin/crqs/CRQ000000000001/approve",
        data={"_csrf_token": token},
        follow_redirects=False,
    )
    assert no_session.status_code == 403 and 'href="/ui/admin/login"' in no_session.text


async def test_admin_a_developer_session_is_no_operator_session(
    client: Any, operator: None
) -> None:
    await sign_up(client)
    reply = await client.get("/ui/admin", follow_redirects=False)
    assert reply.headers["location"] == "/ui/admin/login"


async def test_admin_approves_an_application_and_the_developer_sees_it(
    client: Any, operator: None
) -> None:
    application_url = await approved_business(client)
    page = await client.get(application_url)
    assert 'id="application-state">approved' in page.text
    document = await client.get(f"/ui/admin/documents/{_number(page.text, '/ui/dev/documents/')}")
    assert document.status_code == 200 and document.content.startswith(b"%PDF-")


async def test_admin_rejects_with_a_reason_and_an_illegal_move_is_refused(
    client: Any, operator: None
) -> None:
    await sign_up(client)
    application_url = str((await apply(client)).url.path)
    await sign_in_operator(client)
    admin_url = application_url.replace("/ui/dev/", "/ui/admin/")
    # Approving before the review started is not offered, and refused when forged.
    page = await client.get(admin_url)
    assert f'action="{admin_url}/approve"' not in page.text
    forged = await post_form(client, admin_url, f"{admin_url}/approve")
    assert "cannot become approving" in forged.text
    await post_form(client, admin_url, f"{admin_url}/review")
    no_reason = await post_form(client, admin_url, f"{admin_url}/reject", reason=" ")
    assert "needs a reason" in no_reason.text
    rejected = await post_form(
        client, admin_url, f"{admin_url}/reject", reason="The CR12 is older than 30 days"
    )
    assert 'id="application-state">rejected' in rejected.text
    mine = await client.get(application_url)
    assert "The CR12 is older than 30 days" in mine.text


async def test_admin_decides_lnmo_only_once_due_then_the_passkey_shows(
    client: Any, operator: None, world: World
) -> None:
    await approved_business(client)
    await post_form(client, "/ui/dev", f"/ui/dev/applications/{1}/lnmo")
    console = await client.get("/ui/admin")
    lnmo_url = f"/ui/admin/lnmo/{_number(console.text, '/ui/admin/lnmo/')}"
    await post_form(client, lnmo_url, f"{lnmo_url}/review")
    early = await client.get(lnmo_url)
    assert 'id="not-due"' in early.text and f'action="{lnmo_url}/approve"' not in early.text
    forged = await post_form(client, lnmo_url, f"{lnmo_url}/approve")
    assert "no earlier than 7 days" in forged.text
    world.clock.advance(7 * _DAY_S)
    approved = await post_form(client, lnmo_url, f"{lnmo_url}/approve")
    assert 'id="lnmo-state">approved' in approved.text
    dashboard = await client.get("/ui/dev")
    passkey = re.search(r'class="passkey">([0-9a-f]{64})<', dashboard.text)
    assert passkey is not None


async def _go_live_crq(client: Any) -> str:
    await approved_business(client)
    dashboard = await client.get("/ui/dev")
    organisation = re.search(r'name="organisation" value="(\d+)"', dashboard.text)
    assert organisation is not None
    sent = await client.post(
        "/ui/dev/crqs/go-live",
        data={
            "_csrf_token": csrf_of(dashboard.text),
            "organisation": organisation.group(1),
            "app_name": "Mama Mboga live",
            "products": ["mpesa_express", "c2b"],
        },
    )
    number = _number(sent.text, "<h1>")
    assert number.startswith("CRQ") and 'id="crq-state">submitted' in sent.text
    return number


@pytest.mark.parametrize("world", DATABASES, indirect=True)
async def test_admin_go_live_code_gives_the_production_keys_once(
    client: Any, operator: None, world: World
) -> None:
    number = await _go_live_crq(client)
    admin_url = f"/ui/admin/crqs/{number}"
    await post_form(client, admin_url, f"{admin_url}/review")
    approved = await post_form(client, admin_url, f"{admin_url}/approve", text="Documents fine")
    assert 'id="crq-state">approved' in approved.text and "Send a new code" in approved.text
    code, for_number = go_live_code((await client.get(f"/ui/phone/{ADMIN_PHONE}")).text)
    assert for_number == number
    dev_url = f"/ui/dev/crqs/{number}"
    wrong = "000000" if code != "000000" else "111111"
    refused = await post_form(client, dev_url, f"{dev_url}/confirm", code=wrong)
    assert "The code is wrong; 2 tries left." in refused.text
    keys = await post_form(client, dev_url, f"{dev_url}/confirm", code=code)
    assert 'id="consumer-secret"' in keys.text and "production" in keys.text
    detail = await world.services.change_requests.detail(number)
    assert detail.request.state is State.IMPLEMENTED
    replay = await post_form(client, dev_url, f"{dev_url}/confirm", code=code)
    assert 'id="consumer-secret"' not in replay.text and "notice error" in replay.text


async def test_admin_signs_a_csr_and_the_developer_downloads_the_certificate(
    client: Any, operator: None, world: World
) -> None:
    await approved_business(client)
    dashboard = await client.get("/ui/dev")
    organisation = re.search(r'name="organisation" value="(\d+)"', dashboard.text)
    assert organisation is not None
    token = csrf_of(dashboard.text)
    bad = await client.post(
        "/ui/dev/crqs/certificate",
        data={"_csrf_token": token, "organisation": organisation.group(1)},
        files={"csr_file": ("request.csr", b"not a csr", "application/pkcs10")},
    )
    assert "The CSR must be one PEM certificate request." in bad.text
    csr, _ = make_csr(organisation="Mama Mboga Ltd")
    sent = await client.post(
        "/ui/dev/crqs/certificate",
        data={"_csrf_token": token, "organisation": organisation.group(1)},
        files={"csr_file": ("request.csr", csr.encode(), "application/pkcs10")},
    )
    number = _number(sent.text, "<h1>")
    admin_url = f"/ui/admin/crqs/{number}"
    await post_form(client, admin_url, f"{admin_url}/review")
    await post_form(client, admin_url, f"{admin_url}/comment", text="Looks right")
    implemented = await post_form(client, admin_url, f"{admin_url}/approve")
    assert 'id="crq-state">implemented' in implemented.text and "Looks right" in implemented.text
    certificate = await client.get(f"/ui/dev/crqs/{number}/certificate.pem")
    assert certificate.status_code == 200 and "BEGIN CERTIFICATE" in certificate.text
    queue = await client.get("/ui/admin/crqs?state=implemented&kind=certificate")
    assert f'data-crq="{number}"' in queue.text
    assert f'data-crq="{number}"' not in (await client.get("/ui/admin/crqs?state=submitted")).text


async def test_admin_rejected_lnmo_shows_its_reason_and_may_be_sent_again(
    client: Any, operator: None, world: World
) -> None:
    await approved_business(client)
    await post_form(client, "/ui/dev", "/ui/dev/applications/1/lnmo")
    lnmo_url = f"/ui/admin/lnmo/{_number((await client.get('/ui/admin')).text, '/ui/admin/lnmo/')}"
    await post_form(client, lnmo_url, f"{lnmo_url}/review")
    world.clock.advance(7 * _DAY_S)
    await post_form(client, lnmo_url, f"{lnmo_url}/reject", reason="No callback URL on file")
    dashboard = await client.get("/ui/dev")
    assert "was rejected: No callback URL on file" in dashboard.text
    again = await post_form(client, "/ui/dev", "/ui/dev/applications/1/lnmo")
    assert "application is sent" in again.text and "<strong>submitted</strong>" in again.text


async def test_admin_bad_ids_in_addresses_are_refused_never_a_server_error(
    client: Any, operator: None
) -> None:
    await sign_up(client)
    await sign_in_operator(client)
    huge = "99999999999999999999"
    out_of_range = [
        f"/ui/dev/applications/{huge}",
        "/ui/dev/documents/0",
        f"/ui/admin/applications/{huge}",
        "/ui/admin/lnmo/-1",
        f"/ui/admin/documents/{huge}",
    ]
    for url in out_of_range:
        reply = await client.get(url)
        assert reply.status_code == 400 and "out of range" in reply.text, url
    assert (await client.get("/ui/admin/applications/5")).status_code == 404
    assert (await client.get("/ui/admin/crqs/CRQ%00")).status_code == 404
    assert (await client.get("/ui/admin/crqs?state=%00&kind=zz")).status_code == 200
    posted = await post_form(
        client, "/ui/admin", f"/ui/admin/applications/{huge}/reject", reason="x"
    )
    assert posted.status_code == 400
