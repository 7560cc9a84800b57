"""`pesabox operators` through Typer's runner, against real seeded databases."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from pesabox.cli.main import app
from pesabox.domain.operators import OperatorRole
from pesabox.sandbox import fixtures
from pesabox.security.initiator_auth import VerificationCache, check_initiator
from pesabox.storage.db import make_engine

runner = CliRunner()
SHORTCODE = "600996"
PASSWORD = "Payout#2026x"


@pytest.fixture
def url(database_url: str, seeded_engine: Any) -> str:
    # seeded_engine migrates and seeds the database at database_url (a template copy on SQLite).
    return database_url


def run(*args: str, stdin: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def run_json(url: str, *args: str) -> Any:
    return json.loads(run(*args, "--json", "--database-url", url))


def refused(url: str, *args: str) -> str:
    result = runner.invoke(app, [*args, "--database-url", url])
    assert result.exit_code == 2, result.output
    return " ".join(result.output.split())


def add_api(url: str, username: str = "payouts", roles: str = "b2c,balance") -> Any:
    return run_json(url, "operators", "add", SHORTCODE, username, "--kind", "api",
                    "--roles", roles, "--password", PASSWORD)  # fmt: skip


def attempt(url: str, password: str, username: str = "payouts") -> Any:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return check_initiator(
                conn, shortcode=SHORTCODE, username=username, password_candidates=(password,),
                role=OperatorRole.B2C_INITIATOR, now=2e9, max_age_days=0,
                cache=VerificationCache(),
            )  # fmt: skip
    finally:
        engine.dispose()


def test_operators_add_prints_the_operator_without_a_password(url: str) -> None:
    added = add_api(url)
    assert {key: added[key] for key in ("shortcode", "username", "kind", "roles")} == {
        "shortcode": SHORTCODE,
        "username": "payouts",
        "kind": "api",
        "roles": ["ORG B2C API initiator", "Balance Query ORG API"],
    }
    assert (added["failed_attempts"], added["locked"], added["locked_at"]) == (0, False, None)
    assert "password_digest" not in added and PASSWORD not in json.dumps(added)
    assert attempt(url, PASSWORD).ok


def test_operators_add_web_operator_in_a_table(url: str) -> None:
    output = run("operators", "add", SHORTCODE, "admin", "--kind", "web",
                 "--roles", "Business Administrator", "--password", PASSWORD,
                 "--database-url", url)  # fmt: skip
    assert "admin" in output and "Business Administrator" in output


def test_operators_add_prompts_for_a_hidden_password(url: str) -> None:
    output = run("operators", "add", SHORTCODE, "payouts", "--kind", "api", "--roles", "b2c",
                 "--database-url", url, stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert PASSWORD not in output
    assert attempt(url, PASSWORD).ok


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("999999", "x1", "--kind", "api", "--roles", "b2c"), "no shortcode 999999"),
        ((SHORTCODE, "testapi", "--kind", "api", "--roles", "b2c"), "'testapi' exists"),
        ((SHORTCODE, "x1", "--kind", "portal", "--roles", "b2c"), "kind must be api or web"),
        ((SHORTCODE, "x1", "--kind", "api", "--roles", "teller"), "no role 'teller'"),
        ((SHORTCODE, "x1", "--kind", "api", "--roles", "manager"), "cannot hold Business Manager"),
    ],
)
def test_operators_add_refused(url: str, arguments: tuple[str, ...], message: str) -> None:
    output = refused(url, "operators", "add", *arguments, "--password", PASSWORD)
    assert "error:" in output and message in output


def test_operators_add_refuses_a_weak_password(url: str) -> None:
    output = refused(url, "operators", "add", SHORTCODE, "x1", "--kind", "api", "--roles",
                     "b2c", "--password", "password")  # fmt: skip
    assert "the password must" in output and "a digit" in output


def test_operators_list(url: str) -> None:
    add_api(url)
    everyone = run_json(url, "operators", "list")
    assert {o["shortcode"] for o in everyone} == {f.shortcode for f in fixtures.SHORTCODES}
    mine = run_json(url, "operators", "list", SHORTCODE)
    # The seed gives every organisation a web operator on its first shortcode too.
    assert [o["username"] for o in mine] == ["payouts", "testapi", fixtures.WEB_OPERATOR_NAME]
    owner = next(f.organisation for f in fixtures.SHORTCODES if f.shortcode == SHORTCODE)
    by_org = run_json(url, "operators", "list", "--org", owner)
    assert "payouts" in {o["username"] for o in by_org}
    table = run("operators", "list", SHORTCODE, "--database-url", url)
    assert "payouts" in table and "testapi" in table
    assert run_json(url, "operators", "list", "999999") == []


def test_operators_unlock(url: str) -> None:
    add_api(url)
    outcomes = [attempt(url, "Wrong#Pass1").outcome.value for _ in range(5)]
    assert outcomes == ["invalid"] * 4 + ["locked"]
    assert attempt(url, PASSWORD).result_code == 8006
    listed = run_json(url, "operators", "list", SHORTCODE)
    assert [o["locked"] for o in listed if o["username"] == "payouts"] == [True]
    assert "payouts on 600996 unlocked" in run(
        "operators", "unlock", SHORTCODE, "payouts", "--database-url", url
    )
    assert attempt(url, PASSWORD).ok
    assert "was not locked" in run(
        "operators", "unlock", SHORTCODE, "payouts", "--database-url", url
    )
    assert "no operator 'ghost'" in refused(url, "operators", "unlock", SHORTCODE, "ghost")


def test_operators_set_password(url: str) -> None:
    add_api(url)
    for _ in range(5):
        attempt(url, "Wrong#Pass1")
    output = run("operators", "set-password", SHORTCODE, "payouts", "--password", "Fresh$Pass9",
                 "--database-url", url)  # fmt: skip
    assert "password set for payouts on 600996; failures cleared, unlocked" in output
    assert attempt(url, "Fresh$Pass9").ok
    assert attempt(url, PASSWORD).reason == "wrong password"
    assert "the password must" in refused(
        url, "operators", "set-password", SHORTCODE, "payouts", "--password", "weak"
    )
    assert "no operator 'ghost'" in refused(
        url, "operators", "set-password", SHORTCODE, "ghost", "--password", "Fresh$Pass9"
    )
