"""A Reversal inside the ledger writer (daraja-api.md §10, §19.3): the organisation that
received a C2B payment gives it back to the customer.

The reversal is a new posting that points at the original, never an edit of it: the
principal goes from the receiving shortcode's Utility account back to the customer's wallet,
and the customer's own transaction cost (if the tariff charged one) comes back from platform
revenue, so the customer is whole. The Bonga points the payment earned go back to the issuer
(as many as the customer still holds). The business's charge for the original payment is not
refunded (the service was rendered), and the reversal itself is free (`Charge` 0.00).

Exactly once: the transfer ids derive from the ORIGINAL receipt (`<TransID>:reversal`), so a
second reversal of the same payment finds them (R000001). Writers take turns (one ledger
writer per process, and the writer lock across processes), so the second always sees the
first's transfers; were that ever bypassed, the primary key would still refuse a second
posting, failing the db transaction rather than paying twice.
"""

from __future__ import annotations

from enum import StrEnum

import orjson

from pesabox.clock import daraja_timestamp
from pesabox.domain import accounts, b2c, sms
from pesabox.domain.c2b import PaymentStatus
from pesabox.domain.ledger import PostingStatus, Purpose, TransferRequest
from pesabox.domain.results import Outcome
from pesabox.domain.services import bonga_earning
from pesabox.ids import receipt_number
from pesabox.money import cents_to_decimal_string
from pesabox.storage import c2b_store, parties_store
from pesabox.storage.c2b_store import Payment
from pesabox.storage.initiator_store import InitiatorRequest
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.types import Connection

COMMAND_ID = "TransactionReversal"
# Daraja's samples send 11; older SDKs send 4 (shortcode), and a till's reversal may say 2.
RECEIVER_IDENTIFIER_TYPES = ("11", "4", "2")
REMARKS_MIN, REMARKS_MAX = 2, 100


class ReversalResult(StrEnum):
    SUCCESS = "0"
    INSUFFICIENT_FUNDS = "1"
    ACCOUNT_RULE = "2006"
    ALREADY_REVERSED = "R000001"
    INVALID_ORIGINAL = "R000002"


DESCRIPTIONS: dict[str, str] = {
    "0": "The service request is processed successfully.",
    "1": "The balance is insufficient for the transaction.",
    "2006": "Declined due to account rule: The account status does not allow this transaction.",
    # Daraja's failure sample ends R000002's text with a full stop; R000001 has no sample,
    # so it is written the same way.
    "R000001": "The transaction has already been reversed.",
    "R000002": "The OriginalTransactionID is invalid.",
}


def failure(code: ReversalResult, *, now: float) -> Outcome:
    # Daraja's failed reversal carries a receipt-shaped TransactionID of zeros ("SKE0000000").
    return Outcome(code, DESCRIPTIONS[code], receipt_number(now)[:3] + "0000000")


def original_transaction_id(request: InitiatorRequest) -> str:
    details: dict[str, str] = orjson.loads(request.details)
    return details["TransactionID"]


def reverse(
    conn: Connection, ledger: LedgerStore, request: InitiatorRequest, *, now: float
) -> Outcome:
    original = original_transaction_id(request)
    payment = c2b_store.get_payment(conn, original)
    if payment is None or not _reversible_by(conn, payment, request):
        return failure(ReversalResult.INVALID_ORIGINAL, now=now)
    receipt = receipt_number(now)
    refused = _post(conn, ledger, payment, receipt=receipt, now=now)
    if refused is not None:
        return failure(refused, now=now)
    # The payment's Bonga points go back with it, in this same writer job.
    bonga_earning.take_back(
        conn, ledger, msisdn=payment.msisdn, transaction_id=payment.trans_id, now=now
    )
    shortcode = parties_store.get_shortcode(conn, payment.shortcode)
    organisation = shortcode.organisation_name if shortcode else payment.shortcode
    parties_store.add_sms(
        conn,
        msisdn=payment.msisdn,
        sender="MPESA",
        body=sms.payment_reversed(
            receipt=receipt,
            original_receipt=payment.trans_id,
            amount_cents=payment.amount_cents + payment.customer_fee_cents,
            payee=organisation,
            balance_cents=ledger.balance_cents(conn, accounts.wallet_code(payment.msisdn)),
            now=now,
        ),
        now=now,
    )
    return Outcome(
        ReversalResult.SUCCESS,
        DESCRIPTIONS["0"],
        receipt,
        _parameters(conn, ledger, payment, organisation=organisation, now=now),
    )


