"""An organisation account's statement with the portal's filters: dates, direction, type and
receipt, each line with the balance it left.

The running balance is a window sum over all the account's transfers, taken before the
filters apply, so a filtered line still shows the account's true balance after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, text

from pesabox.domain.ledger import Phase
from pesabox.domain.statement_filter import DIRECTIONS, StatementFilter
from pesabox.storage.tables import accounts, transfers

STATEMENT_ROWS_MAX = 10_000


@dataclass(frozen=True, slots=True)
class Line:
    transfer_id: str
    created_at: float
    direction: str
    amount_cents: int
    counterparty: str
    purpose: str
    transaction_id: str | None
    balance_after_cents: int


_LINES = """
    WITH lines AS (
        SELECT t.id, t.created_at, t.amount_cents, t.purpose, t.phase, t.transaction_id,
               CASE WHEN t.debit_account_id = :account_id THEN 'debit' ELSE 'credit' END
                   AS direction,
               CASE WHEN t.debit_account_id = :account_id
                    THEN t.credit_account_id ELSE t.debit_account_id END AS other_id,
               SUM(CASE WHEN t.phase NOT IN (:posted, :post_pending) THEN 0
                        WHEN t.credit_account_id = :account_id THEN t.amount_cents
                        ELSE -t.amount_cents END)
                   OVER (ORDER BY t.created_at, t.id ROWS UNBOUNDED PRECEDING)
                   AS balance_after
          FROM transfers t
         WHERE t.debit_account_id = :account_id OR t.credit_account_id = :account_id
    )
    SELECT lines.id, lines.created_at, lines.amount_cents, lines.purpose,
           lines.transaction_id, lines.direction, lines.balance_after,
           other.code AS counterparty
      FROM lines JOIN accounts other ON other.id = lines.other_id
     WHERE lines.phase IN (:posted, :post_pending) {conditions}
     ORDER BY lines.created_at DESC, lines.id DESC
     LIMIT :limit
"""


def statement(
    conn: Connection, code: str, filters: StatementFilter, *, limit: int = 200
) -> list[Line]:
    """Posted lines of account `code` matching `filters`, newest first; [] if unknown."""
    account_id = conn.execute(select(accounts.c.id).where(accounts.c.code == code)).scalar()
    if account_id is None:
        return []
    params: dict[str, Any] = {
        "account_id": account_id,
        "posted": str(Phase.POSTED),
        "post_pending": str(Phase.POST_PENDING),
        "limit": max(1, min(limit, STATEMENT_ROWS_MAX)),
    }
    # Only fixed SQL fragments are added; every value the user typed is a bound parameter.
    conditions = []
    if filters.since is not None:
        conditions.append("lines.created_at >= :since")
        params["since"] = filters.since
    if filters.until is not None:
        conditions.append("lines.created_at < :until")
        params["until"] = filters.until
    if filters.direction in DIRECTIONS:
        conditions.append("lines.direction = :direction")
        params["direction"] = filters.direction
    if filters.purpose:
        conditions.append("lines.purpose = :purpose")
        params["purpose"] = filters.purpose
    if filters.receipt:
        conditions.append("lines.transaction_id = :receipt")
        params["receipt"] = filters.receipt
    sql = _LINES.format(conditions="".join(f" AND {c}" for c in conditions))
    return [
        Line(
            transfer_id=row.id,
            created_at=float(row.created_at),
            direction=row.direction,
            amount_cents=int(row.amount_cents),
            counterparty=row.counterparty,
            purpose=row.purpose,
            transaction_id=row.transaction_id,
            balance_after_cents=int(row.balance_after),
        )
        for row in conn.execute(text(sql), params)
    ]


def find_transfer(conn: Connection, transfer_id: str) -> tuple[int, str | None] | None:
    """(amount, transaction id) of a transfer, or None: how a resent form finds its first
    posting."""
    row = conn.execute(
        select(transfers.c.amount_cents, transfers.c.transaction_id).where(
            transfers.c.id == transfer_id
        )
    ).first()
    return None if row is None else (int(row.amount_cents), row.transaction_id)
