"""An organisation's funds inside the ledger writer: Utility → Working, Working → bank, and
the settlement that credits the bank (domain.org_funds has the rules).

Each function runs inside the db transaction it is handed. Refusals are returned, not
raised, so a refused request never rolls back the other jobs of its group commit; a refused
posting leaves no trace in the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pesabox.domain import accounts
from pesabox.domain.accounts import BANK_SETTLEMENT
from pesabox.domain.business_days import day_start
from pesabox.domain.ledger import InvariantViolation, PostingStatus, Purpose, TransferRequest
from pesabox.domain.org_funds import bank_reference, settlement_day
from pesabox.ids import receipt_number
from pesabox.money import cents_to_decimal_string
from pesabox.storage import bank_accounts_store, statement_queries, withdrawals_store
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.types import Connection
from pesabox.storage.withdrawals_store import WithdrawalRecord

FORM_REUSED = "this form was already sent with another amount; reload the page and try again"


@dataclass(frozen=True, slots=True)
class MoveOutcome:
    transaction_id: str
    refusal: str | None = None
    # True when the same form had been sent before: nothing moved this time.
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class WithdrawalOutcome:
    withdrawal: WithdrawalRecord | None
    refusal: str | None = None
    replayed: bool = False


def _short_of(conn: Connection, ledger: LedgerStore, code: str, label: str) -> str:
    held = cents_to_decimal_string(ledger.balance_cents(conn, code))
    return f"the {label} account holds only KES {held}"


def move_to_working(
    conn: Connection,
    ledger: LedgerStore,
    *,
    shortcode: str,
    amount_cents: int,
    idempotency_key: str,
    now: float,
) -> MoveOutcome:
    """Move money from the shortcode's Utility account to its Working account, under a
    receipt of its own.

    The transfer's id comes from the form's one-time key, so the ledger itself answers a
    resent form: the id is taken (EXISTS_WITH_DIFFERENT_FIELDS, since each attempt draws a
    fresh receipt), and nothing moves. Only then is the first transfer read, for its receipt
    and to tell a resend (same amount) from a key reused for another amount.
    """
    transfer_id = f"orgmove:{shortcode}:{idempotency_key}"
    receipt = receipt_number(now)
    utility = accounts.org_utility(shortcode).code
    result = ledger.post(
        conn,
        [
            TransferRequest(
                transfer_id,
                utility,
                accounts.org_working(shortcode).code,
                amount_cents,
                Purpose.PRINCIPAL,
                transaction_id=receipt,
            )
        ],
        now=now,
    )
    if result.status in (PostingStatus.EXISTS, PostingStatus.EXISTS_WITH_DIFFERENT_FIELDS):
        earlier = statement_queries.find_transfer(conn, transfer_id)
        if earlier is None:  # the ledger has just found it, in this transaction
            raise InvariantViolation(f"{transfer_id} exists but cannot be read")
        amount, first_receipt = earlier
        if amount != amount_cents:
            return MoveOutcome(first_receipt or transfer_id, refusal=FORM_REUSED)
        return MoveOutcome(first_receipt or transfer_id, replayed=True)
    if not result.ok:
        return MoveOutcome(receipt, refusal=_short_of(conn, ledger, utility, "Utility"))
    return MoveOutcome(receipt)


def withdraw(
    conn: Connection,
    ledger: LedgerStore,
    *,
    shortcode: str,
    organisation_id: int,
    operator_id: int,
    amount_cents: int,
    idempotency_key: str,
    now: float,
) -> WithdrawalOutcome:
    """Take money out of the Working account to the organisation's bank account: it leaves
    M-Pesa now (to the bank settlement account) and is settled the next business day."""
    earlier = withdrawals_store.find_by_idempotency_key(
        conn, shortcode=shortcode, idempotency_key=idempotency_key
    )
    if earlier is not None:
        if earlier.amount_cents != amount_cents:
            return WithdrawalOutcome(None, refusal=FORM_REUSED)
        return WithdrawalOutcome(earlier, replayed=True)
    bank = bank_accounts_store.get_bank_details(conn, organisation_id)
    if bank is None:
        return WithdrawalOutcome(
            None, refusal="no bank account is registered for this organisation"
        )
    ledger.ensure_accounts(conn, [BANK_SETTLEMENT], now)
    withdrawal_id = receipt_number(now)
    working = accounts.org_working(shortcode).code
    result = ledger.post(
        conn,
        [
            TransferRequest(
                f"{withdrawal_id}:withdrawal",
                working,
                BANK_SETTLEMENT.code,
                amount_cents,
                Purpose.PRINCIPAL,
                transaction_id=withdrawal_id,
            )
        ],
        now=now,
        known_new=True,
    )
    if not result.ok:
        return WithdrawalOutcome(None, refusal=_short_of(conn, ledger, working, "Working"))
    day = settlement_day(now)
    withdrawals_store.insert_withdrawal(
        conn,
        withdrawal_id=withdrawal_id,
        shortcode=shortcode,
        operator_id=operator_id,
        amount_cents=amount_cents,
        bank=bank,
        settle_on=day,
        due_at=day_start(day),
        idempotency_key=idempotency_key,
        now=now,
    )
    return WithdrawalOutcome(
        withdrawals_store.get_withdrawal(conn, withdrawal_id, shortcodes=[shortcode])
    )


def settle(conn: Connection, ledger: LedgerStore, withdrawal_id: str, *, now: float) -> bool:
    """Credit the bank for one pending withdrawal; False if it was settled already.

    The state change comes first and is conditional (pending → settled), so of two processes
    settling the same withdrawal only one goes on to post; the other sees it settled.
    """
    pending = withdrawals_store.get_pending_amount(conn, withdrawal_id)
    if pending is None:
        return False
    amount_cents, settle_on = pending
    reference = bank_reference(withdrawal_id, date.fromisoformat(settle_on))
    if not withdrawals_store.mark_settled(conn, withdrawal_id, bank_reference=reference, now=now):
        return False
    result = ledger.post(
        conn,
        [
            TransferRequest(
                f"{withdrawal_id}:settlement",
                BANK_SETTLEMENT.code,
                accounts.FLOAT.code,
                amount_cents,
                Purpose.PRINCIPAL,
                transaction_id=withdrawal_id,
            )
        ],
        now=now,
    )
    if result.status is not PostingStatus.OK:
        # The withdrawal put exactly this amount there; anything else is a broken ledger.
        raise InvariantViolation(f"settling {withdrawal_id}: {result.status}")
    return True
