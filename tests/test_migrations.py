from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from pesabox.storage.migrate import current_revision, upgrade_to_head
from pesabox.storage.tables import metadata


def test_migrate_reaches_head_and_matches_tables(engine: Engine) -> None:
    assert current_revision(engine) == "0001"
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_migrate_twice_is_harmless(engine: Engine) -> None:
    upgrade_to_head(engine)
    assert current_revision(engine) == "0001"
