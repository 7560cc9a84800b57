"""Withdrawals to the bank: written when the money leaves M-Pesa, settled once.

`mark_settled` is the one place a withdrawal changes state, and its WHERE clause makes the
change happen at most once however many processes settle at the same moment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, case, func, select, update

from pesabox.domain.bank_details import BankDetails
from pesabox.domain.org_funds import WithdrawalStatus
from pesabox.storage.tables import operators, withdrawals

# A report or a list never pages further than this; the portal shows the newest first.
LIST_LIMIT_MAX = 500


@dataclass(frozen=True, slots=True)
class WithdrawalRecord:
    id: str
    shortcode: str
    operator_id: int
    operator_username: str
    amount_cents: int
    bank: BankDetails
    status: WithdrawalStatus
    settle_on: date
    due_at: float
    settled_at: float | None
    bank_reference: str | None
    idempotency_key: str
    created_at: float


def _record(row: Any) -> WithdrawalRecord:
    return WithdrawalRecord(
        id=row.id,
        shortcode=row.shortcode,
        operator_id=row.operator_id,
        operator_username=row.username,
        amount_cents=int(row.amount_cents),
        bank=BankDetails(row.bank_name, row.branch, row.account_number, row.account_name),
        status=WithdrawalStatus(row.status),
        settle_on=date.fromisoformat(row.settle_on),
        due_at=float(row.due_at),
        settled_at=row.settled_at,
        bank_reference=row.bank_reference,
        idempotency_key=row.idempotency_key,
        created_at=float(row.created_at),
    )


_WITH_OPERATOR = select(withdrawals, operators.c.username).join(
    operators, operators.c.id == withdrawals.c.operator_id
)


def insert_withdrawal(
    conn: Connection,
    *,
    withdrawal_id: str,
    shortcode: str,
    operator_id: int,
    amount_cents: int,
    bank: BankDetails,
    settle_on: date,
    due_at: float,
    idempotency_key: str,
    now: float,
) -> None:
    conn.execute(
        withdrawals.insert().values(
            id=withdrawal_id,
            shortcode=shortcode,
            operator_id=operator_id,
            amount_cents=amount_cents,
            bank_name=bank.bank_name,
            branch=bank.branch,
            account_number=bank.account_number,
            account_name=bank.account_name,
            status=str(WithdrawalStatus.PENDING),
            settle_on=settle_on.isoformat(),
            due_at=due_at,
            idempotency_key=idempotency_key,
            created_at=now,
        )
    )


def get_withdrawal(
    conn: Connection, withdrawal_id: str, *, shortcodes: Iterable[str]
) -> WithdrawalRecord | None:
    """The withdrawal, if it belongs to one of `shortcodes` (the caller's organisation)."""
    row = conn.execute(
        _WITH_OPERATOR.where(
            withdrawals.c.id == withdrawal_id, withdrawals.c.shortcode.in_(list(shortcodes))
        )
    ).first()
    return None if row is None else _record(row)


def find_by_idempotency_key(
    conn: Connection, *, shortcode: str, idempotency_key: str
) -> WithdrawalRecord | None:
    row = conn.execute(
        _WITH_OPERATOR.where(
            withdrawals.c.shortcode == shortcode,
            withdrawals.c.idempotency_key == idempotency_key,
        )
    ).first()
    return None if row is None else _record(row)


def list_withdrawals(
    conn: Connection,
    *,
    shortcodes: Iterable[str],
    settle_on: date | None = None,
    limit: int = 100,
) -> list[WithdrawalRecord]:
    """The shortcodes' withdrawals, newest first; only one settlement day's if given."""
    query = _WITH_OPERATOR.where(withdrawals.c.shortcode.in_(list(shortcodes)))
    if settle_on is not None:
        query = query.where(withdrawals.c.settle_on == settle_on.isoformat())
    query = query.order_by(withdrawals.c.created_at.desc(), withdrawals.c.id.desc())
    return [_record(row) for row in conn.execute(query.limit(min(limit, LIST_LIMIT_MAX)))]


@dataclass(frozen=True, slots=True)
class SettlementDay:
    settle_on: date
    count: int
    total_cents: int
    settled: int


def settlement_days(
    conn: Connection, *, shortcodes: Iterable[str], limit: int = 60, offset: int = 0
) -> list[SettlementDay]:
    """Per settlement day, newest first (`limit` days after skipping `offset`): how many
    withdrawals, their total, how many are settled."""
    settled = func.sum(case((withdrawals.c.status == str(WithdrawalStatus.SETTLED), 1), else_=0))
    query = (
        select(
            withdrawals.c.settle_on,
            func.count().label("n"),
            func.sum(withdrawals.c.amount_cents).label("total"),
            settled.label("settled"),
        )
        .where(withdrawals.c.shortcode.in_(list(shortcodes)))
        .group_by(withdrawals.c.settle_on)
        .order_by(withdrawals.c.settle_on.desc())
        .limit(limit)
        .offset(max(offset, 0))
    )
    return [
        SettlementDay(date.fromisoformat(row.settle_on), int(row.n), int(row.total),
                      int(row.settled or 0))
        for row in conn.execute(query)
    ]  # fmt: skip


def due_ids(conn: Connection, *, now: float, limit: int) -> list[str]:
    """Pending withdrawals whose settlement day has begun, oldest first."""
    rows = conn.execute(
        select(withdrawals.c.id)
        .where(withdrawals.c.status == str(WithdrawalStatus.PENDING), withdrawals.c.due_at <= now)
        .order_by(withdrawals.c.due_at, withdrawals.c.id)
        .limit(limit)
    )
    return [row.id for row in rows]


def get_pending_amount(conn: Connection, withdrawal_id: str) -> tuple[int, str] | None:
    """(amount, settle_on) of a withdrawal still pending, or None."""
    row = conn.execute(
        select(withdrawals.c.amount_cents, withdrawals.c.settle_on).where(
            withdrawals.c.id == withdrawal_id,
            withdrawals.c.status == str(WithdrawalStatus.PENDING),
        )
    ).first()
    return None if row is None else (int(row.amount_cents), row.settle_on)


def mark_settled(conn: Connection, withdrawal_id: str, *, bank_reference: str, now: float) -> bool:
    """Pending → settled; False if it was settled already (by this or another process)."""
    result = conn.execute(
        update(withdrawals)
        .where(
            withdrawals.c.id == withdrawal_id,
            withdrawals.c.status == str(WithdrawalStatus.PENDING),
        )
        .values(status=str(WithdrawalStatus.SETTLED), settled_at=now, bank_reference=bank_reference)
    )
    return result.rowcount == 1
