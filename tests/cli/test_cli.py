"""The CLI through Typer's runner, against real databases."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from pesabox.cli.main import app
from pesabox.storage.db import make_engine, read_transaction
from pesabox.storage.tables import accounts, customers, scenarios, transfers

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def counts(url: str) -> tuple[int, ...]:
    engine = make_engine(url)
    with read_transaction(engine) as conn:
        values = tuple(
            conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (customers, accounts, transfers, scenarios)
        )
    engine.dispose()
    return values


def test_migrate_seed_twice_is_idempotent(database_url: str) -> None:
    run("migrate", "--database-url", database_url)
    first = run("seed", "--database-url", database_url, "--print-credentials")
    before = counts(database_url)
    second = run("seed", "--database-url", database_url, "--print-credentials")
    assert counts(database_url) == before
    key_line = [line for line in first.splitlines() if "Consumer key" in line]
    assert key_line and key_line[0] in second
    assert "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919" in first


def test_seed_bulk_customers(database_url: str) -> None:
    run("seed", "--database-url", database_url, "--customers", "250")
    run("seed", "--database-url", database_url, "--customers", "300")
    engine = make_engine(database_url)
    with read_transaction(engine) as conn:
        bulk = conn.execute(
            select(func.count()).select_from(customers).where(customers.c.msisdn.like("2547200%"))
        ).scalar_one()
    engine.dispose()
    assert bulk == 300
    verify = runner.invoke(app, ["ledger", "verify", "--database-url", database_url])
    assert verify.exit_code == 0, verify.output


def test_apps_create_and_list_json(database_url: str) -> None:
    run("migrate", "--database-url", database_url)
    created = json.loads(
        run("apps", "create", "--name", "shop", "--products", "mpesa_express,c2b", "--json",
            "--database-url", database_url)
    )  # fmt: skip
    assert created["name"] == "shop"
    assert len(created["consumer_key"]) == 48 and len(created["consumer_secret"]) == 64
    assert created["products"] == ["c2b", "mpesa_express"]
    listed = json.loads(run("apps", "list", "--json", "--database-url", database_url))
    assert [a["consumer_key"] for a in listed] == [created["consumer_key"]]
    assert "consumer_secret" not in listed[0]
    duplicate = runner.invoke(
        app, ["apps", "create", "--name", "shop", "--database-url", database_url]
    )
    assert duplicate.exit_code != 0
    unknown = runner.invoke(
        app, ["apps", "create", "--name", "x", "--products", "teleport", "--database-url",
              database_url],
    )  # fmt: skip
    assert unknown.exit_code != 0


def test_scenarios_lists_the_builtin_table(database_url: str) -> None:
    run("seed", "--database-url", database_url)
    listed = json.loads(run("scenarios", "--json", "--database-url", database_url))
    by_msisdn = {s["msisdn"]: s for s in listed if s["msisdn"]}
    assert by_msisdn["254711000001"]["action"] == "decline"
    assert by_msisdn["254711000007"]["callback_fail_times"] == 3
    assert {s["amount"] for s in listed if s["amount"]} >= {1032, 1037, 2001, 1019, 1025}


@pytest.mark.parametrize(
    "command",
    [[], ["serve"], ["worker"], ["migrate"], ["seed"], ["apps"], ["apps", "create"],
     ["apps", "list"], ["scenarios"], ["ledger"], ["ledger", "verify"], ["ledger", "balance"],
     ["ledger", "statement"], ["stk"], ["stk", "push"]],
)  # fmt: skip
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output