def _reversible_by(conn: Connection, payment: Payment, request: InitiatorRequest) -> bool:
    """Only a completed payment, reversed in full, by the shortcode that received it (or,
    for a till, by its store's head office number). Anything else is, to the caller, an
    invalid OriginalTransactionID: no other organisation learns the receipt exists."""
    if payment.status != PaymentStatus.COMPLETED:
        return False
    # M-Pesa reverses a whole transaction; an Amount that is not the payment's names some
    # other transaction.
    if request.amount_cents != payment.amount_cents:
        return False
    if request.party_a == payment.shortcode:
        return True
    shortcode = parties_store.get_shortcode(conn, payment.shortcode)
    return shortcode is not None and shortcode.store_shortcode == request.party_a


def reversal_transfers(payment: Payment, *, receipt: str) -> list[TransferRequest]:
    key = f"{payment.trans_id}:reversal"
    wallet = accounts.wallet_code(payment.msisdn)
    transfers = [
        TransferRequest(
            key,
            accounts.org_utility(payment.shortcode).code,
            wallet,
            payment.amount_cents,
            Purpose.REVERSAL,
            receipt,
        )
    ]
    if payment.customer_fee_cents:
        transfers.append(
            TransferRequest(
                f"{key}:customer-fee",
                accounts.PLATFORM_REVENUE.code,
                wallet,
                payment.customer_fee_cents,
                Purpose.REVERSAL,
                receipt,
            )
        )
    return transfers


def _post(
    conn: Connection, ledger: LedgerStore, payment: Payment, *, receipt: str, now: float
) -> ReversalResult | None:
    # Not `known_new`: the replay lookup is what finds an earlier reversal.
    posting = ledger.post(conn, reversal_transfers(payment, receipt=receipt), now=now)
    if posting.status == PostingStatus.OK:
        return None
    if posting.status in (PostingStatus.EXISTS, PostingStatus.EXISTS_WITH_DIFFERENT_FIELDS):
        return ReversalResult.ALREADY_REVERSED
    if posting.status == PostingStatus.EXCEEDS_CREDIT_BOUND:
        # The customer's wallet would pass its maximum balance.
        return ReversalResult.ACCOUNT_RULE
    return ReversalResult.INSUFFICIENT_FUNDS


def _parameters(
    conn: Connection,
    ledger: LedgerStore,
    payment: Payment,
    *,
    organisation: str,
    now: float,
) -> list[tuple[str, object]]:
    utility = cents_to_decimal_string(
        ledger.balance_cents(conn, accounts.org_utility(payment.shortcode).code)
    )
    customer = " ".join(
        part for part in (payment.first_name, payment.middle_name, payment.last_name) if part
    )
    # Keys, order and types as Daraja's sample: numbers where it has numbers.
    return [
        ("DebitAccountBalance", f"Utility Account|KES|{utility}|{utility}|0.00|0.00"),
        ("Amount", b2c.shillings(payment.amount_cents)),
        ("TransCompletedTime", int(daraja_timestamp(now))),
        ("OriginalTransactionID", payment.trans_id),
        ("Charge", 0.0),
        ("CreditPartyPublicName", f"{payment.msisdn} - {customer}"),
        ("DebitPartyPublicName", f"{payment.shortcode} - {organisation}"),
    ]
