from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.conftest import DATABASES
from tests.environments.databases import EnvironmentUrls, fresh_environment_urls
from tests.environments.harness import Environments, both_served_settings, running_environments
from tests.pki_support import ThrowawayCA


@pytest.fixture(params=DATABASES)
def environment_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EnvironmentUrls]:
    with fresh_environment_urls(request.param, str(tmp_path)) as urls:
        yield urls


@pytest.fixture
def listener_ca() -> ThrowawayCA:
    """The CA of the business's https listener, which pesabox trusts via callback_ca_file."""
    return ThrowawayCA("business listener CA")


@pytest.fixture
async def environments(
    environment_urls: EnvironmentUrls, listener_ca: ThrowawayCA, tmp_path: Path
) -> AsyncIterator[Environments]:
    ca_file = tmp_path / "listener-ca.pem"
    ca_file.write_text(listener_ca.certificate_pem)
    settings = both_served_settings(environment_urls, callback_ca_file=str(ca_file))
    async with running_environments(environment_urls, settings) as running:
        yield running
