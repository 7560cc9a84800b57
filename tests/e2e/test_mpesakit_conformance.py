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
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from mpesakit import AsyncMpesaClient, MpesaClient
from mpesakit.account_balance import (
    AccountBalanceIdentifierType,
    AccountBalanceResultCallback,
    AccountBalanceResultCallbackResponse,
)
from mpesakit.b2c import B2CCommandIDType
from mpesakit.b2c.schemas import B2CResponse, B2CResultCallback, B2CResultCallbackResponse
from mpesakit.c2b import C2BValidationRequest, C2BValidationResponse
from mpesakit.http_client import MpesaAsyncHttpClient, MpesaHttpClient
from mpesakit.reversal import (
    ReversalRequest,
    ReversalResponse,
    ReversalResultCallback,
    ReversalResultCallbackResponse,
)
from mpesakit.security import generate_security_credential
from mpesakit.transaction_status import (
    TransactionStatusIdentifierType,
    TransactionStatusResultCallback,
    TransactionStatusResultCallbackResponse,
)
from pydantic import ValidationError

from pesabox.sandbox.fixtures import SHORTCODES
from tests.e2e import (
    CUSTOMER,
    HTTP_TIMEOUT_S,
    PASSKEY,
    PIN,
    SHOP,
    SHORTCODE,
    PesaboxServer,
    Sandbox,
    run_cli_ok,
)
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


# --- Initiator APIs: B2C, Account Balance, Transaction Status, Reversal -------------------

B2C_SHORTCODE = 600996
# The sandbox initiator and its published password (README, `make run`).
INITIATOR = "testapi"
INITIATOR_PASSWORD = "Safaricom999!*!"  # noqa: S105 - a public sandbox value
KIT_B2C_RESULT = "/kit-b2c/result"
KIT_B2C_TIMEOUT = "/kit-b2c/timeout"


def kit_credential(sandbox: Sandbox, tmp_path: Path) -> str:
    """A SecurityCredential made the way an mpesakit user makes one: its own helper, reading
    the certificate file that `pesabox certs export` wrote (PEM, the format it loads).
    mpesakit appends a 14-digit timestamp to the password before encrypting."""
    certificate = tmp_path / "pesabox-sandbox.cer"
    run_cli_ok(
        ["certs", "export", "--environment", "sandbox", "--out", str(certificate)],
        sandbox.database_url,
    )
    credential = str(generate_security_credential(INITIATOR_PASSWORD, cert_path=str(certificate)))
    # RSA-2048, base64: the length Daraja's clients send.
    assert len(credential) == 344
    return credential


def daraja_result_as_mpesakit_expects(payload: dict[str, Any]) -> dict[str, Any]:
    """mpesakit's `B2CResultMetadata.ResultParameters` is typed as the bare list of
    Key/Value items, while Daraja (daraja-api.md §6, §22: `ResultParameters.ResultParameter`)
    nests the list one level down, as pesabox sends it. Lift that one level, nothing else,
    so mpesakit's own model and accessors can check the rest of the Result."""
    result = dict(payload["Result"])
    result["ResultParameters"] = result["ResultParameters"]["ResultParameter"]
    return {**payload, "Result": result}


def wait_for_result(receiver: CallbackReceiver, path: str, conversation_id: str) -> dict[str, Any]:
    """The one Result for this ConversationID POSTed to `path`, waiting for it if need be."""

    def conversation(item: Received) -> object:
        try:
            return item.json()["Result"]["ConversationID"]
        except (ValueError, KeyError, TypeError):
            return None

    def mine(items: list[Received]) -> list[Received]:
        return [r for r in items if r.path == path and conversation(r) == conversation_id]

    receiver.wait_until(
        lambda items: bool(mine(items)),
        timeout_s=CALLBACK_TIMEOUT_S,
        what=f"the Result for {conversation_id} at {path}",
    )
    [found] = mine(receiver.received)
    payload: dict[str, Any] = found.json()
    return payload


def kit_b2c_payout(
    client: MpesaClient, credential: str, receiver: CallbackReceiver, amount: int
) -> tuple[B2CResponse, str, dict[str, Any]]:
    """A B2C v3 payout through `client.b2c.send_payment`: its acknowledgement, the
    OriginatorConversationID it was sent with, and the Result as it arrived on loopback."""
    originator_id = f"kit-b2c-{uuid.uuid4().hex[:12]}"
    started = time.monotonic()
    acked = client.b2c.send_payment(
        originator_conversation_id=originator_id,
        initiator_name=INITIATOR,
        security_credential=credential,
        command_id=B2CCommandIDType.BusinessPayment,
        amount=amount,
        party_a=str(B2C_SHORTCODE),
        party_b=CUSTOMER,
        remarks="conformance payout",
        queue_timeout_url=receiver.url(KIT_B2C_TIMEOUT),
        result_url=receiver.url(KIT_B2C_RESULT),
        occasion="kit",
    )
    timed(started, "OAuth and B2C v3 payment request")
    assert acked.ConversationID is not None
    payload = wait_for_result(receiver, KIT_B2C_RESULT, acked.ConversationID)
    assert receiver.on(KIT_B2C_TIMEOUT) == []
    return acked, originator_id, payload


