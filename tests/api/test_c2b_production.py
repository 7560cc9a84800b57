"""C2B rules that only production enforces: HTTPS URLs, one registration, no simulate."""

from __future__ import annotations

import pytest

from pesabox.settings import Settings
from tests.api.conftest import Gateway

BODY = {
    "ShortCode": "600000",
    "ResponseType": "Completed",
    "ConfirmationURL": "https://shop.example/c2b/confirm",
    "ValidationURL": "https://shop.example/c2b/validate",
}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, environment="production")


async def test_production_registers_once(gateway: Gateway) -> None:
    first = await gateway.client.post(
        "/mpesa/c2b/v1/registerurl", json=BODY, headers=gateway.bearer
    )
    assert first.status_code == 200, first.text
    again = await gateway.client.post(
        "/mpesa/c2b/v1/registerurl", json=BODY, headers=gateway.bearer
    )
    assert again.status_code == 500
    assert again.json()["errorCode"] == "500.003.1001"
    assert again.json()["errorMessage"] == "Urls are already registered."


async def test_production_needs_https(gateway: Gateway) -> None:
    body = BODY | {"ConfirmationURL": "http://shop.example/c2b/confirm"}
    reply = await gateway.client.post(
        "/mpesa/c2b/v1/registerurl", json=body, headers=gateway.bearer
    )
    assert reply.status_code == 400
    assert reply.json()["errorMessage"] == "Bad Request - Invalid ConfirmationURL"


async def test_production_has_no_simulate(gateway: Gateway) -> None:
    reply = await gateway.client.post(
        "/mpesa/c2b/v1/simulate",
        json={"ShortCode": "600000", "CommandID": "CustomerPayBillOnline", "Amount": 1,
              "Msisdn": "254708374149", "BillRefNumber": "x"},
        headers=gateway.bearer,
    )  # fmt: skip
    assert reply.status_code == 404
    assert reply.json()["errorCode"] == "404.003.01"
