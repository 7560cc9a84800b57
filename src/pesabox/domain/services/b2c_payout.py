"""A B2C (or B2Pochi) payout inside the ledger writer: the business's Utility account pays the
customer's wallet, and the charge goes to its Charges Paid account (daraja-api.md §6).

Every refusal is decided by the state the db transaction sees: the shortcode's services, the
customer's registration, the Utility balance and the wallet's bounds.
"""

from __future__ import annotations

from pesabox.clock import eat_datetime
from pesabox.domain import accounts, b2c, sms
from pesabox.domain.b2c import B2cResult, failure
from pesabox.domain.ledger import PostingStatus, Purpose, TransferRequest
from pesabox.domain.results import Outcome
from pesabox.domain.rules import b2c_fee_cents
from pesabox.ids import receipt_number
from pesabox.storage import parties_store
from pesabox.storage.initiator_store import InitiatorRequest
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.types import Connection


def pay_out(
    conn: Connection, ledger: LedgerStore, request: InitiatorRequest, *, now: float
) -> Outcome:
    shortcode = parties_store.get_shortcode(conn, request.party_a)
    if shortcode is None:
        return _failed(B2cResult.DEBIT_PARTY_INVALID, now)
    if "b2c" not in shortcode.products:
        # The FAQ's rule: a collection (C2B) shortcode cannot pay out.
        return _failed(B2cResult.NOT_PERMITTED, now)
    amount = request.amount_cents or 0
    if amount < b2c.MIN_AMOUNT_CENTS:
        return _failed(B2cResult.BELOW_MINIMUM, now)
    if amount > b2c.MAX_AMOUNT_CENTS:
        return _failed(B2cResult.ABOVE_MAXIMUM, now)
    msisdn = request.party_b or ""
    customer = parties_store.get_customer(conn, msisdn)
    if customer is None:
        # No M-Pesa customer has this number (§19.2: "The operator does not exist.").
        return _failed(B2cResult.NO_SUCH_OPERATOR, now)
    if customer.status != "active":
        # A customer M-Pesa cannot pay (not fully registered, or suspended).
        return _failed(B2cResult.UNREGISTERED_RECIPIENT, now)
    fee = b2c_fee_cents(amount, eat_datetime(now).date())
    refused = _post(conn, ledger, request, msisdn=msisdn, amount=amount, fee=fee, now=now)
    if refused is not None:
        return _failed(refused, now)
    receipt = receipt_number(now)
    wallet = f"wallet:{msisdn}"
    parties_store.add_sms(
        conn,
        msisdn=msisdn,
        sender="MPESA",
        body=sms.payout_received(
            receipt=receipt,
            amount_cents=amount,
            payer=shortcode.organisation_name,
            balance_cents=ledger.balance_cents(conn, wallet),
            now=now,
        ),
        now=now,
    )
    return Outcome(
        B2cResult.SUCCESS,
        b2c.DESCRIPTIONS["0"],
        receipt,
        _parameters(conn, ledger, request, customer.name, receipt=receipt, now=now),
    )


def _failed(code: str, now: float) -> Outcome:
    # Daraja's failed B2C Results still carry a TransactionID (§6.3's failure sample).
    refused = failure(code)
    return Outcome(refused.code, refused.description, receipt_number(now))


def _post(
    conn: Connection,
    ledger: LedgerStore,
    request: InitiatorRequest,
    *,
    msisdn: str,
    amount: int,
    fee: int,
    now: float,
) -> str | None:
    key = request.conversation_id
    transfers = [
        TransferRequest(
            f"{key}:principal",
            accounts.org_utility(request.party_a).code,
            f"wallet:{msisdn}",
            amount,
            Purpose.PRINCIPAL,
            key,
        )
    ]
    if fee:
        transfers.append(
            TransferRequest(
                f"{key}:fee",
                accounts.org_charges_paid(request.party_a).code,
                accounts.PLATFORM_REVENUE.code,
                fee,
                Purpose.FEE,
                key,
            )
        )
    # The conversation id is new and the request still queued in this db transaction, so
    # these ids are unused.
    posting = ledger.post(conn, transfers, now=now, known_new=True)
    if posting.ok:
        return None
    if posting.status == PostingStatus.EXCEEDS_CREDIT_BOUND:
        return B2cResult.ABOVE_BALANCE_LIMIT
    return B2cResult.INSUFFICIENT_FUNDS


def _parameters(
    conn: Connection,
    ledger: LedgerStore,
    request: InitiatorRequest,
    name: str,
    *,
    receipt: str,
    now: float,
) -> list[tuple[str, object]]:
    shortcode = request.party_a
    return [
        ("TransactionAmount", b2c.shillings(request.amount_cents or 0)),
        ("TransactionReceipt", receipt),
        ("ReceiverPartyPublicName", f"{request.party_b} - {name}"),
        ("TransactionCompletedDateTime", b2c.completed_at_text(now)),
        (
            "B2CUtilityAccountAvailableFunds",
            b2c.shillings(ledger.balance_cents(conn, accounts.org_utility(shortcode).code)),
        ),
        (
            "B2CWorkingAccountAvailableFunds",
            b2c.shillings(ledger.balance_cents(conn, accounts.org_working(shortcode).code)),
        ),
        ("B2CRecipientIsRegisteredCustomer", "Y"),
        (
            "B2CChargesPaidAccountAvailableFunds",
            b2c.shillings(ledger.balance_cents(conn, accounts.org_charges_paid(shortcode).code)),
        ),
    ]