def test_sync_client_pays_out_b2c_v3_with_its_own_credential(
    target: PesaboxServer, receiver: CallbackReceiver, tmp_path: Path
) -> None:
    """B2C v3 through `client.b2c.send_payment`, with a credential from mpesakit's helper and
    pesabox's exported certificate; the Result reaches a real receiver on loopback and is
    read with mpesakit's B2C Result model."""
    credential = kit_credential(target.sandbox, tmp_path)
    client = MpesaClient(
        target.sandbox.consumer_key, target.sandbox.consumer_secret, environment="sandbox"
    )
    acked, originator_id, payload = kit_b2c_payout(client, credential, receiver, 150)
    assert acked.is_successful()
    assert acked.OriginatorConversationID == originator_id
    assert acked.ConversationID is not None and acked.ConversationID.startswith("AG_")
    assert acked.ResponseDescription == "Accept the service request successfully."
    assert len(receiver.on(KIT_B2C_RESULT)) == 1
    # The wire shape is Daraja's, which mpesakit's model does not read as it stands.
    assert isinstance(payload["Result"]["ResultParameters"]["ResultParameter"], list)
    with pytest.raises(ValidationError):
        client.process_b2c_callback(payload)

    parsed = client.process_b2c_callback(daraja_result_as_mpesakit_expects(payload))
    assert isinstance(parsed, B2CResultCallback)
    assert parsed.is_successful()
    result = parsed.Result
    assert (result.ResultType, result.ResultCode) == (0, 0)
    assert result.ResultDesc == "The service request is processed successfully."
    assert result.OriginatorConversationID == originator_id
    assert result.ConversationID == acked.ConversationID
    assert result.TransactionID is not None and RECEIPT.match(result.TransactionID)
    assert result.transaction_receipt == result.TransactionID
    assert result.transaction_amount == 150
    assert result.recipient_is_registered is True
    assert result.receiver_party_public_name is not None
    assert result.receiver_party_public_name.startswith(f"{CUSTOMER} - ")
    completed = result.transaction_completed_datetime
    assert completed is not None and re.match(r"^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}$", completed)
    assert result.utility_account_available_funds is not None
    assert result.working_account_available_funds is not None
    assert result.charges_paid_account_available_funds is not None
    # The merchant answers the Result with mpesakit's own acknowledgement model.
    assert B2CResultCallbackResponse().ResultCode == 0


def parameters(items: list[Any]) -> dict[str, Any]:
    """Key/Value items (dicts or mpesakit's models) as a dict; an item without a Value maps
    to None."""
    pairs = (item if isinstance(item, dict) else item.model_dump() for item in items)
    return {pair["Key"]: pair.get("Value") for pair in pairs}


# --- Account Balance ------------------------------------------------------------------------

KIT_BALANCE_RESULT = "/kit-balance/result"
KIT_BALANCE_TIMEOUT = "/kit-balance/timeout"
B2C_FUNDED_SHILLINGS = next(
    fixture.utility_shillings for fixture in SHORTCODES if fixture.shortcode == str(B2C_SHORTCODE)
)


def daraja_balance_as_mpesakit_expects(payload: dict[str, Any]) -> dict[str, Any]:
    """mpesakit's `AccountBalanceResultMetadata` swaps Daraja's two names (daraja-api.md §9):
    it reads `ResultParameter.ResultParameters[...]` where Daraja sends
    `ResultParameters.ResultParameter[...]`. Rename the container, nothing else."""
    result = dict(payload["Result"])
    items = result.pop("ResultParameters")["ResultParameter"]
    result["ResultParameter"] = {"ResultParameters": items}
    return {**payload, "Result": result}


