from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from pesabox.storage.migrate import current_revision, upgrade_to_head
from pesabox.storage.tables import metadata


def test_migrate_reaches_head_and_matches_tables(engine: Engine) -> None:
    assert current_revision(engine) == "0004"
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_migrate_twice_is_harmless(engine: Engine) -> None:
    upgrade_to_head(engine)
    assert current_revision(engine) == "0004"


def test_upgrade_keeps_existing_ledger_rows(database_url: str) -> None:
    from alembic import command
    from sqlalchemy import func, select

    from pesabox.storage.db import make_engine, write_transaction
    from pesabox.storage.migrate import alembic_config
    from pesabox.storage.tables import transfers
    from tests.support import seed_database

    engine = make_engine(database_url)
    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.commit()
    seed_database(engine)
    with write_transaction(engine) as conn:
        before = conn.execute(select(func.count()).select_from(transfers)).scalar_one()
    upgrade_to_head(engine)
    with write_transaction(engine) as conn:
        after = conn.execute(select(func.count()).select_from(transfers)).scalar_one()
    revision = current_revision(engine)
    engine.dispose()
    assert before > 0
    assert after == before
    assert revision == "0004"
