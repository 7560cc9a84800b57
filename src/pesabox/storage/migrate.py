"""Bring any database to the newest schema with Alembic (`pesabox migrate`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade_to_head(engine: Engine) -> None:
    config = alembic_config()
    with engine.connect() as connection:
        _create_search_path_schema(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()


def _create_search_path_schema(connection: Connection) -> None:
    """PostgreSQL: create the schema the connection's search_path names first, if missing.

    The production environment's database is by default the platform's own PostgreSQL
    database with `search_path` set to the schema `production` (settings.production_url);
    tables can only be created there once the schema exists.
    """
    if connection.dialect.name != "postgresql":
        return
    search_path = connection.execute(text("SHOW search_path")).scalar_one()
    first = search_path.split(",")[0].strip()
    if not first or first == '"$user"':
        return
    # Unquoted names fold to lower case, as PostgreSQL itself reads them.
    schema = first[1:-1].replace('""', '"') if first.startswith('"') else first.lower()
    exists = connection.execute(
        text("SELECT 1 FROM pg_namespace WHERE nspname = :schema"), {"schema": schema}
    ).first()
    if exists is None:
        quoted = schema.replace('"', '""')
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{quoted}"'))


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
