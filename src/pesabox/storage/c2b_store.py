"""C2B URL registrations and customer-initiated payments, one row per payment."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Connection, insert, select, update

from pesabox.storage.fastsql import Statement
from pesabox.storage.tables import c2b_payments, c2b_registrations

# --- registrations ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Registration:
    shortcode: str
    app_id: int
    api_version: str
    response_type: str
    confirmation_url: str
    validation_url: str
    msisdn_format: str
    created_at: float
    updated_at: float

    def view(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(Registration)}


# Read on every payment, inside the writer's db transaction: written for the driver.
_REGISTRATION = Statement(
    f"SELECT {', '.join(f.name for f in fields(Registration))} "  # noqa: S608 - our own names
    "FROM c2b_registrations WHERE shortcode = :shortcode"
)


def get_registration(conn: Connection, shortcode: str) -> Registration | None:
    row = _REGISTRATION.one_or_none(conn, {"shortcode": shortcode})
    return Registration(*row) if row is not None else None


def save_registration(conn: Connection, registration: Registration, *, overwrite: bool) -> bool:
    """Insert, or replace when `overwrite`; False when one exists and may not be replaced."""
    existing = get_registration(conn, registration.shortcode)
    values = {f.name: getattr(registration, f.name) for f in fields(Registration)}
    if existing is None:
        conn.execute(insert(c2b_registrations).values(values))
        return True
    if not overwrite:
        return False
    values["created_at"] = existing.created_at
    conn.execute(
        update(c2b_registrations)
        .where(c2b_registrations.c.shortcode == registration.shortcode)
        .values(values)
    )
    return True


def set_msisdn_format(conn: Connection, shortcode: str, msisdn_format: str, now: float) -> bool:
    result = conn.execute(
        update(c2b_registrations)
        .where(c2b_registrations.c.shortcode == shortcode)
        .values(msisdn_format=msisdn_format, updated_at=now)
    )
    return result.rowcount > 0


def list_registrations(conn: Connection) -> list[Registration]:
    rows = conn.execute(select(c2b_registrations).order_by(c2b_registrations.c.shortcode))
    return [Registration(**row._mapping) for row in rows]


# --- payments ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Payment:
    trans_id: str
    shortcode: str
    transaction_type: str
    channel: str
    msisdn: str
    amount_cents: int
    bill_ref_number: str
    first_name: str
    middle_name: str
    last_name: str
    status: str
    response_type: str | None
    validation_url: str | None
    confirmation_url: str | None
    msisdn_format: str | None
    validation_deadline: float | None
    validation_result: str | None
    third_party_trans_id: str | None
    result_code: int | None
    result_desc: str | None
    customer_fee_cents: int
    business_fee_cents: int
    org_balance_cents: int | None
    idempotency_key: str | None
    app_id: int | None
    callback_mode: str
    callback_fail_times: int
    callback_delay_s: float
    validation_mode: str
    created_at: float
    completed_at: float | None

    def view(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(Payment)}


_COLUMNS = [f.name for f in fields(Payment)]
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM c2b_payments"  # noqa: S608 - our own names
# The payment path's statements, written once for the driver (see `fastsql`).
_INSERT = Statement(
    f"INSERT INTO c2b_payments ({', '.join(_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join(':' + c for c in _COLUMNS)})"
)
_BY_ID = Statement(f"{_SELECT} WHERE trans_id = :trans_id")
_BY_KEY = Statement(f"{_SELECT} WHERE idempotency_key = :key")
# Only a payment still waiting for its validation answer can be decided, and only once: a
# second answer, or one that arrives after the sweeper applied ResponseType, changes nothing.
_DECIDE = Statement(
    """
    UPDATE c2b_payments
       SET status = :status, validation_result = :validation_result,
           third_party_trans_id = :third_party_trans_id, result_code = :result_code,
           result_desc = :result_desc, org_balance_cents = :org_balance_cents,
           completed_at = :now
     WHERE trans_id = :trans_id AND status = 'validating'
    """
)


def insert_payment(conn: Connection, payment: Payment) -> None:
    _INSERT.rowcount(conn, payment.view())


def get_payment(conn: Connection, trans_id: str) -> Payment | None:
    row = _BY_ID.one_or_none(conn, {"trans_id": trans_id})
    return Payment(*row) if row is not None else None


def find_by_idempotency_key(conn: Connection, key: str) -> Payment | None:
    row = _BY_KEY.one_or_none(conn, {"key": key})
    return Payment(*row) if row is not None else None


@dataclass(frozen=True, slots=True)
class Decision:
    status: str
    validation_result: str
    third_party_trans_id: str
    result_code: int
    result_desc: str
    org_balance_cents: int | None


def decide(conn: Connection, trans_id: str, decision: Decision, *, now: float) -> bool:
    """Apply the validation outcome; False when the payment was already decided."""
    params = {
        "trans_id": trans_id,
        "status": decision.status,
        "validation_result": decision.validation_result,
        "third_party_trans_id": decision.third_party_trans_id,
        "result_code": decision.result_code,
        "result_desc": decision.result_desc,
        "org_balance_cents": decision.org_balance_cents,
        "now": now,
    }
    return _DECIDE.rowcount(conn, params) == 1


def overdue_validations(conn: Connection, *, deadline_before: float, limit: int) -> list[str]:
    rows = conn.execute(
        select(c2b_payments.c.trans_id)
        .where(
            c2b_payments.c.status == "validating",
            c2b_payments.c.validation_deadline < deadline_before,
        )
        .order_by(c2b_payments.c.validation_deadline)
        .limit(limit)
    )
    return [row[0] for row in rows]


def list_payments(
    conn: Connection,
    *,
    shortcode: str | None = None,
    msisdn: str | None = None,
    limit: int = 100,
) -> list[Payment]:
    query = select(*[c2b_payments.c[name] for name in _COLUMNS])
    if shortcode is not None:
        query = query.where(c2b_payments.c.shortcode == shortcode)
    if msisdn is not None:
        query = query.where(c2b_payments.c.msisdn == msisdn)
    rows = conn.execute(query.order_by(c2b_payments.c.created_at.desc()).limit(limit))
    return [Payment(*row) for row in rows]
