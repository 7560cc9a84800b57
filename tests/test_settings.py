"""Settings whose defaults depend on another setting."""

from __future__ import annotations

import pytest

from pesabox.settings import Settings


@pytest.mark.parametrize(
    ("environment", "record", "expected"),
    [
        ("sandbox", None, True),
        ("production", None, False),
        ("production", True, True),
        ("sandbox", False, False),
    ],
)
def test_the_inspector_records_by_default_only_in_the_sandbox(
    environment: str, record: bool | None, expected: bool
) -> None:
    settings = Settings(environment=environment, inspector_record=record)  # type: ignore[arg-type]
    assert settings.records_requests is expected
