"""Organisations and shortcodes in the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select

from pesabox.domain.shortcode_setup import (
    SetupConflict,
    SetupNotFound,
    ShortcodeSetup,
    ShortcodeSetupError,
    parse_setup,
)
from pesabox.sandbox.seed import SandboxCredentials
from pesabox.storage import orgs_store, parties_store
from pesabox.storage.db import read_transaction, write_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.tables import accounts

NOW = 1_700_000_000.0


def paybill(shortcode: str = "600100", **overrides: Any) -> ShortcodeSetup:
    values: dict[str, Any] = {
        "shortcode": shortcode,
        "kind": "paybill",
        "name": "Acme PayBill",
        "tariff_profile": "customer_bouquet",
        "services": "c2b,b2b",
    }
    return parse_setup(**(values | overrides))


def add(engine: Engine, setup: ShortcodeSetup, organisation: str = "Acme") -> Any:
    with write_transaction(engine) as conn:
        return orgs_store.add_shortcode(
            conn, setup, organisation=organisation, ledger=LedgerStore(), now=NOW
        )


def create_org(engine: Engine, name: str = "Acme") -> orgs_store.OrganisationRecord:
    with write_transaction(engine) as conn:
        return orgs_store.create_organisation(conn, name, now=NOW)


def account_codes(engine: Engine, owner: str) -> set[str]:
    with read_transaction(engine) as conn:
        rows = conn.execute(select(accounts.c.code).where(accounts.c.owner == owner))
        return {row.code for row in rows}


def test_create_organisation_then_list(engine: Engine) -> None:
    created = create_org(engine, "  Acme  ")
    assert (created.name, created.created_at, created.shortcodes) == ("Acme", NOW, ())
    add(engine, paybill())
    with read_transaction(engine) as conn:
        listed = orgs_store.list_organisations(conn)
    assert [(o.id, o.name) for o in listed] == [(created.id, "Acme")]
    assert [s.shortcode for s in listed[0].shortcodes] == ["600100"]


def test_create_organisation_duplicate_refused(engine: Engine) -> None:
    create_org(engine)
    with pytest.raises(SetupConflict, match="an organisation named 'Acme' exists"):
        create_org(engine)


def test_create_organisation_blank_name_refused(engine: Engine) -> None:
    with pytest.raises(ShortcodeSetupError, match="organisation name must be 1 to 100"):
        create_org(engine, " ")


def test_add_shortcode_creates_row_and_ledger_accounts(engine: Engine) -> None:
    create_org(engine)
    added = add(engine, paybill(passkey="secret-passkey"))
    assert added.organisation_name == "Acme"
    assert (added.kind, added.tariff_profile, added.products) == (
        "paybill",
        "customer_bouquet",
        {"c2b", "b2b"},
    )
    assert added.passkey == "secret-passkey" and added.validation_enabled is False
    assert account_codes(engine, "600100") == {"utility:600100", "working:600100", "charges:600100"}
    with read_transaction(engine) as conn:
        assert parties_store.get_shortcode(conn, "600100") == added


def test_add_shortcode_refusals_leave_nothing(engine: Engine) -> None:
    with pytest.raises(SetupNotFound, match="no organisation named 'Nobody'"):
        add(engine, paybill(), organisation="Nobody")
    create_org(engine)
    add(engine, paybill())
    with pytest.raises(SetupConflict, match="shortcode 600100 exists"):
        add(engine, paybill(name="Again"))
    with read_transaction(engine) as conn:
        assert [s.name for s in orgs_store.list_shortcodes(conn)] == ["Acme PayBill"]
    assert account_codes(engine, "600100") == {"utility:600100", "working:600100", "charges:600100"}


def till(store: str) -> ShortcodeSetup:
    return paybill("977400", kind="till", tariff_profile="mauzo", store_shortcode=store)


def test_add_till_needs_its_organisations_store(engine: Engine) -> None:
    create_org(engine)
    create_org(engine, "Other")
    add(engine, paybill("600100"))
    add(engine, paybill("600200", kind="store", tariff_profile="mauzo"), organisation="Other")
    with pytest.raises(ShortcodeSetupError, match="store shortcode 600300 does not exist"):
        add(engine, till("600300"))
    with pytest.raises(ShortcodeSetupError, match="600100 is a paybill, not a store"):
        add(engine, till("600100"))
    with pytest.raises(ShortcodeSetupError, match="600200 belongs to another organisation"):
        add(engine, till("600200"))
    assert account_codes(engine, "977400") == set()
    added = add(engine, till("600200"), organisation="Other")
    assert (added.kind, added.store_shortcode) == ("till", "600200")


def test_add_till_to_seeded_store(seeded_engine: tuple[Engine, SandboxCredentials]) -> None:
    engine, _ = seeded_engine
    added = add(engine, till("174380"), organisation="Daraja Test Shop")
    assert added.store_shortcode == "174380"
    with read_transaction(engine) as conn:
        organisation = next(
            o for o in orgs_store.list_organisations(conn) if o.name == "Daraja Test Shop"
        )
    assert [s.shortcode for s in organisation.shortcodes] == ["174380", "977380", "977400"]


@pytest.mark.parametrize(
    ("products", "expected"),
    [("b2c,b2b", {"b2c", "b2b"}), (["c2b"], {"c2b"}), ("b2b", {"b2b"})],
)
def test_set_products_allowed(
    engine: Engine, products: str | list[str], expected: set[str]
) -> None:
    create_org(engine)
    add(engine, paybill())
    with write_transaction(engine) as conn:
        assert orgs_store.set_products(conn, "600100", products).products == expected
    with read_transaction(engine) as conn:
        assert orgs_store.list_shortcodes(conn)[0].products == expected


@pytest.mark.parametrize("products", ["c2b,b2c", "b2b,b2c,c2b", "c2b,unknown", ""])
def test_set_products_refused_unchanged(engine: Engine, products: str) -> None:
    create_org(engine)
    add(engine, paybill())
    with pytest.raises(ShortcodeSetupError), write_transaction(engine) as conn:
        orgs_store.set_products(conn, "600100", products)
    with read_transaction(engine) as conn:
        assert orgs_store.list_shortcodes(conn)[0].products == {"c2b", "b2b"}


def test_set_products_unknown_shortcode(engine: Engine) -> None:
    with pytest.raises(SetupNotFound, match="no shortcode 600100"), write_transaction(engine) as c:
        orgs_store.set_products(c, "600100", "b2b")


def test_set_validation_reports_change(engine: Engine) -> None:
    create_org(engine)
    add(engine, paybill())
    moves = []
    for enabled in (True, True, False, False):
        with write_transaction(engine) as conn:
            moves.append(orgs_store.set_validation(conn, "600100", enabled=enabled))
            assert parties_store.get_shortcode(conn, "600100").validation_enabled is enabled  # type: ignore[union-attr]
    assert moves == [True, False, True, False]
    with pytest.raises(SetupNotFound, match="no shortcode 999999"), write_transaction(engine) as c:
        orgs_store.set_validation(c, "999999", enabled=True)


def test_list_shortcodes_in_number_order(seeded_engine: tuple[Engine, SandboxCredentials]) -> None:
    engine, _ = seeded_engine
    with read_transaction(engine) as conn:
        listed = orgs_store.list_shortcodes(conn)
    numbers = [s.shortcode for s in listed]
    assert numbers == sorted(numbers) and "174379" in numbers
    b2c = next(s for s in listed if s.shortcode == "600996")
    assert b2c.products == {"b2c", "b2b"}
