"""Pull Transactions: a shortcode's registration, and pages of its completed C2B payments."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import Connection, or_, select

from pesabox.domain.pull_transactions import PulledPayment, Window
from pesabox.storage.tables import c2b_payments, organisations, pull_registrations, shortcodes

COMPLETED = "completed"


@dataclass(frozen=True, slots=True)
class PullRegistration:
    shortcode: str
    request_type: str
    nominated_number: str
    callback_url: str
    response_ref_id: str
    app_id: int
    created_at: float


def get_registration(conn: Connection, shortcode: str) -> PullRegistration | None:
    row = conn.execute(
        select(pull_registrations).where(pull_registrations.c.shortcode == shortcode)
    ).first()
    return PullRegistration(**row._mapping) if row is not None else None


def register(conn: Connection, registration: PullRegistration) -> tuple[bool, PullRegistration]:
    """Insert the registration unless the shortcode has one: (created, the one that stands).

    Writers take turns (see `storage.db.write_transaction`), so nothing can insert between the
    read and the insert; the primary key stays the last guard.
    """
    existing = get_registration(conn, registration.shortcode)
    if existing is not None:
        return False, existing
    conn.execute(pull_registrations.insert().values(**asdict(registration)))
    return True, registration


def completed_payments(
    conn: Connection, *, shortcode: str, window: Window, offset: int, limit: int
) -> list[PulledPayment]:
    """One page of the shortcode's completed payments in the window, oldest first.

    A store's number also pulls the payments to its tills: a Buy Goods business reconciles
    under the number its API calls use, the store's, while customers pay the till.
    """
    tills = select(shortcodes.c.shortcode).where(shortcodes.c.store_shortcode == shortcode)
    query = (
        select(
            c2b_payments.c.trans_id,
            c2b_payments.c.completed_at,
            c2b_payments.c.transaction_type,
            c2b_payments.c.msisdn,
            c2b_payments.c.first_name,
            c2b_payments.c.middle_name,
            c2b_payments.c.last_name,
            c2b_payments.c.bill_ref_number,
            c2b_payments.c.amount_cents,
            organisations.c.name.label("organisation_name"),
        )
        .join(shortcodes, shortcodes.c.shortcode == c2b_payments.c.shortcode)
        .join(organisations, organisations.c.id == shortcodes.c.organisation_id)
        .where(
            or_(c2b_payments.c.shortcode == shortcode, c2b_payments.c.shortcode.in_(tills)),
            c2b_payments.c.status == COMPLETED,
            c2b_payments.c.completed_at >= window.start_s,
            c2b_payments.c.completed_at < window.end_s,
        )
        # The receipt breaks ties, so pages never overlap or skip rows of the same moment.
        .order_by(c2b_payments.c.completed_at, c2b_payments.c.trans_id)
        .offset(offset)
        .limit(limit)
    )
    return [PulledPayment(**row._mapping) for row in conn.execute(query)]
