"""`pesabox admin` and the seeded platform operator, on real seeded databases."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from pesabox.cli.main import app
from pesabox.sandbox.onboarding_seed import PLATFORM_OPERATOR_NAME, PLATFORM_OPERATOR_PASSWORD
from pesabox.security.credentials import pin_digest, pin_matches
from pesabox.storage import onboarding_store
from pesabox.storage.db import make_engine, read_transaction, write_transaction
from pesabox.storage.onboarding_store import AccountKind

runner = CliRunner()
PASSWORD = "Review3r#2026"  # noqa: S105 - a test value


@pytest.fixture
def url(database_url: str, seeded_engine: Any) -> str:
    return database_url


def _operator(url: str, username: str) -> onboarding_store.PlatformOperatorRecord | None:
    engine = make_engine(url)
    try:
        with read_transaction(engine) as conn:
            return onboarding_store.find_platform_operator(conn, username)
    finally:
        engine.dispose()


def test_seed_adds_the_platform_operator(url: str) -> None:
    seeded = _operator(url, PLATFORM_OPERATOR_NAME)
    assert seeded is not None
    assert pin_matches(PLATFORM_OPERATOR_PASSWORD, seeded.password_digest)


def test_admin_unlock_developer(url: str) -> None:
    engine = make_engine(url)
    with write_transaction(engine) as conn:
        created = onboarding_store.add_developer(
            conn, email="dev@shop.example", email_key="dev@shop.example", name="Wanjiru Dev",
            phone="254712345678", password_digest=pin_digest(PASSWORD), now=0,
        )  # fmt: skip
        assert created is not None
        for _ in range(5):
            onboarding_store.record_failure(
                conn, AccountKind.DEVELOPER, created.id, threshold=5, now=0
            )
    with read_transaction(engine) as conn:
        assert (onboarding_store.get_developer(conn, created.id) or created).locked
    unlocked = runner.invoke(
        app, ["admin", "unlock-developer", "--email", " DEV@shop.example", "--database-url", url]
    )
    assert unlocked.exit_code == 0, unlocked.output
    with read_transaction(engine) as conn:
        assert not (onboarding_store.get_developer(conn, created.id) or created).locked
    engine.dispose()
    missing = runner.invoke(
        app, ["admin", "unlock-developer", "--email", "no@one.example", "--database-url", url]
    )
    assert missing.exit_code != 0 and "no developer" in missing.output


def test_admin_create_list_unlock_and_set_password(url: str) -> None:
    created = runner.invoke(
        app,
        ["admin", "create-operator", "jdoe", "--name", "Jane Doe", "--database-url", url],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert created.exit_code == 0, created.output
    listed = runner.invoke(app, ["admin", "list-operators", "--json", "--database-url", url])
    names = [row["username"] for row in json.loads(listed.output)]
    assert names == sorted(["jdoe", PLATFORM_OPERATOR_NAME])
    found = _operator(url, "jdoe")
    assert found is not None and pin_matches(PASSWORD, found.password_digest)
    engine = make_engine(url)
    with write_transaction(engine) as conn:
        for _ in range(5):
            onboarding_store.record_failure(
                conn, AccountKind.PLATFORM_OPERATOR, found.id, threshold=5, now=0
            )
    engine.dispose()
    assert (_operator(url, "jdoe") or found).locked
    unlocked = runner.invoke(app, ["admin", "unlock-operator", "jdoe", "--database-url", url])
    assert unlocked.exit_code == 0, unlocked.output
    assert not (_operator(url, "jdoe") or found).locked
    new = "Fresh#Pass2027"
    changed = runner.invoke(
        app, ["admin", "set-password", "jdoe", "--database-url", url], input=f"{new}\n{new}\n"
    )
    assert changed.exit_code == 0, changed.output
    assert pin_matches(new, (_operator(url, "jdoe") or found).password_digest)


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["create-operator", "platform", "--name", "Again"], "exists"),
        (["create-operator", "bad name", "--name", "X"], "username"),
        (["create-operator", "weak", "--name", "Weak", "--password", "password"], "password"),
        (["unlock-operator", "nobody"], "no platform operator"),
    ],
)
def test_admin_refusals_exit_2(url: str, args: list[str], problem: str) -> None:
    result = runner.invoke(
        app, ["admin", *args, "--database-url", url], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 2, result.output
    assert problem in result.output
