from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from pesabox.storage.migrate import current_revision, upgrade_to_head
from pesabox.storage.schema import metadata


def test_migrate_reaches_head_and_matches_tables(engine: Engine) -> None:
    assert current_revision(engine) == "0014"
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_migrate_twice_is_harmless(engine: Engine) -> None:
    upgrade_to_head(engine)
    assert current_revision(engine) == "0014"


def test_upgrade_keeps_existing_ledger_rows(database_url: str) -> None:
    from alembic import command
    from sqlalchemy import func, select, text

    from pesabox.storage.db import make_engine, write_transaction
    from pesabox.storage.migrate import alembic_config
    from pesabox.storage.tables import shortcodes, transfers
    from tests.support import seed_database

    engine = make_engine(database_url)
    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.commit()
    # Rows written by the first schema's code, in SQL of that schema (today's seed writes
    # columns the old schema does not have).
    with write_transaction(engine) as conn:
        conn.execute(text("INSERT INTO organisations (name, created_at) VALUES ('Org', 0)"))
        conn.execute(
            text(
                "INSERT INTO shortcodes (shortcode, organisation_id, kind, name, tariff_profile,"
                " created_at) VALUES ('600100', 1, 'paybill', 'PB', 'customer_bouquet', 0),"
                " ('600996', 1, 'paybill', 'B2C', 'customer_bouquet', 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO initiators (shortcode, username, password_digest, roles, created_at)"
                " VALUES ('600100', 'testapi', 'pbkdf2_sha256$1$s$d', 'ORG B2C API initiator', 5)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO accounts (code, kind, owner, credits_posted, debits_posted,"
                " debits_pending, credits_pending, created_at) VALUES"
                " ('platform:float', 'float', 'platform', 0, 500, 0, 0, 0),"
                " ('wallet:254700000001', 'customer_wallet', 'x', 500, 0, 0, 0, 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO transfers (id, debit_account_id, credit_account_id, amount_cents,"
                " phase, purpose, created_at) VALUES ('seed:1', 1, 2, 500, 'posted', 'funding', 0)"
            )
        )
    upgrade_to_head(engine)
    with write_transaction(engine) as conn:
        after = conn.execute(select(func.count()).select_from(transfers)).scalar_one()
        shortcode = conn.execute(
            select(shortcodes.c.products, shortcodes.c.validation_enabled).where(
                shortcodes.c.shortcode == "600100"
            )
        )
        products, validation = shortcode.one()
        operator = conn.execute(
            text("SELECT username, kind, password_changed_at FROM operators")
        ).one()
    # Seeding an upgraded database gives its fixtures their services (600996 is B2C and B2B).
    seed_database(engine)
    with write_transaction(engine) as conn:
        b2c = conn.execute(
            select(shortcodes.c.products).where(shortcodes.c.shortcode == "600996")
        ).scalar_one()
    revision = current_revision(engine)
    engine.dispose()
    assert b2c == "b2c,b2b"
    assert after == 1
    # Initiators became API operators, their password age counted from their creation.
    assert tuple(operator) == ("testapi", "api", 5.0)
    # Shortcodes from before C2B get its defaults: C2B only, validation off.
    assert (products, validation) == ("c2b", False)
    assert revision == "0014"
