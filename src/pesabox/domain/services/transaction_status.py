"""A Transaction Status query inside the ledger writer (daraja-api.md §8): any transaction,
found by its receipt (`TransactionID`) or its conversation id (`OriginalConversationID`).

Where it looks:
- by receipt: C2B payments (`TransID`), STK pushes (`MpesaReceiptNumber`) and the initiator
  APIs' transactions (B2C, B2B, reversal: their Result's `TransactionID`), in that order;
- by conversation id: an initiator request's ConversationID (`AG_…`), or the
  OriginatorConversationID the same app used (those are unique per app only), and an STK
  push's CheckoutRequestID or MerchantRequestID. C2B payments have no conversation id.
A request that sends both tries the receipt first.

Only a party may ask: the PartyA must be the transaction's debit or credit party (a
shortcode, the store of a till, or a customer's MSISDN). Anyone else's transaction is answered
as unknown, so a status query cannot tell one organisation about another's customers.

Unknown transactions end in `SFC_IC0003`, the one failure code Daraja documents for this API
(§19.5), with its documented description.

The Result parameters follow Daraja's: §8's official sample (a B2C payout) for what an
organisation paid, and an observed 2024 Result for what a customer paid, which names the
charges `CreditPartyCharges`, puts them before `DebitAccountType` and calls the account
`MMF Account For Customer`. Times and amounts are numbers, as in the observed Results.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pesabox.clock import daraja_timestamp
from pesabox.domain import accounts
from pesabox.domain.results import Outcome
from pesabox.domain.services.account_balance import generic_transaction_id, shillings_text
from pesabox.storage import c2b_store, parties_store, transaction_lookup
from pesabox.storage.c2b_store import Payment
from pesabox.storage.initiator_store import InitiatorRequest
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.stk_store import StkRecord
from pesabox.storage.types import Connection

COMMAND_ID = "TransactionStatusQuery"
SUCCESS_DESC = "The service request is processed successfully."
NOT_FOUND = "SFC_IC0003"
NOT_FOUND_DESC = "The operator does not exist."
CUSTOMER_ACCOUNT = "MMF Account For Customer"
# §8's ReasonType values, and pesabox's for the transactions the samples do not show.
REASON_TYPES = {
    "SalaryPayment": "Salary Payment via API",
    "BusinessPayment": "Business Payment to Customer via API",
    "PromotionPayment": "Promotion Payment via API",
    "BusinessPayToPochi": "Business Payment to Pochi via API",
    "CustomerPayBillOnline": "Pay Bill Online",
    "CustomerBuyGoodsOnline": "Buy Goods Online",
    "Pay Bill": "Pay Bill",
    "Buy Goods": "Buy Goods",
}
# The §8 lifecycle: Initiated → Pending → Completed / Cancelled / Declined / Expired.
_INITIATOR_STATUS = {
    "queued": "Pending",
    "completed": "Completed",
    "failed": "Declined",
    "timed_out": "Expired",
}
_C2B_STATUS = {
    "validating": "Pending",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "failed": "Declined",
}
_STK_CANCELLED, _STK_EXPIRED = 1032, 1019


@dataclass(frozen=True, slots=True)
class Found:
    """A transaction as the Result describes it."""

    debit_party: str
    credit_party: str
    originator_conversation_id: str | None
    conversation_id: str | None
    initiated_at: float
    finalised_at: float | None
    debit_account_type: str
    # The charges and who paid them: the debit party (an organisation) or the customer.
    charges: str | None
    paid_by_customer: bool
    reason_type: str
    status: str
    amount_cents: int
    receipt: str | None
    parties: frozenset[str]


def query(
    conn: Connection, ledger: LedgerStore, request: InitiatorRequest, *, now: float
) -> Outcome:
    del ledger  # only read: the fees come from the transfers, through `transaction_lookup`
    details = json.loads(request.details)
    found = _find(
        conn,
        receipt=details.get("TransactionID", ""),
        conversation=details.get("OriginalConversationID", ""),
        app_id=request.app_id,
    )
    if found is None or request.party_a not in found.parties:
        return Outcome(NOT_FOUND, NOT_FOUND_DESC, generic_transaction_id(now))
    return Outcome("0", SUCCESS_DESC, generic_transaction_id(now), parameters(found))


def parameters(found: Found) -> list[tuple[str, Any]]:
    charges_key = "CreditPartyCharges" if found.paid_by_customer else "DebitPartyCharges"
    account_and_charges = [
        ("DebitAccountType", found.debit_account_type),
        (charges_key, found.charges),
    ]
    if found.paid_by_customer:
        account_and_charges.reverse()
    return [
        ("DebitPartyName", found.debit_party),
        ("CreditPartyName", found.credit_party),
        ("OriginatorConversationID", found.originator_conversation_id),
        ("InitiatedTime", _time(found.initiated_at)),
        *account_and_charges,
        # Daraja sends it without a Value (§8).
        ("TransactionReason", None),
        ("ReasonType", found.reason_type),
        ("TransactionStatus", found.status),
        ("FinalisedTime", _time(found.finalised_at)),
        ("Amount", _amount(found.amount_cents)),
        ("ConversationID", found.conversation_id),
        ("ReceiptNo", found.receipt),
    ]


def _find(conn: Connection, *, receipt: str, conversation: str, app_id: int) -> Found | None:
    if receipt:
        payment = c2b_store.get_payment(conn, receipt)
        if payment is not None:
            return _from_c2b(conn, payment)
        stk = transaction_lookup.stk_by_receipt(conn, receipt)
        if stk is not None:
            return _from_stk(conn, stk)
        initiated = transaction_lookup.initiator_by_receipt(conn, receipt)
        if initiated is not None:
            return _from_initiator(conn, initiated)
    if conversation:
        initiated = transaction_lookup.initiator_by_conversation(conn, conversation, app_id=app_id)
        if initiated is not None:
            return _from_initiator(conn, initiated)
        stk = transaction_lookup.stk_by_request_id(conn, conversation)
        if stk is not None:
            return _from_stk(conn, stk)
    return None


def _from_c2b(conn: Connection, payment: Payment) -> Found:
    name = " ".join(p for p in (payment.first_name, payment.middle_name, payment.last_name) if p)
    fee = transaction_lookup.fees_paid_cents(
        conn, transaction_key=payment.trans_id, payer_code=f"wallet:{payment.msisdn}"
    )
    return Found(
        debit_party=f"{payment.msisdn} - {name}",
        credit_party=_organisation(conn, payment.shortcode),
        originator_conversation_id=None,
        conversation_id=None,
        initiated_at=payment.created_at,
        finalised_at=payment.completed_at,
        debit_account_type=CUSTOMER_ACCOUNT,
        charges=_charges(payment.transaction_type, fee),
        paid_by_customer=True,
        reason_type=REASON_TYPES.get(payment.transaction_type, payment.transaction_type),
        status=_C2B_STATUS.get(payment.status, payment.status),
        amount_cents=payment.amount_cents,
        receipt=payment.trans_id,
        parties=_parties(conn, payment.shortcode, payment.msisdn),
    )


def _from_stk(conn: Connection, stk: StkRecord) -> Found:
    customer = parties_store.get_customer(conn, stk.msisdn)
    fee = transaction_lookup.fees_paid_cents(
        conn, transaction_key=stk.checkout_request_id, payer_code=f"wallet:{stk.msisdn}"
    )
    reason = REASON_TYPES.get(stk.transaction_type, stk.transaction_type)
    return Found(
        debit_party=f"{stk.msisdn} - {customer.name if customer else ''}".rstrip(" -"),
        credit_party=_organisation(conn, stk.party_b),
        originator_conversation_id=stk.merchant_request_id,
        conversation_id=stk.checkout_request_id,
        initiated_at=stk.created_at,
        finalised_at=stk.completed_at,
        debit_account_type=CUSTOMER_ACCOUNT,
        charges=_charges(reason, fee),
        paid_by_customer=True,
        reason_type=reason,
        status=_stk_status(stk),
        amount_cents=stk.amount_cents,
        receipt=stk.receipt,
        parties=_parties(conn, stk.business_shortcode, stk.party_b, stk.msisdn),
    )


def _from_initiator(conn: Connection, request: InitiatorRequest) -> Found:
    """A B2C-family payout: the organisation's Utility account pays the party B. (B2B and
    reversal rows are described the same way, from their own party A and B.)"""
    counterparty = request.party_b or ""
    customer = parties_store.get_customer(conn, counterparty) if counterparty else None
    credit = f"{counterparty} - {customer.name}" if customer else _organisation(conn, counterparty)
    fee = transaction_lookup.fees_paid_cents(
        conn,
        transaction_key=request.conversation_id,
        payer_code=accounts.org_charges_paid(request.party_a).code,
    )
    return Found(
        debit_party=_organisation(conn, request.party_a),
        credit_party=credit,
        originator_conversation_id=request.originator_conversation_id,
        conversation_id=request.conversation_id,
        initiated_at=request.created_at,
        finalised_at=request.completed_at,
        debit_account_type="Utility Account",
        charges=_charges(_fee_name(request.api), fee),
        paid_by_customer=False,
        reason_type=REASON_TYPES.get(request.command_id, f"{request.command_id} via API"),
        status=_INITIATOR_STATUS.get(request.status, request.status),
        amount_cents=request.amount_cents or 0,
        receipt=request.transaction_id,
        parties=_parties(conn, request.party_a, counterparty),
    )


def _fee_name(api: str) -> str:
    # §8's sample: "Fee For B2C Payment|KES|22.40".
    return "B2C Payment" if api in ("b2c", "b2pochi") else f"{api.upper()} Payment"


def _charges(what: str, fee_cents: int) -> str | None:
    return f"Fee For {what}|KES|{shillings_text(fee_cents)}" if fee_cents else None


def _stk_status(stk: StkRecord) -> str:
    if stk.status == "completed":
        return "Completed"
    if stk.status == "pending":
        return "Pending"
    if stk.result_code == _STK_CANCELLED:
        return "Cancelled"
    return "Expired" if stk.result_code == _STK_EXPIRED else "Declined"


def _organisation(conn: Connection, shortcode: str) -> str:
    # "600310 - Safaricom333": the shortcode and its organisation's name (§8, §20.1).
    record = parties_store.get_shortcode(conn, shortcode)
    return f"{shortcode} - {record.organisation_name}" if record else shortcode


def _parties(conn: Connection, *codes: str) -> frozenset[str]:
    """The codes, and the store of any till among them (a store answers for its tills)."""
    parties = {code for code in codes if code}
    for code in codes:
        record = parties_store.get_shortcode(conn, code) if code else None
        if record is not None and record.store_shortcode:
            parties.add(record.store_shortcode)
    return frozenset(parties)


def _time(epoch_s: float | None) -> int | None:
    return int(daraja_timestamp(epoch_s)) if epoch_s is not None else None


def _amount(cents: int) -> int | float:
    # Whole shillings as an integer (`300`), as Daraja shows them.
    return cents // 100 if cents % 100 == 0 else round(cents / 100, 2)
