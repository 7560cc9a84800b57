"""Organisations' bank accounts, registered at onboarding; withdrawals are paid there."""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from pesabox.domain.bank_details import BankDetails
from pesabox.storage.tables import bank_accounts, organisations


def get_bank_details(conn: Connection, organisation_id: int) -> BankDetails | None:
    row = conn.execute(
        select(bank_accounts).where(bank_accounts.c.organisation_id == organisation_id)
    ).first()
    if row is None:
        return None
    return BankDetails(row.bank_name, row.branch, row.account_number, row.account_name)


def set_bank_details(
    conn: Connection, organisation_id: int, details: BankDetails, *, now: float
) -> None:
    """Register or replace the organisation's bank account (checked by the caller)."""
    values = {
        "bank_name": details.bank_name,
        "branch": details.branch,
        "account_number": details.account_number,
        "account_name": details.account_name,
        "updated_at": now,
    }
    changed = conn.execute(
        update(bank_accounts)
        .where(bank_accounts.c.organisation_id == organisation_id)
        .values(**values)
    ).rowcount
    if not changed:
        conn.execute(bank_accounts.insert().values(organisation_id=organisation_id, **values))


def organisation_exists(conn: Connection, organisation_id: int) -> bool:
    found = conn.execute(
        select(organisations.c.id).where(organisations.c.id == organisation_id)
    ).first()
    return found is not None
