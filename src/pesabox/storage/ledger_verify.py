"""Check the whole ledger against its invariants (`pesabox ledger verify`).

Each rule is one aggregate query, so the database does the work and a ledger of millions of
transfers is read in a few scans, never loaded into Python. Each rule reports at most
`limit_per_rule` violations: a badly broken ledger should say so quickly, not print forever.

Run `verify` inside one snapshot (`pesabox.storage.ledger_queries.snapshot_transaction`):
the rules compare tables with each other, and a posting committed between two queries would
otherwise look like a broken total.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, text

from pesabox.domain.ledger import Phase


class Rule(StrEnum):
    ACCOUNT_TOTALS = "account_totals"
    ZERO_SUM = "zero_sum"
    BOUNDS = "bounds"
    TRANSFER_AMOUNT = "transfer_amount"
    TRANSFER_ACCOUNTS = "transfer_accounts"
    TRANSFER_PHASE = "transfer_phase"
    PENDING_RESOLUTION = "pending_resolution"
    TRANSACTION_BALANCE = "transaction_balance"


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str
    detail: str


LIMIT_PER_RULE_DEFAULT = 100

# Every query binds the phase names instead of spelling them, so they follow `Phase`.
_PHASES = {
    "posted": str(Phase.POSTED),
    "pending": str(Phase.PENDING),
    "post_pending": str(Phase.POST_PENDING),
    "void_pending": str(Phase.VOID_PENDING),
}

# A pending transfer stops counting as pending once a post or void names it.
_POSTED_CENTS = "CASE WHEN t.phase IN (:posted, :post_pending) THEN t.amount_cents ELSE 0 END"
_OPEN_PENDING_CENTS = """
    CASE WHEN t.phase = :pending AND NOT EXISTS (
        SELECT 1 FROM transfers r
         WHERE r.pending_id = t.id AND r.phase IN (:post_pending, :void_pending))
    THEN t.amount_cents ELSE 0 END
