"""Read-only views of the ledger: balances, an owner's accounts, an account's statement.

Balances come from each account's running totals (one row read), never from summing its
transfers; `ledger_verify` is what checks that the two agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypedDict

from sqlalchemy import Connection, Engine, func, select, text

from pesabox.domain.ledger import Phase
from pesabox.storage.db import read_transaction
from pesabox.storage.tables import accounts, transfers

STATEMENT_LIMIT_MAX = 1000


class AccountBalance(TypedDict):
    code: str
    kind: str
    owner: str
    balance_cents: int
    # What the owner can spend now: the balance less what pending debits have reserved.
    available_cents: int
    debits_posted_cents: int
    credits_posted_cents: int
    debits_pending_cents: int
    credits_pending_cents: int
    min_balance_cents: int | None
    max_balance_cents: int | None


class StatementLine(TypedDict):
    transfer_id: str
    created_at: float
    # "debit" or "credit", as seen from the account the statement is for.
    direction: str
    amount_cents: int
    counterparty: str
    purpose: str
    phase: str
    transaction_id: str | None
    pending_id: str | None
    # The posted balance once this line (and every older one) had been applied.
    balance_after_cents: int


@dataclass(frozen=True, slots=True)
class LedgerSize:
    accounts: int
    transfers: int


@contextmanager
def snapshot_transaction(engine: Engine) -> Iterator[Connection]:
    """A read-only db transaction in which every query sees the same committed state.

    SQLite's deferred transaction in WAL mode already reads one snapshot. PostgreSQL's
    default, READ COMMITTED, takes a new snapshot per statement, so it needs REPEATABLE READ.
    """
    if engine.dialect.name != "postgresql":
        with read_transaction(engine) as conn:
            yield conn
        return
    with engine.connect() as connection:
        connection = connection.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
        with connection.begin():
            yield connection


def _balance(row: Any) -> AccountBalance:
    balance_cents = int(row.credits_posted) - int(row.debits_posted)
    return AccountBalance(
        code=row.code,
        kind=row.kind,
        owner=row.owner,
        balance_cents=balance_cents,
        available_cents=balance_cents - int(row.debits_pending),
        debits_posted_cents=int(row.debits_posted),
        credits_posted_cents=int(row.credits_posted),
        debits_pending_cents=int(row.debits_pending),
        credits_pending_cents=int(row.credits_pending),
        min_balance_cents=row.min_balance_cents,
        max_balance_cents=row.max_balance_cents,
    )


def account_balance(conn: Connection, code: str) -> AccountBalance | None:
    row = conn.execute(select(accounts).where(accounts.c.code == code)).first()
    return None if row is None else _balance(row)


def accounts_for_owner(conn: Connection, owner: str) -> list[AccountBalance]:
    """An MSISDN's wallet, a shortcode's utility/working/charges accounts, in opening order."""
    rows = conn.execute(select(accounts).where(accounts.c.owner == owner).order_by(accounts.c.id))
    return [_balance(row) for row in rows]


def ledger_size(conn: Connection) -> LedgerSize:
    account_count = conn.execute(select(func.count()).select_from(accounts)).scalar_one()
    transfer_count = conn.execute(select(func.count()).select_from(transfers)).scalar_one()
    return LedgerSize(accounts=int(account_count), transfers=int(transfer_count))


# Linked transfers share a created_at, so the id breaks ties and keeps pages stable.
_STATEMENT = text(
    """
    SELECT t.id, t.created_at, t.amount_cents, t.purpose, t.phase, t.transaction_id,
           t.pending_id, other.code AS counterparty,
           CASE WHEN t.debit_account_id = :account_id THEN 'debit' ELSE 'credit' END
               AS direction
      FROM transfers t
      JOIN accounts other
        ON other.id = CASE WHEN t.debit_account_id = :account_id
                           THEN t.credit_account_id ELSE t.debit_account_id END
     WHERE t.debit_account_id = :account_id OR t.credit_account_id = :account_id
     ORDER BY t.created_at DESC, t.id DESC
     LIMIT :limit
    """
)


def statement(conn: Connection, code: str, *, limit: int = 50) -> list[StatementLine]:
    """The newest `limit` transfers touching the account, newest first; [] if unknown.

    The running balance is worked backwards from the account's current posted balance, so
    it costs nothing beyond the page itself. It assumes transfers were applied in
    created_at order, which holds for one writer and its clock.
    """
    if not 1 <= limit <= STATEMENT_LIMIT_MAX:
        raise ValueError(f"limit must be between 1 and {STATEMENT_LIMIT_MAX}")
    account = conn.execute(
        select(accounts.c.id, accounts.c.debits_posted, accounts.c.credits_posted).where(
            accounts.c.code == code
        )
    ).first()
    if account is None:
        return []
    rows = conn.execute(_STATEMENT, {"account_id": account.id, "limit": limit})
    balance_cents = int(account.credits_posted) - int(account.debits_posted)
    lines = []
    for row in rows:
        lines.append(_statement_line(row, balance_cents))
        balance_cents -= _posted_effect_cents(row)
    return lines


def _posted_effect_cents(row: Any) -> int:
    # Only posted money moves a balance; a reservation or its void leaves it where it was.
    if row.phase not in (Phase.POSTED, Phase.POST_PENDING):
        return 0
    amount_cents = int(row.amount_cents)
    return amount_cents if row.direction == "credit" else -amount_cents


def _statement_line(row: Any, balance_after_cents: int) -> StatementLine:
    return StatementLine(
        transfer_id=row.id,
        created_at=float(row.created_at),
        direction=row.direction,
        amount_cents=int(row.amount_cents),
        counterparty=row.counterparty,
        purpose=row.purpose,
        phase=row.phase,
        transaction_id=row.transaction_id,
        pending_id=row.pending_id,
        balance_after_cents=balance_after_cents,
    )


def transfer_amount_cents(conn: Connection, transfer_id: str) -> int | None:
    """The amount of one transfer by its id (cents, or points on a points account)."""
    row = conn.execute(
        select(transfers.c.amount_cents).where(transfers.c.id == transfer_id)
    ).first()
    return int(row[0]) if row is not None else None
