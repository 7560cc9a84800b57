from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from pesabox.storage.db import make_engine
from pesabox.storage.migrate import upgrade_to_head
from tests.databases import fresh_database_url

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    with fresh_database_url(request.param, str(tmp_path)) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, pool_size=4)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()
