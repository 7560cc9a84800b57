"""Conformance: the unmodified PyPI client mpesakit, pointed at a real pesabox server.

The only change to mpesakit is where it sends requests: its HTTP clients' `_resolve_base_url`
returns our server instead of sandbox.safaricom.co.ke (ecosystem.md §4; mpesakit has no
setting for it). Everything else, from how it builds the STK Password and Timestamp (host
local time) to the extra `Passkey` field it leaks into every body and the pydantic models
it parses our answers with, is mpesakit's own.
"""

from __future__ import annotations

import re
import time

import pytest
from mpesakit import AsyncMpesaClient, MpesaClient
from mpesakit.http_client import MpesaAsyncHttpClient, MpesaHttpClient

from tests.e2e import CUSTOMER, PASSKEY, SHOP, SHORTCODE, PesaboxServer
from tests.e2e.receiver import CallbackReceiver

pytestmark = pytest.mark.e2e

RECEIPT = re.compile(r"^[A-Z0-9]{10}$")
CALLBACK_TIMEOUT_S = 15.0
# mpesakit retries timeouts and connection errors with 5–8 s waits; a conformance test
# that needs that long has already failed, so each call is held to this budget.
CALL_BUDGET_S = 5.0


@pytest.fixture
def target(server: PesaboxServer, monkeypatch: pytest.MonkeyPatch) -> PesaboxServer:
    """Point every mpesakit client made during the test at `server` (undone afterwards)."""

    def resolve(self: object, env: str) -> str:
        return server.base_url

    monkeypatch.setattr(MpesaHttpClient, "_resolve_base_url", resolve)
    monkeypatch.setattr(MpesaAsyncHttpClient, "_resolve_base_url", resolve)
    return server


def timed(started: float, what: str) -> None:
    elapsed = time.monotonic() - started
    assert elapsed < CALL_BUDGET_S, f"{what} took {elapsed:.1f} s (a retry, or a slow server)"


def test_sync_client_pushes_receives_and_queries(
    target: PesaboxServer, receiver: CallbackReceiver
) -> None:
    client = MpesaClient(
        target.sandbox.consumer_key, target.sandbox.consumer_secret, environment="sandbox"
    )
    assert client.http_client.base_url == target.base_url

    started = time.monotonic()
    assert client.token_manager.get_token()
    pushed = client.stk_push(
        business_short_code=int(SHORTCODE),
        transaction_type="CustomerPayBillOnline",
        amount=1,
        party_a=CUSTOMER,
        party_b=SHORTCODE,
        phone_number=CUSTOMER,
        callback_url=receiver.url("/mpesakit-sync"),
        account_reference="mpesakit",
        transaction_desc="conformance",
        passkey=PASSKEY,
    )
    timed(started, "OAuth and STK push")
    assert pushed.is_successful()
    assert pushed.CheckoutRequestID.startswith("ws_CO_")

    received = receiver.wait_for(pushed.CheckoutRequestID, timeout_s=CALLBACK_TIMEOUT_S)
    assert received.path == "/mpesakit-sync"
    parsed = client.process_stk_callback(received.json())
    assert parsed.is_successful
    assert parsed.Body.stkCallback.MerchantRequestID == pushed.MerchantRequestID
    assert parsed.Body.stkCallback.CheckoutRequestID == pushed.CheckoutRequestID
    assert parsed.amount == 1.0
    assert parsed.mpesa_receipt_number is not None
    assert RECEIPT.match(parsed.mpesa_receipt_number)
    assert parsed.phone_number == CUSTOMER
    assert parsed.transaction_date is not None and len(parsed.transaction_date) == 14

    started = time.monotonic()
    result = client.stk_query(
        business_short_code=int(SHORTCODE),
        checkout_request_id=pushed.CheckoutRequestID,
        passkey=PASSKEY,
    )
    timed(started, "STK query")
    assert result.is_successful()
    assert str(result.ResultCode) == "0"
    assert result.MerchantRequestID == pushed.MerchantRequestID
    # The same body through mpesakit's own query-result parser.
    assert client.process_stk_query_callback(result.model_dump()).ResultCode == result.ResultCode


async def test_async_client_pushes_receives_and_queries(
    target: PesaboxServer, receiver: CallbackReceiver
) -> None:
    async with AsyncMpesaClient(
        target.sandbox.consumer_key, target.sandbox.consumer_secret, environment="sandbox"
    ) as client:
        assert str(client.http_client._client.base_url).rstrip("/") == target.base_url
        started = time.monotonic()
        # As a user types it: mpesakit normalises PhoneNumber but sends PartyA unchanged.
        pushed = await client.stk_push(
            business_short_code=int(SHORTCODE),
            transaction_type="CustomerPayBillOnline",
            amount=2,
            party_a="0708374149",
            party_b=SHORTCODE,
            phone_number="0708374149",
            # A merchant's public https URL, forwarded to the receiver by the server.
            callback_url=f"{SHOP}/mpesakit-async",
            account_reference="mpesakit",
            transaction_desc="conformance",
            passkey=PASSKEY,
        )
        timed(started, "OAuth and STK push")
        assert pushed.is_successful()

        received = await receiver.wait_for_async(
            pushed.CheckoutRequestID, timeout_s=CALLBACK_TIMEOUT_S
        )
        assert received.path == "/mpesakit-async"
        parsed = client.process_stk_callback(received.json())
        assert parsed.is_successful
        assert parsed.Body.stkCallback.MerchantRequestID == pushed.MerchantRequestID
        assert parsed.amount == 2.0
        assert parsed.mpesa_receipt_number is not None
        assert RECEIPT.match(parsed.mpesa_receipt_number)
        assert parsed.phone_number == CUSTOMER

        started = time.monotonic()
        result = await client.stk_query(
            business_short_code=int(SHORTCODE),
            checkout_request_id=pushed.CheckoutRequestID,
            passkey=PASSKEY,
        )
        timed(started, "STK query")
        assert result.is_successful()
        assert str(result.ResultCode) == "0"
        assert result.CheckoutRequestID == pushed.CheckoutRequestID
