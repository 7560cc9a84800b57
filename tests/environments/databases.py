"""Two fresh databases per test: the platform's (sandbox and shared data) and production's,
derived from it as `pesabox` derives it (SQLite `<stem>.production.db`; on PostgreSQL the
test's schema with `_production` after it, dropped afterwards)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import create_engine, text

from pesabox.settings import Settings
from tests.databases import POSTGRES_ADMIN_URL, fresh_database_url


@dataclass(frozen=True)
class EnvironmentUrls:
    platform: str
    production: str


@contextmanager
def fresh_environment_urls(kind: str, directory: str) -> Iterator[EnvironmentUrls]:
    with fresh_database_url(kind, directory) as platform_url:
        production_url = Settings(database_url=platform_url).production_url()
        try:
            yield EnvironmentUrls(platform_url, production_url)
        finally:
            if kind == "postgres":
                _drop_search_path_schema(production_url)


def _drop_search_path_schema(url: str) -> None:
    probe = create_engine(url)
    try:
        with probe.connect() as conn:
            schema = conn.execute(text("SHOW search_path")).scalar_one().split(",")[0].strip()
    finally:
        probe.dispose()
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        admin.dispose()
