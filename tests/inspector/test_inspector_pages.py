"""The inspector's pages in-process: the tables, a request's detail, resend with CSRF."""

from __future__ import annotations

import re

from pesabox.core.inspector import InspectorService
from tests.inspector.conftest import Gateway
from tests.inspector.pushes import delivered, delivered_push, logged_request, push
from tests.support import CallbackReceiver

CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def test_list_page_shows_requests_and_callbacks_with_codes(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    accepted, _ = await delivered_push(
        gateway, receiver, InspectorService(platform=gateway.platform), "254708374149"
    )
    await gateway.platform.request_log.flush()

    html = (await gateway.client.get("/ui/inspector")).text

    assert "/mpesa/stkpush/v1/processrequest" in html
    assert accepted["CheckoutRequestID"] in html
    assert "accepted for processing" in html
    assert "The service request is processed successfully." in html
    assert 'for="filter-msisdn"' in html


async def test_filter_form_narrows_the_tables(gateway: Gateway, receiver: CallbackReceiver) -> None:
    first = await push(gateway, receiver, "254708374149")
    second = await push(gateway, receiver, "254722000000")
    await gateway.platform.request_log.flush()

    reply = await gateway.client.get("/ui/inspector/requests", params={"msisdn": "254722000000"})

    assert second["CheckoutRequestID"] in reply.text
    assert first["CheckoutRequestID"] not in reply.text


async def test_live_callback_fragment_carries_resend_forms_with_their_token(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    accepted, _ = await delivered_push(
        gateway, receiver, InspectorService(platform=gateway.platform), "254708374149"
    )

    reply = await gateway.client.get("/ui/inspector/callbacks", params={"msisdn": "254708374149"})

    assert accepted["CheckoutRequestID"] in reply.text
    assert CSRF_FIELD.search(reply.text) is not None
    assert 'value="/ui/inspector?msisdn=254708374149"' in reply.text


async def test_request_page_shows_bodies_and_the_linked_callback(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    service = InspectorService(platform=gateway.platform)
    accepted, callback = await delivered_push(gateway, receiver, service, "254708374149")
    request = await logged_request(gateway, service, accepted["CheckoutRequestID"])

    html = (await gateway.client.get(f"/ui/inspector/requests/{request.id}")).text

    assert f"Callback #{callback.id}" in html
    assert "&#34;Password&#34;" in html and "&#34;****&#34;" in html
    assert accepted["CheckoutRequestID"] in html
    assert 'id="response-body"' in html


async def test_unknown_request_page_is_not_found(gateway: Gateway) -> None:
    assert (await gateway.client.get("/ui/inspector/requests/999999")).status_code == 404


async def test_resend_from_the_page_with_its_csrf_token(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    service = InspectorService(platform=gateway.platform)
    accepted, callback = await delivered_push(gateway, receiver, service, "254708374149")
    page = await gateway.client.get(f"/ui/inspector/callbacks/{callback.id}")
    token = CSRF_FIELD.search(page.text)
    assert token is not None

    reply = await gateway.client.post(
        f"/ui/inspector/callbacks/{callback.id}/resend",
        data={"_csrf_token": token.group(1), "back": "https://elsewhere.example/"},
        follow_redirects=False,
    )

    assert reply.status_code == 303
    assert reply.headers["location"] == "/ui/inspector"
    again = await delivered(service, accepted["CheckoutRequestID"], 2)
    assert len(again.attempts) == 2


async def test_resend_without_the_csrf_token_is_refused(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    service = InspectorService(platform=gateway.platform)
    accepted, callback = await delivered_push(gateway, receiver, service, "254708374149")

    reply = await gateway.client.post(f"/ui/inspector/callbacks/{callback.id}/resend", data={})

    assert reply.status_code == 403


async def test_a_filter_with_a_nul_is_answered_not_a_500(gateway: Gateway) -> None:
    # PostgreSQL refuses a NUL in a query's text; the filter drops control characters.
    for path in ("/ui/inspector", "/ui/inspector/requests", "/ui/inspector/callbacks"):
        reply = await gateway.client.get(path, params={"msisdn": "2547\x00", "app": "\x00"})
        assert reply.status_code == 200, reply.text
