"""What customers did from the handset's own menus (handset_transactions) and the airtime
they bought (airtime_topups)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select

from pesabox.storage.tables import airtime_topups, handset_transactions

SEND_MONEY = "send_money"
AIRTIME = "airtime"
DATA_BUNDLE = "data_bundle"
BONGA_TRANSFER = "bonga_transfer"


@dataclass(frozen=True, slots=True)
class HandsetTransaction:
    receipt: str
    kind: str
    msisdn: str
    counterparty: str
    # Cents, or whole points for a Bonga transfer.
    amount: int
    fee_cents: int
    result_code: int
    result_desc: str
    idempotency_key: str | None
    created_at: float

    @property
    def succeeded(self) -> bool:
        return self.result_code == 0


def _transaction(row: Any) -> HandsetTransaction:
    return HandsetTransaction(
        receipt=row.receipt,
        kind=row.kind,
        msisdn=row.msisdn,
        counterparty=row.counterparty,
        amount=int(row.amount),
        fee_cents=int(row.fee_cents),
        result_code=int(row.result_code),
        result_desc=row.result_desc,
        idempotency_key=row.idempotency_key,
        created_at=float(row.created_at),
    )


def insert_transaction(conn: Connection, transaction: HandsetTransaction) -> None:
    conn.execute(
        insert(handset_transactions).values(
            receipt=transaction.receipt,
            kind=transaction.kind,
            msisdn=transaction.msisdn,
            counterparty=transaction.counterparty,
            amount=transaction.amount,
            fee_cents=transaction.fee_cents,
            result_code=transaction.result_code,
            result_desc=transaction.result_desc,
            idempotency_key=transaction.idempotency_key,
            created_at=transaction.created_at,
        )
    )


def find_by_idempotency_key(conn: Connection, key: str) -> HandsetTransaction | None:
    row = conn.execute(
        select(handset_transactions).where(handset_transactions.c.idempotency_key == key)
    ).first()
    return _transaction(row) if row is not None else None


def get_transaction(conn: Connection, receipt: str) -> HandsetTransaction | None:
    row = conn.execute(
        select(handset_transactions).where(handset_transactions.c.receipt == receipt)
    ).first()
    return _transaction(row) if row is not None else None


def add_topup(
    conn: Connection, *, msisdn: str, amount_cents: int, paid_by: str, receipt: str, now: float
) -> None:
    conn.execute(
        insert(airtime_topups).values(
            msisdn=msisdn,
            amount_cents=amount_cents,
            paid_by=paid_by,
            receipt=receipt,
            created_at=now,
        )
    )


def last_topup_cents(conn: Connection, msisdn: str) -> int | None:
    """The line's last *direct* top-up (§2.9): airtime its own customer bought for it.

    Airtime bought for the line by someone else does not count, or anyone could plant the
    answer Bonga PIN vetting asks for by sending the line a few shillings of airtime.
    """
    row = conn.execute(
        select(airtime_topups.c.amount_cents)
        .where(airtime_topups.c.msisdn == msisdn, airtime_topups.c.paid_by == msisdn)
        # The newest row by insertion: two top-ups at the same clock reading (the sandbox
        # clock only moves forward, but may stand still) are told apart by their order.
        .order_by(airtime_topups.c.id.desc())
        .limit(1)
    ).first()
    return int(row[0]) if row is not None else None
