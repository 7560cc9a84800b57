"""The inspector's reads: filters, a request linked to its callbacks, resend."""

from __future__ import annotations

from pesabox.core.inspector import InspectorFilter, InspectorService
from pesabox.storage import inspector_store
from pesabox.storage.db import read_transaction
from tests.gateway import STK_PUSH
from tests.inspector.conftest import Gateway
from tests.inspector.pushes import delivered, delivered_push, logged_request, push
from tests.support import CallbackReceiver


async def test_request_detail_links_the_push_to_its_callback(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    service = InspectorService(platform=gateway.platform)
    accepted, _ = await delivered_push(gateway, receiver, service, "254708374149")
    request = await logged_request(gateway, service, accepted["CheckoutRequestID"])

    detail = await service.request_detail(request.id)

    assert detail is not None
    assert detail.request.code == "0" and detail.request.code_meaning == "accepted for processing"
    [callback] = detail.callbacks
    assert callback.row["transaction_id"] == accepted["CheckoutRequestID"]
    assert callback.code == "0"
    assert callback.code_meaning is not None and "processed successfully" in callback.code_meaning
    assert callback.attempts[0]["status_code"] == 200
    assert "CheckoutRequestID" in callback.payload_text


async def test_filters_pick_requests_and_callbacks(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    service = InspectorService(platform=gateway.platform)
    first = await push(gateway, receiver, "254708374149")
    second, _ = await delivered_push(gateway, receiver, service, "254722000000")
    await gateway.platform.request_log.flush()

    by_msisdn = await service.requests(InspectorFilter(msisdn="254722000000"))
    by_id = await service.requests(InspectorFilter(transaction_id=first["CheckoutRequestID"]))
    by_app = await service.requests(InspectorFilter(app=gateway.app_name))
    by_shortcode = await service.requests(InspectorFilter(shortcode="174379"))
    callbacks = await service.callbacks(InspectorFilter(msisdn="254722000000"))
    nobody = await service.requests(InspectorFilter(msisdn="254799999999"))

    assert [r.row["checkout_request_id"] for r in by_msisdn] == [second["CheckoutRequestID"]]
    assert [r.row["checkout_request_id"] for r in by_id] == [first["CheckoutRequestID"]]
    assert {r.row["checkout_request_id"] for r in by_shortcode} == {
        first["CheckoutRequestID"],
        second["CheckoutRequestID"],
    }
    assert len(by_app) == 3  # the token request and both pushes
    assert [c.row["transaction_id"] for c in callbacks] == [second["CheckoutRequestID"]]
    assert nobody == []


async def test_callbacks_by_app_go_through_the_requests_log(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    """A callback's payload never names the app: only the logged push links it (on SQLite
    from the log's own file to the main one)."""
    service = InspectorService(platform=gateway.platform)
    first = await push(gateway, receiver, "254708374149")
    second, _ = await delivered_push(gateway, receiver, service, "254722000000")
    await gateway.platform.request_log.flush()

    by_app = await service.callbacks(InspectorFilter(app=gateway.app_name))
    by_other_app = await service.callbacks(InspectorFilter(app="no such app"))

    assert [c.row["transaction_id"] for c in by_app] == [
        second["CheckoutRequestID"],
        first["CheckoutRequestID"],
    ]
    assert by_other_app == []


async def test_callbacks_match_among_more_linked_ids_than_a_statement_takes_parameters(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    """Up to three ids for each retained request: SQLite takes at most 32,766 parameters."""
    service = InspectorService(platform=gateway.platform)
    accepted, _ = await delivered_push(gateway, receiver, service, "254708374149")
    linked = {"app": [f"ws_CO_{n}" for n in range(40_000)] + [accepted["CheckoutRequestID"]]}

    with read_transaction(gateway.platform.engine) as conn:
        rows = inspector_store.list_callbacks(
            conn, InspectorFilter(app="bench"), linked=linked, window=100
        )

    assert [row["transaction_id"] for row in rows] == [accepted["CheckoutRequestID"]]


async def test_callback_detail_lists_the_requests_that_carry_its_id(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    service = InspectorService(platform=gateway.platform)
    accepted, callback = await delivered_push(gateway, receiver, service, "254708374149")
    await gateway.platform.request_log.flush()

    found = await service.callback_detail(callback.id)

    assert found is not None
    view, requests = found
    assert view.id == callback.id
    assert [r.row["path"] for r in requests] == [STK_PUSH]


async def test_resend_makes_another_attempt(gateway: Gateway, receiver: CallbackReceiver) -> None:
    service = InspectorService(platform=gateway.platform)
    accepted, callback = await delivered_push(gateway, receiver, service, "254708374149")

    await service.resend(callback.id)

    again = await delivered(service, accepted["CheckoutRequestID"], 2)
    assert [a["attempt"] for a in again.attempts] == [1, 2]
    assert len(receiver.stk_results(accepted["CheckoutRequestID"])) == 2


async def test_unknown_ids_give_none(gateway: Gateway) -> None:
    service = InspectorService(platform=gateway.platform)

    assert await service.request_detail(987654) is None
    assert await service.request_detail(2**70) is None
    assert await service.callback_detail(987654) is None