def test_sync_client_queries_account_balance_with_its_own_credential(
    target: PesaboxServer, receiver: CallbackReceiver, tmp_path: Path
) -> None:
    """Account Balance through `client.balance.query` for the funded B2C shortcode; the Result
    reaches a real receiver on loopback and is read with mpesakit's balance Result model."""
    credential = kit_credential(target.sandbox, tmp_path)
    client = MpesaClient(
        target.sandbox.consumer_key, target.sandbox.consumer_secret, environment="sandbox"
    )
    started = time.monotonic()
    acked = client.balance.query(
        initiator=INITIATOR,
        security_credential=credential,
        command_id="AccountBalance",
        party_a=B2C_SHORTCODE,
        # mpesakit's validator takes the number only (the string "4" is refused before
        # sending); pesabox accepts both (§7.3).
        identifier_type=AccountBalanceIdentifierType.SHORT_CODE,
        remarks="conformance balance",
        result_url=receiver.url(KIT_BALANCE_RESULT),
        queue_timeout_url=receiver.url(KIT_BALANCE_TIMEOUT),
    )
    timed(started, "OAuth and Account Balance query")
    assert acked.is_successful()
    assert acked.ConversationID is not None and acked.ConversationID.startswith("AG_")
    assert acked.OriginatorConversationID
    assert acked.ResponseDescription == "Accept the service request successfully."

    payload = wait_for_result(receiver, KIT_BALANCE_RESULT, acked.ConversationID)
    assert receiver.on(KIT_BALANCE_TIMEOUT) == []
    # The wire shape is Daraja's. mpesakit's model accepts it without complaint but, looking
    # for the container under the other name, silently drops every parameter.
    assert isinstance(payload["Result"]["ResultParameters"]["ResultParameter"], list)
    assert client.process_account_balance_callback(payload).Result.ResultParameter is None

    parsed = client.process_account_balance_callback(daraja_balance_as_mpesakit_expects(payload))
    assert isinstance(parsed, AccountBalanceResultCallback)
    result = parsed.Result
    assert (result.ResultType, result.ResultCode) == (0, 0)
    assert result.ResultDesc == "The service request is processed successfully"
    assert result.OriginatorConversationID == acked.OriginatorConversationID
    assert result.ConversationID == acked.ConversationID
    assert result.TransactionID is not None and re.match(r"^[A-Z0-9]{3}0{7}$", result.TransactionID)
    assert result.ReferenceData is not None
    assert result.ReferenceData.ReferenceItem.Key == "QueueTimeoutURL"
    assert result.ResultParameter is not None
    values = parameters(result.ResultParameter.ResultParameters)
    assert list(values) == ["AccountBalance", "BOCompletedTime"]
    assert re.match(r"^\d{14}$", str(values["BOCompletedTime"]))
    accounts = {
        account.split("|", 1)[0]: account.split("|")[1:]
        for account in str(values["AccountBalance"]).split("&")
    }
    assert list(accounts) == [
        "Working Account",
        "Float Account",
        "Utility Account",
        "Charges Paid Account",
        "Organization Settlement Account",
    ]
    funded = f"{B2C_FUNDED_SHILLINGS:.2f}"
    assert accounts["Utility Account"] == ["KES", funded, funded, "0.00", "0.00"]
    assert f"Utility Account|KES|{funded}|{funded}|0.00|0.00" in str(values["AccountBalance"])
    assert AccountBalanceResultCallbackResponse().ResultCode == 0


# --- Transaction Status ---------------------------------------------------------------------

KIT_STATUS_RESULT = "/kit-status/result"
KIT_STATUS_TIMEOUT = "/kit-status/timeout"


def daraja_status_as_mpesakit_expects(payload: dict[str, Any]) -> dict[str, Any]:
    """Two mpesakit shortcomings against Daraja's Transaction Status Result (§8): its
    `ResultParameters` is the bare Key/Value list (Daraja nests it under `ResultParameter`, as
    for B2C), and its items require a `Value`, while Daraja sends items that have none
    (`{"Key": "TransactionReason"}`). Lift the list and leave out the value-less items."""
    result = dict(payload["Result"])
    items = result["ResultParameters"]["ResultParameter"]
    result["ResultParameters"] = [item for item in items if "Value" in item]
    return {**payload, "Result": result}


