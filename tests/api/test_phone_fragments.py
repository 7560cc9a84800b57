"""The phone's live parts (prompts, inbox, events) answer only for simulated customers, as the
phone page does: the inbox may hold a one-time code meant for a simulated handset."""

from __future__ import annotations

import pytest

from tests.api.conftest import Gateway

JOHN = "254708374149"


@pytest.mark.parametrize("part", ["prompts", "inbox", "events"])
async def test_live_parts_refuse_a_number_that_is_no_customer(gateway: Gateway, part: str) -> None:
    reply = await gateway.client.get(f"/ui/phone/254799999999/{part}")
    assert reply.status_code == 404, reply.text


@pytest.mark.parametrize("part", ["prompts", "inbox"])
async def test_live_parts_answer_for_a_customer(gateway: Gateway, part: str) -> None:
    reply = await gateway.client.get(f"/ui/phone/{JOHN}/{part}")
    assert reply.status_code == 200, reply.text
