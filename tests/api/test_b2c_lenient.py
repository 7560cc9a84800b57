"""The lenient credential setting: any well-formed credential, but still a real initiator."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Iterator
from typing import Any

import pytest

from pesabox.settings import Settings
from tests.api.conftest import Gateway
from tests.support import CallbackReceiver, threaded

V3 = "/mpesa/b2c/v3/paymentrequest"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url, poll_interval_s=0.05, initiator_credential_check="lenient"
    )


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with threaded(CallbackReceiver()) as running:
        yield running


async def _pay(
    gateway: Gateway, receiver: CallbackReceiver, credential: str, **overrides: Any
) -> int:
    base = receiver.url.rsplit("/", 1)[0]
    body = {
        "OriginatorConversationID": f"lenient-{len(receiver.requests)}-{credential[:6]}",
        "InitiatorName": "testapi", "SecurityCredential": credential,
        "CommandID": "BusinessPayment", "Amount": "100", "PartyA": "600996",
        "PartyB": "254708374149", "Remarks": "lenient", "QueueTimeOutURL": f"{base}/q",
        "ResultURL": f"{base}/b2c/result",
    } | overrides  # fmt: skip
    reply = await gateway.client.post(V3, json=body, headers=gateway.bearer)
    conversation = reply.json()["ConversationID"]
    for _ in range(300):
        for payload in receiver.posted_to("/b2c/result"):
            if payload["Result"]["ConversationID"] == conversation:
                return int(payload["Result"]["ResultCode"])
        await asyncio.sleep(0.02)
    raise AssertionError("no Result")


async def test_any_well_formed_credential_passes(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    # 256 random bytes: the shape of a credential made with a certificate pesabox never issued
    # (Safaricom's, for a client that ships only that one).
    foreign = base64.b64encode(os.urandom(256)).decode()
    assert len(foreign) == 344
    assert await _pay(gateway, receiver, foreign) == 0


async def test_the_initiator_must_still_be_real(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    foreign = base64.b64encode(os.urandom(256)).decode()
    assert await _pay(gateway, receiver, foreign, InitiatorName="nobody") == 2001
    # Not the shape of a credential at all: the strict check applies, and it fails.
    assert await _pay(gateway, receiver, "not-a-credential") == 2001