def test_sync_client_queries_the_status_of_its_b2c_payout(
    target: PesaboxServer, receiver: CallbackReceiver, tmp_path: Path
) -> None:
    """Transaction Status through `client.transactions.query_status`, by the receipt of a B2C
    payout made with mpesakit a moment before, asked by the paying shortcode."""
    credential = kit_credential(target.sandbox, tmp_path)
    client = MpesaClient(
        target.sandbox.consumer_key, target.sandbox.consumer_secret, environment="sandbox"
    )
    paid, paid_originator_id, paid_payload = kit_b2c_payout(client, credential, receiver, 250)
    receipt = paid_payload["Result"]["TransactionID"]
    assert paid_payload["Result"]["ResultCode"] == 0 and RECEIPT.match(receipt)

    started = time.monotonic()
    acked = client.transactions.query_status(
        initiator=INITIATOR,
        security_credential=credential,
        transaction_id=receipt,
        party_a=B2C_SHORTCODE,
        identifier_type=TransactionStatusIdentifierType.SHORT_CODE,
        result_url=receiver.url(KIT_STATUS_RESULT),
        queue_timeout_url=receiver.url(KIT_STATUS_TIMEOUT),
        remarks="conformance status",
        occasion="kit-status",
    )
    timed(started, "Transaction Status query")
    assert acked.is_successful()
    assert acked.ConversationID is not None and acked.ConversationID.startswith("AG_")
    assert acked.ConversationID != paid.ConversationID

    payload = wait_for_result(receiver, KIT_STATUS_RESULT, acked.ConversationID)
    assert receiver.on(KIT_STATUS_TIMEOUT) == []
    # The wire shape is Daraja's; mpesakit's model reads neither the nesting nor an item
    # without a Value, and has no ReferenceData (the Occasion comes back there).
    items = payload["Result"]["ResultParameters"]["ResultParameter"]
    assert {"Key": "TransactionReason"} in items
    assert payload["Result"]["ReferenceData"] == {
        "ReferenceItem": {"Key": "Occasion", "Value": "kit-status"}
    }
    with pytest.raises(ValidationError):
        client.process_transactions_callback(payload)
    lifted_only = {**payload, "Result": {**payload["Result"], "ResultParameters": items}}
    with pytest.raises(ValidationError):
        client.process_transactions_callback(lifted_only)

    parsed = client.process_transactions_callback(daraja_status_as_mpesakit_expects(payload))
    assert isinstance(parsed, TransactionStatusResultCallback)
    assert parsed.is_successful()
    result = parsed.Result
    assert (result.ResultType, result.ResultCode) == (0, 0)
    assert result.ResultDesc == "The service request is processed successfully."
    assert result.ConversationID == acked.ConversationID
    assert result.OriginatorConversationID == acked.OriginatorConversationID
    assert result.TransactionID is not None and re.match(r"^[A-Z0-9]{3}0{7}$", result.TransactionID)
    # mpesakit's accessors look for keys Daraja does not send (TransactionAmount,
    # TransactionReceipt, Status; §8 has Amount, ReceiptNo, TransactionStatus).
    assert (result.transaction_amount, result.transaction_receipt) == (None, None)
    assert result.transaction_status is None
    assert result.ResultParameters is not None
    values = parameters(result.ResultParameters)
    assert values["ReceiptNo"] == receipt
    assert values["TransactionStatus"] == "Completed"
    assert values["Amount"] == 250
    assert values["ConversationID"] == paid.ConversationID
    assert values["OriginatorConversationID"] == paid_originator_id
    assert values["ReasonType"] == "Business Payment to Customer via API"
    assert values["DebitAccountType"] == "Utility Account"
    assert str(values["DebitPartyName"]).startswith(f"{B2C_SHORTCODE} - ")
    assert str(values["CreditPartyName"]).startswith(f"{CUSTOMER} - ")
    assert re.match(r"^\d{14}$", str(values["InitiatedTime"]))
    assert re.match(r"^\d{14}$", str(values["FinalisedTime"]))
    assert TransactionStatusResultCallbackResponse().ResultCode == 0


# --- Reversal -------------------------------------------------------------------------------

KIT_REVERSAL_RESULT = "/kit-reversal/result"
KIT_REVERSAL_TIMEOUT = "/kit-reversal/timeout"


def daraja_reversal_as_mpesakit_expects(payload: dict[str, Any]) -> dict[str, Any]:
    """mpesakit's Reversal Result model has Daraja's nesting but types `ResultCode` and every
    parameter's `Value` as strings only, while Daraja sends numbers (ResultCode 0, Amount,
    Charge, TransCompletedTime; pesabox's reversal.md). Write those numbers as strings,
    nothing else."""
    result = dict(payload["Result"])
    result["ResultCode"] = str(result["ResultCode"])
    items = result["ResultParameters"]["ResultParameter"]
    result["ResultParameters"] = {
        "ResultParameter": [{**item, "Value": str(item["Value"])} for item in items]
    }
    return {**payload, "Result": result}


