"""Bonga points earned on a customer's M-PESA transaction, inside the same writer job as the
payment, and taken back when that payment is reversed. The transfers' ids derive from the
business transaction, so however many times a settle path runs for it, the points are
issued once (and taken back once)."""

from __future__ import annotations

from pesabox.domain import accounts
from pesabox.domain.bonga import points_earned
from pesabox.domain.ledger import PostingStatus, Purpose, TransferRequest
from pesabox.storage import ledger_queries
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.types import Connection


def earn(
    conn: Connection,
    ledger: LedgerStore,
    *,
    msisdn: str,
    amount_cents: int,
    transaction_id: str,
    points_per_100_kes: int,
    now: float,
) -> int:
    """Issue the points `amount_cents` earns to the customer; the points issued (0 if none)."""
    points = points_earned(amount_cents, points_per_100_kes=points_per_100_kes)
    if points == 0:
        return 0
    account = accounts.customer_bonga(msisdn)
    ledger.ensure_accounts(conn, [accounts.BONGA_ISSUER, account], now)
    # Points are issued as the float issues e-money: a funding transfer from the issuer.
    issue = TransferRequest(
        f"{transaction_id}:bonga",
        accounts.BONGA_ISSUER.code,
        account.code,
        points,
        Purpose.FUNDING,
        # Its own business transaction: the payment's transfers stay exactly the payment's.
        f"bonga:{transaction_id}",
    )
    posting = ledger.post(conn, [issue], now=now)
    if not posting.ok:
        # The issuer and a points account have no upper bound: this is a bug, not a refusal.
        raise RuntimeError(f"ledger refused {issue.id}: {posting.status}")
    # A replay (EXISTS) issued nothing this time.
    return points if posting.status == PostingStatus.OK else 0


def take_back(
    conn: Connection, ledger: LedgerStore, *, msisdn: str, transaction_id: str, now: float
) -> int:
    """Return the points a reversed transaction earned to the issuer; the points taken.

    At most the customer's current balance: points already spent or transferred stay spent,
    as the ledger never lets a points account go below zero.
    """
    issued = ledger_queries.transfer_amount_cents(conn, f"{transaction_id}:bonga")
    if not issued:
        return 0
    points = min(issued, points_balance(conn, ledger, msisdn))
    if points <= 0:
        return 0
    back = TransferRequest(
        f"{transaction_id}:bonga:reversal",
        accounts.customer_bonga(msisdn).code,
        accounts.BONGA_ISSUER.code,
        points,
        Purpose.REVERSAL,
        f"bonga:{transaction_id}",
    )
    posting = ledger.post(conn, [back], now=now)
    if not posting.ok:
        # The amount is within the balance read in this same db transaction: a bug.
        raise RuntimeError(f"ledger refused {back.id}: {posting.status}")
    return points if posting.status == PostingStatus.OK else 0


def points_balance(conn: Connection, ledger: LedgerStore, msisdn: str) -> int:
    code = accounts.customer_bonga(msisdn).code
    return ledger.balance_cents(conn, code) if ledger.find_account_id(conn, code) else 0
