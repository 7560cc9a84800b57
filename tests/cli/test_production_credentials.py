"""What `seed --print-credentials` says about going live, by the environments served."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pesabox.cli.main import app

runner = CliRunner()


def seed_output(tmp_path: Path, environments: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PESABOX_ENVIRONMENTS", environments)
    url = f"sqlite:///{tmp_path}/pesabox.db"
    for command in (["migrate"], ["seed", "--print-credentials"]):
        result = runner.invoke(app, [*command, "--database-url", url])
        assert result.exit_code == 0, result.output
    return result.output


def test_production_alone_says_going_live_needs_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = seed_output(tmp_path, "production", monkeypatch)
    assert "PESABOX_ENVIRONMENTS=sandbox,production" in output
    assert "/ui/dev" not in output


def test_both_environments_point_at_the_developer_portal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = seed_output(tmp_path, "sandbox,production", monkeypatch)
    assert "sign up at http://127.0.0.1:8000/ui/dev" in output
