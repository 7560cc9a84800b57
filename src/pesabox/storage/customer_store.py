"""Customers as the handset's menus see them: the profile Bonga vetting reads, the Bonga
PIN's digest, the three lockouts (Bonga PIN, *126*5# vetting, M-PESA PIN), and the list of
test customers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, insert, select, update

from pesabox.storage.tables import customers


@dataclass(frozen=True, slots=True)
class CustomerProfile:
    msisdn: str
    name: str
    status: str
    national_id: str | None
    line_type: str
    bonga_pin_digest: str | None
    bonga_pin_failures: int
    bonga_pin_locked: bool
    bonga_vetting_locked: bool
    pin_locked: bool


@dataclass(frozen=True, slots=True)
class NewCustomer:
    msisdn: str
    name: str
    pin_digest: str
    national_id: str
    line_type: str


_PROFILE_COLUMNS = (
    customers.c.msisdn,
    customers.c.name,
    customers.c.status,
    customers.c.national_id,
    customers.c.line_type,
    customers.c.bonga_pin_digest,
    customers.c.bonga_pin_failures,
    customers.c.bonga_pin_locked,
    customers.c.bonga_vetting_locked,
    customers.c.pin_locked,
)


def _profile(row: Any) -> CustomerProfile:
    return CustomerProfile(
        msisdn=row.msisdn,
        name=row.name,
        status=row.status,
        national_id=row.national_id,
        line_type=row.line_type,
        bonga_pin_digest=row.bonga_pin_digest,
        bonga_pin_failures=int(row.bonga_pin_failures),
        bonga_pin_locked=bool(row.bonga_pin_locked),
        bonga_vetting_locked=bool(row.bonga_vetting_locked),
        pin_locked=bool(row.pin_locked),
    )


def get_profile(conn: Connection, msisdn: str) -> CustomerProfile | None:
    row = conn.execute(select(*_PROFILE_COLUMNS).where(customers.c.msisdn == msisdn)).first()
    return _profile(row) if row is not None else None


def list_profiles(conn: Connection, *, limit: int = 500) -> list[CustomerProfile]:
    rows = conn.execute(select(*_PROFILE_COLUMNS).order_by(customers.c.msisdn).limit(limit))
    return [_profile(row) for row in rows]


def insert_customer(conn: Connection, customer: NewCustomer, *, now: float) -> bool:
    """Add the customer; False when the MSISDN is taken."""
    if get_profile(conn, customer.msisdn) is not None:
        return False
    conn.execute(
        insert(customers).values(
            msisdn=customer.msisdn,
            name=customer.name,
            pin_digest=customer.pin_digest,
            national_id=customer.national_id,
            line_type=customer.line_type,
            created_at=now,
        )
    )
    return True


def set_kyc(conn: Connection, msisdn: str, *, national_id: str, line_type: str) -> None:
    """Give a customer without an ID on file one (the seed's customers predate the column)."""
    conn.execute(
        update(customers)
        .where(customers.c.msisdn == msisdn, customers.c.national_id.is_(None))
        .values(national_id=national_id, line_type=line_type)
    )


def set_bonga_pin(conn: Connection, msisdn: str, *, digest: str) -> None:
    """A new Bonga PIN, which also clears the failures and the lock."""
    conn.execute(
        update(customers)
        .where(customers.c.msisdn == msisdn)
        .values(bonga_pin_digest=digest, bonga_pin_failures=0, bonga_pin_locked=False)
    )


@dataclass(frozen=True, slots=True)
class PinsOnFile:
    """What checking a typed PIN reads: both digests and the M-PESA PIN's lockout."""

    status: str
    pin_digest: str
    pin_failures: int
    pin_locked: bool
    bonga_pin_digest: str | None


def pins_on_file(conn: Connection, msisdn: str) -> PinsOnFile | None:
    row = conn.execute(
        select(
            customers.c.status,
            customers.c.pin_digest,
            customers.c.pin_failures,
            customers.c.pin_locked,
            customers.c.bonga_pin_digest,
        ).where(customers.c.msisdn == msisdn)
    ).first()
    if row is None:
        return None
    return PinsOnFile(
        row.status, row.pin_digest, int(row.pin_failures), bool(row.pin_locked),
        row.bonga_pin_digest,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Lockout:
    """A count of wrong answers in a row and the lock it sets at a threshold."""

    failures: Column[int]
    locked: Column[bool]


BONGA_PIN = Lockout(customers.c.bonga_pin_failures, customers.c.bonga_pin_locked)
BONGA_VETTING = Lockout(customers.c.bonga_vetting_failures, customers.c.bonga_vetting_locked)
MPESA_PIN = Lockout(customers.c.pin_failures, customers.c.pin_locked)


def record_failure(
    conn: Connection, msisdn: str, lockout: Lockout, *, lockout_threshold: int
) -> int:
    """Count one wrong answer, locking at the threshold; the failures in a row so far."""
    conn.execute(
        update(customers)
        .where(customers.c.msisdn == msisdn)
        .values({lockout.failures: lockout.failures + 1})
    )
    failures = int(
        conn.execute(select(lockout.failures).where(customers.c.msisdn == msisdn)).scalar_one()
    )
    if failures >= lockout_threshold:
        conn.execute(
            update(customers).where(customers.c.msisdn == msisdn).values({lockout.locked: True})
        )
    return failures


def clear_failures(conn: Connection, msisdn: str, lockout: Lockout) -> None:
    """A right answer: the count starts again (a lock stays until it is reset)."""
    conn.execute(
        update(customers)
        .where(customers.c.msisdn == msisdn, lockout.failures > 0)
        .values({lockout.failures: 0})
    )


def is_locked(conn: Connection, msisdn: str, lockout: Lockout) -> bool:
    row = conn.execute(select(lockout.locked).where(customers.c.msisdn == msisdn)).first()
    return bool(row[0]) if row is not None else False


def unlock(conn: Connection, msisdn: str, lockout: Lockout) -> bool:
    """Clear the count and the lock (the sandbox's stand-in for customer care); False for
    an unknown customer."""
    done = conn.execute(
        update(customers)
        .where(customers.c.msisdn == msisdn)
        .values({lockout.failures: 0, lockout.locked: False})
    )
    return done.rowcount == 1
