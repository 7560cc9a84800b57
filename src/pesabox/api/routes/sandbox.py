"""The sandbox control API under /sandbox/v1: the handset, scenarios, clock and callbacks."""

from __future__ import annotations

from typing import Any

from litestar import Router, delete, get, post
from litestar.params import FromPath, FromQuery

from pesabox.api.body import decode
from pesabox.api.routes.common import AnyRequest, platform_of
from pesabox.api.schemas.sandbox import ClockAdvance, PinEntry, ScenarioIn, scenario_out
from pesabox.domain.services.stk_settle import Settlement


def _settlement(settlement: Settlement) -> dict[str, Any]:
    return {
        "CheckoutRequestID": settlement.checkout_request_id,
        "ResultCode": settlement.result_code,
        "MpesaReceiptNumber": settlement.receipt,
        "callback_id": settlement.callback_id,
    }


@get("/handsets/{msisdn:str}")
async def handset(request: AnyRequest, msisdn: FromPath[str]) -> dict[str, Any]:
    return await platform_of(request).handsets.view(msisdn)


@post("/handsets/{msisdn:str}/prompts/{checkout_request_id:str}/accept", status_code=200)
async def accept_prompt(
    request: AnyRequest, msisdn: FromPath[str], checkout_request_id: FromPath[str]
) -> dict[str, Any]:
    entry = await decode(request, PinEntry)
    settlement = await platform_of(request).handsets.accept(
        msisdn, checkout_request_id, pin=entry.pin
    )
    return _settlement(settlement)


@post("/handsets/{msisdn:str}/prompts/{checkout_request_id:str}/decline", status_code=200)
async def decline_prompt(
    request: AnyRequest, msisdn: FromPath[str], checkout_request_id: FromPath[str]
) -> dict[str, Any]:
    settlement = await platform_of(request).handsets.decline(msisdn, checkout_request_id)
    return _settlement(settlement)


@post("/handsets/{msisdn:str}/prompts/{checkout_request_id:str}/ignore", status_code=200)
async def ignore_prompt(
    request: AnyRequest, msisdn: FromPath[str], checkout_request_id: FromPath[str]
) -> dict[str, Any]:
    expires_at = await platform_of(request).handsets.ignore(msisdn, checkout_request_id)
    return {"CheckoutRequestID": checkout_request_id, "times_out_at": expires_at}


@get("/scenarios")
async def list_scenarios(request: AnyRequest) -> dict[str, Any]:
    scenarios = await platform_of(request).sandbox.list_scenarios()
    return {"scenarios": [scenario_out(s) for s in scenarios]}


@post("/scenarios", status_code=201)
async def add_scenario(request: AnyRequest) -> dict[str, Any]:
    body = await decode(request, ScenarioIn)
    return scenario_out(await platform_of(request).sandbox.add_scenario(body.to_scenario()))


@delete("/scenarios/{scenario_id:int}", status_code=204)
async def delete_scenario(request: AnyRequest, scenario_id: FromPath[int]) -> None:
    await platform_of(request).sandbox.delete_scenario(scenario_id)


@get("/clock")
async def clock(request: AnyRequest) -> dict[str, Any]:
    return platform_of(request).sandbox.clock_view()


@post("/clock", status_code=200)
async def advance_clock(request: AnyRequest) -> dict[str, Any]:
    body = await decode(request, ClockAdvance)
    return await platform_of(request).sandbox.advance_clock(body.advance_s)


@get("/callbacks")
async def list_callbacks(
    request: AnyRequest,
    transaction_id: FromQuery[str | None] = None,
    status: FromQuery[str | None] = None,
    limit: FromQuery[int] = 50,
) -> dict[str, Any]:
    rows = await platform_of(request).sandbox.list_callbacks(
        transaction_id=transaction_id, status=status, limit=max(1, min(limit, 500))
    )
    return {"callbacks": rows}


@post("/callbacks/{callback_id:int}/resend", status_code=202)
async def resend_callback(request: AnyRequest, callback_id: FromPath[int]) -> dict[str, Any]:
    await platform_of(request).sandbox.resend_callback(callback_id)
    return {"id": callback_id, "status": "pending"}


sandbox_router = Router(
    path="/sandbox/v1",
    route_handlers=[
        handset,
        accept_prompt,
        decline_prompt,
        ignore_prompt,
        list_scenarios,
        add_scenario,
        delete_scenario,
        clock,
        advance_clock,
        list_callbacks,
        resend_callback,
    ],
    tags=["sandbox"],
)
