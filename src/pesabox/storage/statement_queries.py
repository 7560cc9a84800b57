"""An organisation account's statement with the portal's filters: dates, direction, type and
receipt, each line with the balance it left.

Each line's balance is the account's true balance after it, whatever the filters (see
`_LINES` for how it is worked out without reading the whole history).
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


# The balance after each line is worked backwards from the account's balance now: minus
# everything posted after the line. So only the transfers from the oldest line shown up to
# now are read (`lower`: the oldest of the lines the filters pick), not the account's whole
# history; the default view, the newest lines, reads just those. Pending reservations move
# no balance, so they count as zero, as `accounts.credits_posted - debits_posted` does.
_LINES = """
    WITH shown AS (
        SELECT t.created_at FROM transfers t
         WHERE (t.debit_account_id = :account_id OR t.credit_account_id = :account_id)
           AND t.phase IN (:posted, :post_pending) {shown_conditions}
         ORDER BY t.created_at DESC, t.id DESC
         LIMIT :limit
    ),
    lines AS (
        SELECT t.id, t.created_at, t.amount_cents, t.purpose, t.phase, t.transaction_id,
               t.debit_account_id, t.credit_account_id,
               CASE WHEN t.debit_account_id = :account_id THEN 'debit' ELSE 'credit' END
                   AS direction,
               CASE WHEN t.debit_account_id = :account_id
                    THEN t.credit_account_id ELSE t.debit_account_id END AS other_id,
               (SELECT a.credits_posted - a.debits_posted FROM accounts a
                 WHERE a.id = :account_id)
               - COALESCE(SUM(CASE WHEN t.phase NOT IN (:posted, :post_pending) THEN 0
                                   WHEN t.credit_account_id = :account_id THEN t.amount_cents
                                   ELSE -t.amount_cents END)
                   OVER (ORDER BY t.created_at DESC, t.id DESC
                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                   AS balance_after
          FROM transfers t
         WHERE (t.debit_account_id = :account_id OR t.credit_account_id = :account_id)
           AND t.created_at >= (SELECT MIN(shown.created_at) FROM shown)
    )
    SELECT lines.id, lines.created_at, lines.amount_cents, lines.purpose,
           lines.transaction_id, lines.direction, lines.balance_after,
           other.code AS counterparty
      FROM lines JOIN accounts other ON other.id = lines.other_id
     WHERE lines.phase IN (:posted, :post_pending) {line_conditions}
     ORDER BY lines.created_at DESC, lines.id DESC
     LIMIT :limit
"""


def _conditions(filters: StatementFilter, params: dict[str, Any]) -> list[str]:
    """The filters as SQL on a transfer aliased `{t}`; only fixed fragments are added, every
    value the user typed is a bound parameter."""
    conditions = []
    if filters.since is not None:
        conditions.append("{t}.created_at >= :since")
        params["since"] = filters.since
    if filters.until is not None:
        conditions.append("{t}.created_at < :until")
        params["until"] = filters.until
    if filters.direction in DIRECTIONS:
        side = "debit" if filters.direction == "debit" else "credit"
        conditions.append(f"{{t}}.{side}_account_id = :account_id")
    if filters.purpose:
        conditions.append("{t}.purpose = :purpose")
        params["purpose"] = filters.purpose
    if filters.receipt:
        conditions.append("{t}.transaction_id = :receipt")
        params["receipt"] = filters.receipt
    return conditions


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
    conditions = _conditions(filters, params)

    def joined(alias: str) -> str:
        return "".join(" AND " + condition.format(t=alias) for condition in conditions)

    sql = _LINES.format(shown_conditions=joined("t"), line_conditions=joined("lines"))
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
