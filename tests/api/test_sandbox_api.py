"""The sandbox control API: the handset, scenarios at run time, the clock, callbacks."""

from __future__ import annotations

import asyncio
import re

from tests.api.conftest import Gateway
from tests.gateway import accepted_push
from tests.support import CallbackReceiver, stk_body

PUSH = "/mpesa/stkpush/v1/processrequest"
HANDSET = "/sandbox/v1/handsets"


async def _pending_push(gateway: Gateway, phone: str, receiver: CallbackReceiver) -> str:
    # Scenario 254711000002 never answers on its own, so the prompt waits on the handset.
    accepted = await accepted_push(gateway, receiver, phone=phone, amount=20)
    return str(accepted["CheckoutRequestID"])


async def test_handset_lists_the_prompt_and_accepts_with_pin(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    phone = "254711000002"
    checkout_id = await _pending_push(gateway, phone, receiver)
    view = (await gateway.client.get(f"{HANDSET}/{phone}")).json()
    assert [p["CheckoutRequestID"] for p in view["prompts"]] == [checkout_id]
    assert view["prompts"][0]["Amount"] == 20
    accepted = await gateway.client.post(
        f"{HANDSET}/{phone}/prompts/{checkout_id}/accept", json={"pin": "1234"}
    )
    assert accepted.status_code == 200
    assert accepted.json()["ResultCode"] == 0
    callback = await receiver.wait_for_stk(checkout_id)
    assert callback["ResultCode"] == 0
    after = (await gateway.client.get(f"{HANDSET}/{phone}")).json()
    assert after["prompts"] == []
    receipt = accepted.json()["MpesaReceiptNumber"]
    assert re.match(rf"{receipt} Confirmed\. Ksh20\.00 sent to ", after["messages"][0]["body"])


async def test_handset_wrong_pin_gives_2001_and_moves_nothing(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    phone = "254711000002"
    checkout_id = await _pending_push(gateway, phone, receiver)
    reply = await gateway.client.post(
        f"{HANDSET}/{phone}/prompts/{checkout_id}/accept", json={"pin": "9999"}
    )
    assert reply.json()["ResultCode"] == 2001
    assert (await receiver.wait_for_stk(checkout_id))["ResultCode"] == 2001
    assert (await gateway.client.get(f"{HANDSET}/{phone}")).json()["messages"] == []


async def test_handset_decline_and_double_action(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    phone = "254711000002"
    checkout_id = await _pending_push(gateway, phone, receiver)
    declined = await gateway.client.post(f"{HANDSET}/{phone}/prompts/{checkout_id}/decline")
    assert declined.json()["ResultCode"] == 1032
    assert (await receiver.wait_for_stk(checkout_id))["ResultCode"] == 1032
    again = await gateway.client.post(f"{HANDSET}/{phone}/prompts/{checkout_id}/decline")
    assert again.status_code == 409
    other = await gateway.client.post(f"{HANDSET}/254708374149/prompts/{checkout_id}/decline")
    assert other.status_code == 404


async def test_handset_ignore_times_out_with_1037(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    await gateway.client.post(
        "/sandbox/v1/scenarios", json={"msisdn": "254722000000", "action": "accept", "delay_s": 30}
    )
    checkout_id = await _pending_push(gateway, "254722000000", receiver)
    ignored = await gateway.client.post(f"{HANDSET}/254722000000/prompts/{checkout_id}/ignore")
    assert ignored.status_code == 200
    await gateway.client.post("/sandbox/v1/clock", json={"advance_s": 61})
    assert (await receiver.wait_for_stk(checkout_id))["ResultCode"] == 1037


async def test_runtime_scenario_overrides_builtin_and_can_be_deleted(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    created = await gateway.client.post(
        "/sandbox/v1/scenarios",
        json={"msisdn": "254708374149", "action": "result", "result_code": 17},
    )
    assert created.status_code == 201, created.text
    scenario = created.json()
    assert scenario["source"] == "runtime"
    listed = (await gateway.client.get("/sandbox/v1/scenarios")).json()["scenarios"]
    assert scenario["id"] in [s["id"] for s in listed]
    assert any(s["source"] == "builtin" and s["msisdn"] == "254711000001" for s in listed)
    reply = await gateway.client.post(
        PUSH, json=stk_body(callback_url=receiver.url), headers=gateway.bearer
    )
    assert (await receiver.wait_for_stk(reply.json()["CheckoutRequestID"]))["ResultCode"] == 17
    deleted = await gateway.client.delete(f"/sandbox/v1/scenarios/{scenario['id']}")
    assert deleted.status_code == 204
    reply = await gateway.client.post(
        PUSH, json=stk_body(callback_url=receiver.url), headers=gateway.bearer
    )
    assert (await receiver.wait_for_stk(reply.json()["CheckoutRequestID"]))["ResultCode"] == 0


async def test_scenario_validation(gateway: Gateway) -> None:
    for body in (
        {"action": "decline"},
        {"msisdn": "254708374149", "action": "result"},
        {"msisdn": "254708374149", "action": "fly"},
        {"msisdn": "254708374149", "action": "accept", "callback_mode": "fail"},
        {"msisdn": "2547083741490", "action": "decline"},
        {"msisdn": "254708374149", "action": "result", "result_code": 0},
        {"amount": 10**20, "action": "decline"},
        {"amount": 10, "action": "accept", "delay_s": -1},
    ):
        reply = await gateway.client.post("/sandbox/v1/scenarios", json=body)
        assert reply.status_code == 400, body
        assert set(reply.json()) == {"requestId", "errorCode", "errorMessage"}


async def _push_under_rule(
    gateway: Gateway, receiver: CallbackReceiver, *, amount: int, delay_s: float
) -> str:
    """Add a rule 'customers paying `amount` accept after `delay_s`', then push that amount."""
    rule = {"amount": amount, "action": "accept", "delay_s": delay_s}
    assert (await gateway.client.post("/sandbox/v1/scenarios", json=rule)).status_code == 201
    reply = await gateway.client.post(
        PUSH, json=stk_body(amount=amount, callback_url=receiver.url), headers=gateway.bearer
    )
    return str(reply.json()["CheckoutRequestID"])


async def test_scenario_delayed_answer_waits_for_the_clock(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    checkout_id = await _push_under_rule(gateway, receiver, amount=77, delay_s=20)
    await gateway.client.post("/sandbox/v1/clock", json={"advance_s": 5})
    assert receiver.stk_results(checkout_id) == []
    clock = (await gateway.client.post("/sandbox/v1/clock", json={"advance_s": 16})).json()
    assert clock["offset_s"] == 21
    assert (await receiver.wait_for_stk(checkout_id))["ResultCode"] == 0


async def test_callback_never_is_recorded_and_can_be_resent(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    reply = await gateway.client.post(
        PUSH, json=stk_body(phone="254711000006", callback_url=receiver.url), headers=gateway.bearer
    )
    checkout_id = reply.json()["CheckoutRequestID"]
    listed = []
    for _ in range(100):
        listed = (
            await gateway.client.get(
                "/sandbox/v1/callbacks", params={"transaction_id": checkout_id}
            )
        ).json()["callbacks"]
        if listed:
            break
        await asyncio.sleep(0.05)
    assert listed[0]["status"] == "suppressed"
    assert receiver.stk_results(checkout_id) == []
    resent = await gateway.client.post(f"/sandbox/v1/callbacks/{listed[0]['id']}/resend")
    assert resent.status_code == 202
    assert (await receiver.wait_for_stk(checkout_id))["ResultCode"] == 0


async def test_callback_failing_three_times_then_arrives(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    reply = await gateway.client.post(
        PUSH, json=stk_body(phone="254711000007", callback_url=receiver.url), headers=gateway.bearer
    )
    checkout_id = reply.json()["CheckoutRequestID"]
    await receiver.wait_for_stk(checkout_id)
    outcomes: list[str] = []
    for _ in range(100):  # the delivered attempt is recorded just after the POST returns
        listed = (
            await gateway.client.get(
                "/sandbox/v1/callbacks", params={"transaction_id": checkout_id}
            )
        ).json()["callbacks"]
        outcomes = [a["outcome"] for a in listed[0]["attempts_detail"]]
        if len(outcomes) == 4:
            break
        await asyncio.sleep(0.05)
    assert outcomes == ["retry", "retry", "retry", "delivered"]
    assert len(receiver.stk_results(checkout_id)) == 1


async def test_unknown_callback_resend_is_404(gateway: Gateway) -> None:
    reply = await gateway.client.post("/sandbox/v1/callbacks/999999/resend")
    assert reply.status_code == 404


async def test_ids_out_of_range_are_not_found(gateway: Gateway) -> None:
    assert (await gateway.client.delete(f"/sandbox/v1/scenarios/{2**70}")).status_code == 404
    assert (await gateway.client.post(f"/sandbox/v1/callbacks/{2**70}/resend")).status_code == 404


async def test_an_answer_later_than_the_prompt_timeout_is_a_timeout(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    checkout_id = await _push_under_rule(gateway, receiver, amount=88, delay_s=90)
    await gateway.client.post("/sandbox/v1/clock", json={"advance_s": 61})
    assert (await receiver.wait_for_stk(checkout_id))["ResultCode"] == 1037
