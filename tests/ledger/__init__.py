"""Ledger tests, plus the few helpers they share: account names, postings, raw totals."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, func, select

from pesabox.domain import accounts as ledger_accounts
from pesabox.domain.ledger import Phase, PostingResult, Purpose, TransferRequest
from pesabox.storage.db import write_transaction
from pesabox.storage.ledger_queries import snapshot_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.ledger_verify import Violation, verify
from pesabox.storage.tables import accounts, transfers

MSISDN_A = "254700000001"
MSISDN_B = "254700000002"
SHORTCODE = "600100"
WALLET_A = f"wallet:{MSISDN_A}"
WALLET_B = f"wallet:{MSISDN_B}"
UTILITY = f"utility:{SHORTCODE}"
WORKING = f"working:{SHORTCODE}"
CHARGES = f"charges:{SHORTCODE}"
FLOAT = ledger_accounts.FLOAT.code
REVENUE = ledger_accounts.PLATFORM_REVENUE.code
WALLET_A_MAX_CENTS = 10_000
WALLET_B_MAX_CENTS = 5_000
NOW = 1_700_000_000.0

Totals = tuple[int, int, int, int]


def transfer(
    transfer_id: str,
    debit: str,
    credit: str,
    amount_cents: int,
    *,
    phase: Phase = Phase.POSTED,
    pending_id: str | None = None,
    purpose: Purpose = Purpose.PRINCIPAL,
    transaction_id: str | None = None,
) -> TransferRequest:
    return TransferRequest(
        id=transfer_id,
        debit_account=debit,
        credit_account=credit,
        amount_cents=amount_cents,
        purpose=purpose,
        transaction_id=transaction_id,
        phase=phase,
        pending_id=pending_id,
    )


def post(
    engine: Engine, store: LedgerStore, requests: Sequence[TransferRequest], *, now: float = NOW
) -> PostingResult:
    with write_transaction(engine) as conn:
        return store.post(conn, requests, now=now)


def open_standard_accounts(engine: Engine, store: LedgerStore) -> None:
    specs = [
        *ledger_accounts.PLATFORM_ACCOUNTS,
        ledger_accounts.customer_wallet(MSISDN_A, max_balance_cents=WALLET_A_MAX_CENTS),
        ledger_accounts.customer_wallet(MSISDN_B, max_balance_cents=WALLET_B_MAX_CENTS),
        *ledger_accounts.org_accounts(SHORTCODE),
    ]
    with write_transaction(engine) as conn:
        store.ensure_accounts(conn, specs, NOW)


def account_totals(engine: Engine) -> dict[str, Totals]:
    """Every account's (debits_posted, credits_posted, debits_pending, credits_pending)."""
    query = select(
        accounts.c.code,
        accounts.c.debits_posted,
        accounts.c.credits_posted,
        accounts.c.debits_pending,
        accounts.c.credits_pending,
    )
    with snapshot_transaction(engine) as conn:
        return {row[0]: (row[1], row[2], row[3], row[4]) for row in conn.execute(query)}


def transfer_count(engine: Engine) -> int:
    with snapshot_transaction(engine) as conn:
        return int(conn.execute(select(func.count()).select_from(transfers)).scalar_one())


def violations(engine: Engine) -> list[Violation]:
    with snapshot_transaction(engine) as conn:
        return verify(conn)
