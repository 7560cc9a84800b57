from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import DATABASES
from tests.environments.databases import EnvironmentUrls, fresh_environment_urls


@pytest.fixture(params=DATABASES)
def environment_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EnvironmentUrls]:
    with fresh_environment_urls(request.param, str(tmp_path)) as urls:
        yield urls