def test_sync_client_reverses_a_c2b_payment_once(
    target: PesaboxServer, receiver: CallbackReceiver, tmp_path: Path
) -> None:
    """Reversal through `client.reversal.reverse` of a PayBill payment from the sandbox's
    handset; a second reversal of the same receipt is refused with R000001."""
    credential = kit_credential(target.sandbox, tmp_path)
    client = MpesaClient(
        target.sandbox.consumer_key, target.sandbox.consumer_secret, environment="sandbox"
    )
    with httpx.Client(base_url=target.base_url, timeout=HTTP_TIMEOUT_S) as http:
        paid = http.post(
            f"/sandbox/v1/handsets/{CUSTOMER}/paybill",
            json={"business_number": str(C2B_PAYBILL), "account_number": "A",
                  "amount": 100, "pin": PIN},
        )  # fmt: skip
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "completed", paid.json()
    trans_id = paid.json()["TransID"]
    assert RECEIPT.match(trans_id)

    def reverse() -> ReversalResponse:
        started = time.monotonic()
        acked = client.reversal.reverse(
            initiator=INITIATOR,
            security_credential=credential,
            transaction_id=trans_id,
            amount=100,
            receiver_party=C2B_PAYBILL,
            result_url=receiver.url(KIT_REVERSAL_RESULT),
            queue_timeout_url=receiver.url(KIT_REVERSAL_TIMEOUT),
            remarks="conformance reversal",
            occasion="kit",
        )
        timed(started, "Reversal request")
        assert acked.is_successful()
        assert acked.ConversationID is not None and acked.ConversationID.startswith("AG_")
        assert acked.ResponseDescription == "Accept the service request successfully."
        return acked

    # mpesakit sends Daraja's misspelt RecieverIdentifierType, "11" unless told otherwise.
    assert ReversalRequest.model_fields["RecieverIdentifierType"].default == "11"
    first = reverse()
    payload = wait_for_result(receiver, KIT_REVERSAL_RESULT, first.ConversationID or "")
    # The wire shape is Daraja's, nested as mpesakit expects, with numbers its model refuses.
    wire = payload["Result"]
    assert wire["ResultCode"] == 0
    wire_values = parameters(wire["ResultParameters"]["ResultParameter"])
    assert wire_values["Amount"] == 100
    assert isinstance(wire_values["TransCompletedTime"], int)
    with pytest.raises(ValidationError):
        client.process_reversal_callback(payload)

    parsed = client.process_reversal_callback(daraja_reversal_as_mpesakit_expects(payload))
    assert isinstance(parsed, ReversalResultCallback)
    assert parsed.is_successful()
    result = parsed.Result
    assert (result.ResultType, result.ResultCode) == (0, "0")
    assert result.ResultDesc == "The service request is processed successfully."
    assert result.ConversationID == first.ConversationID
    assert result.OriginatorConversationID == first.OriginatorConversationID
    assert result.TransactionID is not None and RECEIPT.match(result.TransactionID)
    assert result.TransactionID != trans_id
    assert result.ReferenceData is not None
    assert result.ReferenceData.ReferenceItem.Key == "QueueTimeoutURL"
    assert result.ResultParameters is not None
    values = parameters(result.ResultParameters.ResultParameter)
    assert list(values) == [
        "DebitAccountBalance",
        "Amount",
        "TransCompletedTime",
        "OriginalTransactionID",
        "Charge",
        "CreditPartyPublicName",
        "DebitPartyPublicName",
    ]
    assert values["OriginalTransactionID"] == trans_id
    assert float(values["Amount"]) == 100
    assert float(values["Charge"]) == 0
    assert re.match(r"^\d{14}$", values["TransCompletedTime"])
    assert re.match(
        r"^Utility Account\|KES\|[\d.]+\|[\d.]+\|0\.00\|0\.00$", values["DebitAccountBalance"]
    )
    assert values["CreditPartyPublicName"].startswith(f"{CUSTOMER} - ")
    assert values["DebitPartyPublicName"].startswith(f"{C2B_PAYBILL} - ")
    assert ReversalResultCallbackResponse().ResultCode == 0

    # The same receipt again: acknowledged, then refused in the Result. A failure has no
    # ResultParameters and a string code, so mpesakit's model reads it as sent.
    second = reverse()
    assert second.ConversationID != first.ConversationID
    refused = wait_for_result(receiver, KIT_REVERSAL_RESULT, second.ConversationID or "")
    assert "ResultParameters" not in refused["Result"]
    again = client.process_reversal_callback(refused)
    assert not again.is_successful()
    assert again.Result.ResultCode == "R000001"
    assert again.Result.ResultDesc == "The transaction has already been reversed."
    assert again.Result.ConversationID == second.ConversationID
    assert receiver.on(KIT_REVERSAL_TIMEOUT) == []