"""


# The two queries below are assembled from this module's constants only, never from input,
# which is why the S608 (SQL built from strings) warnings are silenced on them.
def _side_totals(side: str) -> str:
    return f"""
        SELECT t.{side}_account_id AS account_id,
               SUM({_POSTED_CENTS}) AS posted_cents,
               SUM({_OPEN_PENDING_CENTS}) AS pending_cents
          FROM transfers t
         GROUP BY t.{side}_account_id
    """  # noqa: S608


_ACCOUNT_TOTALS = text(
    f"""
    SELECT a.code, a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending,
           COALESCE(d.posted_cents, 0) AS want_debits_posted,
           COALESCE(c.posted_cents, 0) AS want_credits_posted,
           COALESCE(d.pending_cents, 0) AS want_debits_pending,
           COALESCE(c.pending_cents, 0) AS want_credits_pending
      FROM accounts a
      LEFT JOIN ({_side_totals("debit")}) d ON d.account_id = a.id
      LEFT JOIN ({_side_totals("credit")}) c ON c.account_id = a.id
     WHERE a.debits_posted <> COALESCE(d.posted_cents, 0)
        OR a.credits_posted <> COALESCE(c.posted_cents, 0)
        OR a.debits_pending <> COALESCE(d.pending_cents, 0)
        OR a.credits_pending <> COALESCE(c.pending_cents, 0)
     ORDER BY a.code
     LIMIT :limit
    """  # noqa: S608
)

_ZERO_SUM = text(
    """
    SELECT COALESCE(SUM(credits_posted), 0) AS credits_posted,
           COALESCE(SUM(debits_posted), 0) AS debits_posted,
           COALESCE(SUM(credits_pending), 0) AS credits_pending,
           COALESCE(SUM(debits_pending), 0) AS debits_pending
      FROM accounts
    """
)

# The store keeps room for reservations on both sides: pending debits may not take an
# account below its minimum, and pending credits may not take it above its maximum.
_BOUNDS = text(
    """
    SELECT code, credits_posted - debits_posted AS balance_cents, debits_pending,
           credits_pending, min_balance_cents, max_balance_cents
      FROM accounts
     WHERE (min_balance_cents IS NOT NULL
            AND credits_posted - debits_posted - debits_pending < min_balance_cents)
        OR (max_balance_cents IS NOT NULL
            AND credits_posted - debits_posted + credits_pending > max_balance_cents)
     ORDER BY code
     LIMIT :limit
    """
)

# One scan of transfers flags every shape problem; CASE keeps the flags 0/1 on both databases.
_TRANSFER_SHAPE = text(
    """
    SELECT t.id, t.amount_cents, t.phase, t.pending_id,
           CASE WHEN t.amount_cents <= 0 THEN 1 ELSE 0 END AS bad_amount,
           CASE WHEN t.debit_account_id = t.credit_account_id THEN 1 ELSE 0 END AS same_account,
           CASE WHEN d.id IS NULL THEN 1 ELSE 0 END AS no_debit_account,
           CASE WHEN c.id IS NULL THEN 1 ELSE 0 END AS no_credit_account,
           CASE WHEN t.phase NOT IN (:posted, :pending, :post_pending, :void_pending)
                  OR (t.phase IN (:post_pending, :void_pending) AND t.pending_id IS NULL)
                  OR (t.phase IN (:posted, :pending) AND t.pending_id IS NOT NULL)
                THEN 1 ELSE 0 END AS bad_phase
      FROM transfers t
      LEFT JOIN accounts d ON d.id = t.debit_account_id
      LEFT JOIN accounts c ON c.id = t.credit_account_id
     WHERE t.amount_cents <= 0
        OR t.debit_account_id = t.credit_account_id
        OR d.id IS NULL
        OR c.id IS NULL
        OR t.phase NOT IN (:posted, :pending, :post_pending, :void_pending)
        OR (t.phase IN (:post_pending, :void_pending) AND t.pending_id IS NULL)
        OR (t.phase IN (:posted, :pending) AND t.pending_id IS NOT NULL)
     ORDER BY t.id
     LIMIT :limit
    """
)

_RESOLVED_TWICE = text(
    """
    SELECT pending_id, COUNT(*) AS resolutions
      FROM transfers
     WHERE pending_id IS NOT NULL
     GROUP BY pending_id
    HAVING COUNT(*) > 1
     ORDER BY pending_id
     LIMIT :limit
    """
)

_RESOLUTION_MISMATCH = text(
    """
    SELECT r.id, r.pending_id, p.id AS target_id, p.phase AS target_phase
      FROM transfers r
      LEFT JOIN transfers p ON p.id = r.pending_id
     WHERE r.pending_id IS NOT NULL
       AND (p.id IS NULL
            OR p.phase <> :pending
            OR p.amount_cents <> r.amount_cents
            OR p.debit_account_id <> r.debit_account_id
            OR p.credit_account_id <> r.credit_account_id)
     ORDER BY r.id
     LIMIT :limit
    """
)

# A side whose account is missing moves nothing, so the business transaction cannot balance.
_TRANSACTION_BALANCE = text(
    """
    SELECT t.transaction_id,
           SUM(CASE WHEN d.id IS NOT NULL THEN t.amount_cents ELSE 0 END) AS debited_cents,
           SUM(CASE WHEN c.id IS NOT NULL THEN t.amount_cents ELSE 0 END) AS credited_cents
      FROM transfers t
      LEFT JOIN accounts d ON d.id = t.debit_account_id
      LEFT JOIN accounts c ON c.id = t.credit_account_id
     GROUP BY t.transaction_id
    HAVING SUM(CASE WHEN d.id IS NOT NULL THEN t.amount_cents ELSE 0 END)
        <> SUM(CASE WHEN c.id IS NOT NULL THEN t.amount_cents ELSE 0 END)
     ORDER BY t.transaction_id
     LIMIT :limit
    """
)


def verify(conn: Connection, *, limit_per_rule: int = LIMIT_PER_RULE_DEFAULT) -> list[Violation]:
    """Every broken ledger invariant, at most `limit_per_rule` of each kind; [] if sound."""
    if limit_per_rule < 1:
        raise ValueError("limit_per_rule must be at least 1")
    checks: list[Callable[[Connection, int], list[Violation]]] = [
        _check_account_totals,
        _check_zero_sum,
        _check_bounds,
        _check_transfer_shape,
        _check_pending_resolution,
        _check_transaction_balance,
    ]
    violations: list[Violation] = []
    for check in checks:
        violations.extend(check(conn, limit_per_rule))
    return violations


def _rows(conn: Connection, query: Any, limit: int) -> list[Any]:
    return list(conn.execute(query, {**_PHASES, "limit": limit}).mappings())


def _check_account_totals(conn: Connection, limit: int) -> list[Violation]:
    violations = []
    for row in _rows(conn, _ACCOUNT_TOTALS, limit):
        for total in ("debits_posted", "credits_posted", "debits_pending", "credits_pending"):
            # PostgreSQL sums bigints as numeric; int() makes both databases print alike.
            stored, wanted = int(row[total]), int(row[f"want_{total}"])
            if stored != wanted:
                detail = f"{row['code']}: {total} is {stored}, its transfers add up to {wanted}"
                violations.append(Violation(Rule.ACCOUNT_TOTALS, detail))
    return violations


def _check_zero_sum(conn: Connection, limit: int) -> list[Violation]:
    row = conn.execute(_ZERO_SUM).mappings().one()
    violations = []
    for side in ("posted", "pending"):
        credits, debits = int(row[f"credits_{side}"]), int(row[f"debits_{side}"])
        if credits != debits:
            detail = f"all accounts' {side} credits are {credits} but {side} debits are {debits}"
            violations.append(Violation(Rule.ZERO_SUM, detail))
    return violations[:limit]


def _check_bounds(conn: Connection, limit: int) -> list[Violation]:
    violations = []
    for row in _rows(conn, _BOUNDS, limit):
        detail = (
            f"{row['code']}: balance {row['balance_cents']} with {row['debits_pending']} pending"
            f" debits and {row['credits_pending']} pending credits is outside"
            f" [{_bound(row['min_balance_cents'])}, {_bound(row['max_balance_cents'])}]"
        )
        violations.append(Violation(Rule.BOUNDS, detail))
    return violations


def _bound(value: int | None) -> str:
    return "unbounded" if value is None else str(value)


def _check_transfer_shape(conn: Connection, limit: int) -> list[Violation]:
    problems = [
        ("bad_amount", Rule.TRANSFER_AMOUNT, "amount {amount_cents} is not positive"),
        ("same_account", Rule.TRANSFER_ACCOUNTS, "debits and credits the same account"),
        ("no_debit_account", Rule.TRANSFER_ACCOUNTS, "its debit account does not exist"),
        ("no_credit_account", Rule.TRANSFER_ACCOUNTS, "its credit account does not exist"),
        ("bad_phase", Rule.TRANSFER_PHASE, "phase {phase} with pending_id {pending_id}"),
    ]
    violations = []
    for row in _rows(conn, _TRANSFER_SHAPE, limit):
        for flag, rule, message in problems:
            if row[flag]:
                detail = f"transfer {row['id']}: " + message.format(**row)
                violations.append(Violation(rule, detail))
    return violations


def _check_pending_resolution(conn: Connection, limit: int) -> list[Violation]:
    violations = []
    for row in _rows(conn, _RESOLVED_TWICE, limit):
        detail = f"pending transfer {row['pending_id']} is resolved {row['resolutions']} times"
        violations.append(Violation(Rule.PENDING_RESOLUTION, detail))
    for row in _rows(conn, _RESOLUTION_MISMATCH, limit):
        if row["target_id"] is None:
            reason = "which does not exist"
        elif row["target_phase"] != Phase.PENDING:
            reason = f"which is {row['target_phase']}, not pending"
        else:
            reason = "with another amount or other accounts"
        detail = f"transfer {row['id']} resolves {row['pending_id']}, {reason}"
        violations.append(Violation(Rule.PENDING_RESOLUTION, detail))
    return violations


def _check_transaction_balance(conn: Connection, limit: int) -> list[Violation]:
    violations = []
    for row in _rows(conn, _TRANSACTION_BALANCE, limit):
        name = row["transaction_id"] or "(transfers without a transaction)"
        detail = (
            f"transaction {name}: debits {int(row['debited_cents'])}"
            f" but credits {int(row['credited_cents'])}"
        )
        violations.append(Violation(Rule.TRANSACTION_BALANCE, detail))
    return violations
