"""A B2B payment or transfer, or a tax remittance, inside the ledger writer (daraja-api.md §7,
§13): the sender's account named by the CommandID pays the receiver's, and any charge goes to
the Charges Paid account of whoever the tariff makes pay it.

Every refusal is decided by the state the db transaction sees: the shortcodes, their kinds and
services, and the debited account's balance.
"""

from __future__ import annotations

from typing import Any

import orjson

from pesabox.clock import daraja_timestamp, eat_datetime
from pesabox.domain import accounts, b2b
from pesabox.domain.b2b import Account, B2bResult, Command, Fee, Receiver, failure
from pesabox.domain.ledger import PostingStatus, Purpose, TransferRequest
from pesabox.domain.results import Outcome
from pesabox.domain.rules import Fees, mauzo_fee_cents, stk_fees
from pesabox.ids import receipt_number
from pesabox.storage import parties_store
from pesabox.storage.initiator_store import InitiatorRequest
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.parties_store import ShortcodeRecord
from pesabox.storage.types import Connection


def transfer(
    conn: Connection, ledger: LedgerStore, request: InitiatorRequest, *, now: float
) -> Outcome:
    return _move(conn, ledger, request, b2b.COMMANDS[request.command_id], now=now)


def remit_tax(
    conn: Connection, ledger: LedgerStore, request: InitiatorRequest, *, now: float
) -> Outcome:
    return _move(conn, ledger, request, b2b.TAX, now=now)


def _move(
    conn: Connection, ledger: LedgerStore, request: InitiatorRequest, command: Command, *,
    now: float,
) -> Outcome:  # fmt: skip
    sender = parties_store.get_shortcode(conn, request.party_a)
    if sender is None:
        return failure(B2bResult.DEBIT_PARTY_INVALID, now)
    if "b2b" not in sender.products:
        return failure(B2bResult.NOT_PERMITTED, now)
    receiver_code = request.party_b or ""
    if command.receiver == Receiver.KRA:
        # KRA is nobody's sandbox organisation: its accounts are made on its first payment.
        ledger.ensure_accounts(conn, accounts.org_accounts(receiver_code), now)
        found = parties_store.get_shortcode(conn, receiver_code)
        receiver_name = found.organisation_name if found else b2b.KRA_NAME
    else:
        receiver = parties_store.get_shortcode(conn, receiver_code)
        if receiver is None:
            return failure(B2bResult.UNRESOLVED_RECEIVER, now)
        if not _may_receive(command.receiver, sender, receiver):
            return failure(B2bResult.NOT_PERMITTED, now)
        receiver_name = receiver.organisation_name
    debit = _account(command.debit, sender.shortcode)
    credit = _account(command.credit, receiver_code)
    if debit == credit:
        return failure(B2bResult.NOT_PERMITTED, now)
    amount = request.amount_cents or 0
    fees = _fees(conn, command.fee, receiver_code, amount, now=now)
    refused = _post(conn, ledger, request, debit, credit, amount=amount, fees=fees, now=now)
    if refused is not None:
        return failure(refused, now)
    receipt = receipt_number(now)
    balance = ledger.balance_cents(conn, debit)
    record = b2b.amount_record(balance)
    parameters: list[tuple[str, Any]] = [
        ("DebitAccountBalance", record),
        ("Amount", b2b.amount_text(amount)),
        ("DebitPartyAffectedAccountBalance", b2b.affected_balance(command.debit, balance)),
        ("TransCompletedTime", daraja_timestamp(now)),
        ("DebitPartyCharges", b2b.charges_text(command.fee, fees.customer_cents)),
        ("ReceiverPartyPublicName", f"{receiver_code} - {receiver_name}"),
        ("Currency", "KES"),
        ("InitiatorAccountCurrentBalance", record),
    ]
    reference = _account_reference(request)
    references = [("BillReferenceNumber", reference)] if reference else []
    return Outcome(
        B2bResult.SUCCESS, b2b.DESCRIPTIONS["0"], receipt, parameters, references=references
    )


def _may_receive(rule: Receiver, sender: ShortcodeRecord, receiver: ShortcodeRecord) -> bool:
    if rule == Receiver.PAYBILL:
        return receiver.kind == "paybill"
    if rule == Receiver.TILL:
        return receiver.kind == "till"
    if rule == Receiver.B2C:
        return "b2c" in receiver.products
    if rule == Receiver.MERCHANT:
        return receiver.kind in ("till", "store")
    if rule == Receiver.SELF:
        return receiver.shortcode == sender.shortcode
    return rule == Receiver.ANY


def _account(kind: Account, shortcode: str) -> str:
    if kind == Account.UTILITY:
        return accounts.org_utility(shortcode).code
    return accounts.org_working(shortcode).code


def _fees(conn: Connection, fee: Fee, receiver: str, amount: int, *, now: float) -> Fees:
    """What the sender (`customer_cents`) and the receiver (`business_cents`) are charged."""
    if fee == Fee.MAUZO:
        return Fees(0, mauzo_fee_cents(amount))
    if fee == Fee.PAYBILL:
        record = parties_store.get_shortcode(conn, receiver)
        profile = record.tariff_profile if record else "customer_bouquet"
        if profile == "mauzo":
            # A PayBill on the merchant tariff: the PayBill bands still apply, the business pays.
            profile = "customer_bouquet"
        return stk_fees(amount_cents=amount, tariff_profile=profile, day=eat_datetime(now).date())
    return Fees(0, 0)


def _post(
    conn: Connection,
    ledger: LedgerStore,
    request: InitiatorRequest,
    debit: str,
    credit: str,
    *,
    amount: int,
    fees: Fees,
    now: float,
) -> str | None:
    key = request.conversation_id
    transfers = [TransferRequest(f"{key}:principal", debit, credit, amount, Purpose.PRINCIPAL, key)]
    for suffix, payer, cents in (
        ("sender-fee", request.party_a, fees.customer_cents),
        ("receiver-fee", request.party_b or "", fees.business_cents),
    ):
        if cents:
            transfers.append(
                TransferRequest(
                    f"{key}:{suffix}",
                    accounts.org_charges_paid(payer).code,
                    accounts.PLATFORM_REVENUE.code,
                    cents,
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
        return B2bResult.ABOVE_BALANCE_LIMIT
    return B2bResult.INSUFFICIENT_FUNDS


def _account_reference(request: InitiatorRequest) -> str:
    details = orjson.loads(request.details or "{}")
    return str(details.get("account_reference") or "")
