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

import httpx
import pytest
from mpesakit import AsyncMpesaClient, MpesaClient
from mpesakit.c2b import C2BValidationRequest, C2BValidationResponse
from mpesakit.http_client import MpesaAsyncHttpClient, MpesaHttpClient

from tests.e2e import CUSTOMER, HTTP_TIMEOUT_S, PASSKEY, PIN, SHOP, SHORTCODE, PesaboxServer
from tests.e2e.receiver import CallbackReceiver, Received

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


# --- C2B ------------------------------------------------------------------------------------

C2B_PAYBILL = 600000
# Paths free of Daraja's forbidden words ("mpesa" among them, so not "mpesakit"): mpesakit
# warns about those, and the server refuses them.
KIT_VALIDATION = "/kit-c2b/validation"
KIT_CONFIRMATION = "/kit-c2b/confirmation"


def test_sync_client_registers_c2b_urls_and_parses_validation_and_confirmation(
    target: PesaboxServer, receiver: CallbackReceiver
) -> None:
    """Register URL (v1) with mpesakit, then a payment from the handset reaching a real
    receiver on loopback with validation and confirmation. mpesakit has no C2B simulate, so
    the customer pays from the sandbox's handset."""
    client = MpesaClient(
        target.sandbox.consumer_key, target.sandbox.consumer_secret, environment="sandbox"
    )
    started = time.monotonic()
    registered = client.c2b.register_url(
        short_code=C2B_PAYBILL,
        response_type="Completed",
        confirmation_url=receiver.url(KIT_CONFIRMATION),
        validation_url=receiver.url(KIT_VALIDATION),
    )
    timed(started, "OAuth and C2B register URL")
    assert registered.is_successful()
    # mpesakit renames Safaricom's misspelt OriginatorCoversationID to this.
    assert registered.OriginatorConversationID

    # The business's answer, built with mpesakit's own validation-response model.
    answer = C2BValidationResponse(
        ResultCode="0", ResultDesc="Accepted", ThirdPartyTransID="KIT-42"
    )
    receiver.answer(KIT_VALIDATION, answer.model_dump(exclude_none=True))
    with httpx.Client(base_url=target.base_url, timeout=HTTP_TIMEOUT_S) as http:
        switched = http.put(
            f"/sandbox/v1/shortcodes/{C2B_PAYBILL}/validation", json={"enabled": True}
        )
        assert switched.status_code == 200, switched.text
        paid = http.post(
            f"/sandbox/v1/handsets/{CUSTOMER}/paybill",
            json={"business_number": str(C2B_PAYBILL), "account_number": "KIT1",
                  "amount": 75, "pin": PIN},
        )  # fmt: skip
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "completed", paid.json()
    trans_id = paid.json()["TransID"]

    def confirmed(items: list[Received]) -> bool:
        return any(r.path == KIT_CONFIRMATION for r in items)

    receiver.wait_until(confirmed, timeout_s=CALLBACK_TIMEOUT_S, what="the C2B confirmation")
    [validation] = receiver.on(KIT_VALIDATION)
    [confirmation] = receiver.on(KIT_CONFIRMATION)
    assert validation.at_s < confirmation.at_s
    asked = C2BValidationRequest.model_validate(validation.json())
    told = C2BValidationRequest.model_validate(confirmation.json())
    assert asked.TransID == told.TransID == trans_id
    assert asked.TransactionType == told.TransactionType == "Pay Bill"
    assert asked.BusinessShortCode == told.BusinessShortCode == C2B_PAYBILL
    assert asked.TransAmount == told.TransAmount == 75.0
    assert asked.BillRefNumber == told.BillRefNumber == "KIT1"
    assert asked.TransTime == told.TransTime and len(told.TransTime) == 14
    assert asked.MSISDN == told.MSISDN
    # Blank while validating; the utility's new balance once confirmed.
    assert asked.OrgAccountBalance == ""
    assert told.OrgAccountBalance is not None and float(told.OrgAccountBalance) >= 75.0
    # The business's ThirdPartyTransID is echoed in the confirmation, not the validation.
    assert asked.ThirdPartyTransID == ""
    assert told.ThirdPartyTransID == "KIT-42"
    assert paid.json()["ThirdPartyTransID"] == "KIT-42"
