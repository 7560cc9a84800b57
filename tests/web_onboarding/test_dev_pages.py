"""/ui/dev over HTTP: signing up, sandbox apps, the application form with its uploads and
every refusal, one developer's things closed to another."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from pesabox.api.app import create_app
from tests.web_onboarding.conftest import (
    PDF,
    PNG,
    World,
    apply,
    csrf_of,
    document_files,
    post_form,
    sign_up,
)


async def test_dev_pages_without_production_say_onboarding_is_not_served(world: World) -> None:
    app = create_app(world.sandbox.settings, platform=world.sandbox)
    async with AsyncTestClient(app=app) as alone:  # type: ignore[type-var]
        reply = await alone.get("/ui/dev/login")
    assert reply.status_code == 503
    assert "PESABOX_ENVIRONMENTS=sandbox,production" in reply.text


async def test_dev_sign_up_signs_in_with_a_locked_down_cookie(client: Any) -> None:
    reply = await sign_up(client)
    assert "Welcome, Wanjiru Dev" in reply.text and "Sandbox apps" in reply.text
    cookie = next(c for c in client.cookies.jar if c.name == "pesabox_dev_session")
    assert cookie.path == "/ui/dev" and cookie.has_nonstandard_attr("HttpOnly")


async def test_dev_sign_up_refused_lists_every_problem_and_keeps_the_values(client: Any) -> None:
    reply = await post_form(
        client, "/ui/dev/signup", "/ui/dev/signup",
        email="not-an-email", name="Wanjiru Dev", phone="0712", password="short",
    )  # fmt: skip
    assert reply.status_code == 400
    assert 'value="Wanjiru Dev"' in reply.text and 'value="not-an-email"' in reply.text
    assert reply.text.count("<li>") >= 2


async def test_dev_pages_need_a_session(client: Any) -> None:
    reply = await client.get("/ui/dev", follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == "/ui/dev/login"
    token = csrf_of((await client.get("/ui/dev/login")).text)
    posted = await client.post("/ui/dev/apps", data={"_csrf_token": token, "name": "shop"})
    assert posted.status_code == 403 and "Your session has ended" in posted.text


async def test_dev_sandbox_app_shows_its_secret_once_then_deletes(client: Any) -> None:
    await sign_up(client)
    page = await client.get("/ui/dev")
    reply = await client.post(
        "/ui/dev/apps",
        data={
            "_csrf_token": csrf_of(page.text),
            "name": "shop",
            "products": ["mpesa_express", "b2c"],
        },
    )
    assert reply.status_code == 201 or reply.status_code == 200, reply.text
    assert 'id="consumer-secret"' in reply.text and "b2c, mpesa_express" in reply.text
    dashboard = await client.get("/ui/dev")
    assert 'data-app="shop"' in dashboard.text and "consumer-secret" not in dashboard.text
    app_id = dashboard.text.split("/ui/dev/apps/")[1].split("/delete")[0]
    deleted = await post_form(client, "/ui/dev", f"/ui/dev/apps/{app_id}/delete")
    assert "is deleted" in deleted.text and 'data-app="shop"' not in deleted.text


async def test_dev_sandbox_app_without_products_is_refused(client: Any) -> None:
    await sign_up(client)
    reply = await post_form(client, "/ui/dev", "/ui/dev/apps", name="shop")
    assert "choose at least one product" in reply.text.lower()


async def test_dev_sandbox_app_with_a_file_for_products_is_refused(client: Any) -> None:
    await sign_up(client)
    page = await client.get("/ui/dev")
    reply = await client.post(
        "/ui/dev/apps",
        data={"_csrf_token": csrf_of(page.text), "name": "shop"},
        files={"products": ("products.txt", b"b2c", "text/plain")},
    )
    assert reply.status_code < 500, reply.text
    assert "Products must be product names, not files." in reply.text


async def test_dev_application_with_documents_is_sent(client: Any) -> None:
    await sign_up(client)
    # One document above the app's 64 KB default body limit: the upload route takes more.
    files = document_files()
    files["bank_letter"] = ("bank.png", PNG + b"\x00" * 100_000, "image/png")
    reply = await apply(client, files)
    assert reply.status_code == 200, reply.text
    assert 'id="application-state">submitted' in reply.text
    assert reply.text.count("/ui/dev/documents/") == len(files)
    link = reply.text.split('href="/ui/dev/documents/')[1].split('"')[0]
    document = await client.get(f"/ui/dev/documents/{link}")
    assert document.status_code == 200
    assert document.headers["x-content-type-options"] == "nosniff"


async def test_dev_application_missing_a_document_is_listed_with_the_values_kept(
    client: Any,
) -> None:
    await sign_up(client)
    reply = await apply(client, document_files(skip="cr12"), organisation_name="Duka Bora Ltd")
    assert reply.status_code == 400
    assert "Missing documents for a limited_company: cr12" in reply.text
    assert 'value="Duka Bora Ltd"' in reply.text and 'id="problems"' in reply.text
    assert "Duka Bora Ltd" not in (await client.get("/ui/dev")).text


async def test_dev_application_refuses_a_file_that_is_not_what_it_claims(client: Any) -> None:
    await sign_up(client)
    files = document_files()
    files["owner_ids"] = ("ids.pdf", b"<html><script>alert(1)</script></html>", "application/pdf")
    files["cr12"] = ("cr12.pdf", PNG, "application/pdf")
    reply = await apply(client, files, kra_pin="nope")
    assert reply.status_code == 400
    assert "Owner_ids (ids.pdf) is not a PDF, PNG or JPEG file" in reply.text
    assert "Cr12 (cr12.pdf) was sent as application/pdf but its content is image/png" in reply.text
    assert "KRA PIN" in reply.text


async def test_dev_application_over_the_upload_limit_is_a_page_not_an_error(
    client: Any,
) -> None:
    await sign_up(client)
    files = document_files()
    files["owner_ids"] = ("ids.pdf", PDF + b"\0" * (22 * 1024 * 1024), "application/pdf")
    reply = await apply(client, files)
    assert reply.status_code == 413
    assert "documents add up to at most 21 MB" in reply.text
    assert "Mama Mboga" not in (await client.get("/ui/dev")).text


async def test_dev_application_without_the_csrf_token_is_refused(client: Any) -> None:
    await sign_up(client)
    reply = await client.post(
        "/ui/dev/applications", data={"kind": "paybill"}, files=document_files()
    )
    assert reply.status_code == 403


async def test_dev_things_of_another_developer_are_not_found(client: Any, world: World) -> None:
    await sign_up(client)
    sent = await apply(client)
    application_url = str(sent.url.path)
    await post_form(client, "/ui/dev", "/ui/dev/logout")
    await sign_up(client, email="other@shop.example")
    assert (await client.get(application_url)).status_code == 404
    assert (await client.get("/ui/dev/documents/1")).status_code == 404
    assert (await client.get("/ui/dev/crqs/CRQ000000000001")).status_code == 404


async def test_dev_trust_bundle_is_public(client: Any) -> None:
    reply = await client.get("/ui/dev/trust-bundle.pem")
    assert reply.status_code == 200
    assert reply.text.count("BEGIN CERTIFICATE") == 4
