from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from pesabox.sandbox.seed import SandboxCredentials
from pesabox.storage.db import make_engine
from pesabox.storage.migrate import upgrade_to_head
from tests.databases import fresh_database_url
from tests.support import seed_database

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database_url(request.param, str(tmp_path)) as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Migrated (and migrated + seeded) SQLite files, built once and copied per test:
    a copy is a fresh database in a millisecond instead of a migration and a seed."""
    directory = tmp_path_factory.mktemp("templates")
    migrated = directory / "migrated.db"
    engine = make_engine(f"sqlite:///{migrated}")
    upgrade_to_head(engine)
    engine.dispose()
    seeded = directory / "seeded.db"
    shutil.copy(migrated, seeded)
    engine = make_engine(f"sqlite:///{seeded}")
    credentials = seed_database(engine)
    engine.dispose()
    return {"migrated": migrated, "seeded": seeded, "credentials": credentials}


def _sqlite_path(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


@pytest.fixture
def engine(database_url: str, sqlite_templates: dict[str, object]) -> Iterator[Engine]:
    path = _sqlite_path(database_url)
    if path is not None:
        shutil.copy(sqlite_templates["migrated"], path)  # type: ignore[arg-type]
    engine = make_engine(database_url, pool_size=4)
    if path is None:
        upgrade_to_head(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def seeded_engine(
    database_url: str, sqlite_templates: dict[str, object]
) -> Iterator[tuple[Engine, SandboxCredentials]]:
    """A migrated and seeded database with the sandbox app's credentials."""
    path = _sqlite_path(database_url)
    if path is not None:
        shutil.copy(sqlite_templates["seeded"], path)  # type: ignore[arg-type]
    engine = make_engine(database_url, pool_size=4)
    if path is None:
        upgrade_to_head(engine)
        credentials = seed_database(engine)
    else:
        credentials = sqlite_templates["credentials"]  # type: ignore[assignment]
    yield engine, credentials
    engine.dispose()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last. Playwright's sync API keeps its own event loop for as long as
    the session's browser is open, and an async test after it would find that loop running
    and fail; run last, they have nothing after them."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid.replace("\\", "/"))
