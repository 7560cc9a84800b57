"""Fixtures for serving tests: both environments' databases, cleaned up after the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine

from pesabox.settings import Settings
from tests.databases import POSTGRES_ADMIN_URL
from tests.serving.world import World, build_world
from tests.serving.world_settings import sqlite_settings


def _drop_production_schema(settings: Settings) -> None:
    # tests/databases.py drops the test's own schema; production's sibling is ours to drop.
    url = settings.production_url()
    schema = url.rsplit("search_path%3D", 1)[-1]
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        admin.dispose()


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    """Both environments on the test's database (SQLite file, or PostgreSQL schema)."""
    settings = Settings(database_url=database_url, environments="sandbox,production")
    try:
        yield build_world(settings)
    finally:
        if not database_url.startswith("sqlite"):
            _drop_production_schema(settings)


@pytest.fixture(scope="module")
def sqlite_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """Both environments on SQLite files, shared by a module's tests of a real server."""
    return build_world(sqlite_settings(tmp_path_factory.mktemp("world")))
