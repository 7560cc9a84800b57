"""Organisations and their shortcodes: set-up and the switches an owner may change.

Every function works inside the db transaction it is handed, and checks the rules of
`domain.shortcode_setup` before it writes, so a refused change leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from pesabox.domain import accounts
from pesabox.domain.shortcode_setup import (
    SetupConflict,
    SetupNotFound,
    ShortcodeSetup,
    check_name,
    check_store,
    format_services,
    parse_services,
)
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.parties_store import (
    SHORTCODES_WITH_ORGANISATION,
    ShortcodeRecord,
    get_shortcode,
    shortcode_record,
)
from pesabox.storage.tables import organisations, shortcodes


@dataclass(frozen=True, slots=True)
class OrganisationRecord:
    id: int
    name: str
    created_at: float
    shortcodes: tuple[ShortcodeRecord, ...]


def _require_shortcode(conn: Connection, shortcode: str) -> ShortcodeRecord:
    record = get_shortcode(conn, shortcode)
    if record is None:
        raise SetupNotFound(f"no shortcode {shortcode}")
    return record


def organisation_id(conn: Connection, name: str) -> int | None:
    """The id of the organisation named `name` (spaces around it ignored), or None."""
    found = conn.execute(
        select(organisations.c.id).where(organisations.c.name == name.strip())
    ).scalar()
    return int(found) if found is not None else None


# --- organisations ----------------------------------------------------------------------


def create_organisation(conn: Connection, name: str, *, now: float) -> OrganisationRecord:
    clean = check_name(name, "organisation name")
    # Checked first so the caller gets a clear refusal, not the unique index's error.
    if organisation_id(conn, clean) is not None:
        raise SetupConflict(f"an organisation named {clean!r} exists")
    result = conn.execute(organisations.insert().values(name=clean, created_at=now))
    return OrganisationRecord(int(result.inserted_primary_key[0]), clean, now, ())  # type: ignore[index]


def list_organisations(conn: Connection) -> list[OrganisationRecord]:
    """Every organisation, by id, with its shortcodes in number order."""
    owned: dict[int, list[ShortcodeRecord]] = {}
    for record in list_shortcodes(conn):
        owned.setdefault(record.organisation_id, []).append(record)
    rows = conn.execute(select(organisations).order_by(organisations.c.id))
    return [
        OrganisationRecord(row.id, row.name, row.created_at, tuple(owned.get(row.id, ())))
        for row in rows
    ]


# --- shortcodes -------------------------------------------------------------------------


def list_shortcodes(conn: Connection) -> list[ShortcodeRecord]:
    return [
        shortcode_record(row)
        for row in conn.execute(SHORTCODES_WITH_ORGANISATION.order_by(shortcodes.c.shortcode))
    ]


def add_shortcode(
    conn: Connection,
    setup: ShortcodeSetup,
    *,
    organisation: str,
    ledger: LedgerStore,
    now: float,
) -> ShortcodeRecord:
    """Set up a shortcode for an existing organisation, with its Utility, Working and
    Charges Paid accounts in the same db transaction."""
    owner_id = organisation_id(conn, organisation)
    if owner_id is None:
        raise SetupNotFound(f"no organisation named {organisation.strip()!r}")
    if get_shortcode(conn, setup.shortcode) is not None:
        raise SetupConflict(f"shortcode {setup.shortcode} exists")
    _check_store_of(conn, setup, owner_id)
    conn.execute(
        shortcodes.insert().values(
            shortcode=setup.shortcode,
            organisation_id=owner_id,
            kind=str(setup.kind),
            name=setup.name,
            passkey=setup.passkey,
            store_shortcode=setup.store_shortcode,
            tariff_profile=str(setup.tariff_profile),
            products=format_services(setup.services),
            validation_enabled=False,
            created_at=now,
        )
    )
    ledger.ensure_accounts(conn, accounts.org_accounts(setup.shortcode), now)
    return _require_shortcode(conn, setup.shortcode)


def _check_store_of(conn: Connection, setup: ShortcodeSetup, organisation_id: int) -> None:
    store = get_shortcode(conn, setup.store_shortcode) if setup.store_shortcode else None
    check_store(
        setup,
        store_kind=store.kind if store is not None else None,
        same_organisation=store is not None and store.organisation_id == organisation_id,
    )


def set_products(
    conn: Connection, shortcode: str, products: str | Iterable[str]
) -> ShortcodeRecord:
    """Replace the API services of a shortcode; the sharing rule is checked first."""
    services = parse_services(products)
    _require_shortcode(conn, shortcode)
    conn.execute(
        update(shortcodes)
        .where(shortcodes.c.shortcode == shortcode)
        .values(products=format_services(services))
    )
    return _require_shortcode(conn, shortcode)


def set_validation(conn: Connection, shortcode: str, *, enabled: bool) -> bool:
    """Switch external C2B validation on or off; returns whether the switch moved."""
    record = _require_shortcode(conn, shortcode)
    if record.validation_enabled == enabled:
        return False
    conn.execute(
        update(shortcodes)
        .where(shortcodes.c.shortcode == shortcode)
        .values(validation_enabled=enabled)
    )
    return True
