"""Fresh databases for tests: a new SQLite file, or a new PostgreSQL schema, per test."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine

POSTGRES_ADMIN_URL = os.environ.get(
    "PESABOX_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _postgres_unavailable(reason: str) -> None:
    # In CI a PostgreSQL test that cannot connect is a failure, never a silent skip.
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL unavailable: {reason}")


@contextmanager
def fresh_postgres_url() -> Iterator[str]:
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except Exception as error:
        admin.dispose()
        _postgres_unavailable(str(error).splitlines()[0])
    separator = "&" if "?" in POSTGRES_ADMIN_URL else "?"
    options = quote(f"-csearch_path={schema}")
    try:
        yield f"{POSTGRES_ADMIN_URL}{separator}options={options}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


@contextmanager
def fresh_database_url(kind: str, directory: str) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{directory}/pesabox.db"
        return
    with fresh_postgres_url() as url:
        yield url
