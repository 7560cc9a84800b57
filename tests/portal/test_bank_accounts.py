"""Registering an organisation's bank account: `pesabox orgs set-bank` and the sandbox API;
and the seed's web operators in `pesabox seed --print-credentials`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from pesabox.api.app import create_app
from pesabox.cli.main import app
from pesabox.core.platform import Platform
from pesabox.sandbox import fixtures
from pesabox.sandbox.seed import SandboxCredentials
from pesabox.settings import Settings
from pesabox.storage import bank_accounts_store, orgs_store
from pesabox.storage.db import make_engine, read_transaction

runner = CliRunner()


def bank_of(url: str, organisation: str) -> Any:
    engine = make_engine(url)
    try:
        with read_transaction(engine) as conn:
            organisation_id = orgs_store.organisation_id(conn, organisation)
            assert organisation_id is not None
            return bank_accounts_store.get_bank_details(conn, organisation_id)
    finally:
        engine.dispose()


def test_set_bank_from_the_command_line(database_url: str) -> None:
    assert runner.invoke(app, ["migrate", "--database-url", database_url]).exit_code == 0
    made = runner.invoke(app, ["orgs", "create", "--name", "Acme", "--database-url", database_url])
    assert made.exit_code == 0, made.output
    args = ["orgs", "set-bank", "--org", "Acme", "--bank", "Equity Bank", "--branch", "Thika",
            "--account-number", "0123 456 789", "--account-name", "Acme Ltd",
            "--database-url", database_url]  # fmt: skip
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    details = bank_of(database_url, "Acme")
    assert (details.bank_name, details.account_number) == ("Equity Bank", "0123456789")
    missing = runner.invoke(app, [*args[:3], "Nobody", *args[4:]])
    assert missing.exit_code == 2 and "no organisation named 'Nobody'" in missing.output
    bad = runner.invoke(app, [*args[:9], "12", *args[10:]])
    assert bad.exit_code == 2 and "account number" in bad.output


def test_print_credentials_names_the_portal_operator(database_url: str) -> None:
    result = runner.invoke(app, ["seed", "--print-credentials", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert fixtures.WEB_OPERATOR_NAME in result.output
    assert fixtures.WEB_OPERATOR_PASSWORD in result.output
    assert bank_of(database_url, "Safaricom Daraja 996").bank_name == "Stanbic Bank"


@pytest.fixture
async def client(
    database_url: str, seeded_engine: tuple[Engine, SandboxCredentials]
) -> AsyncIterator[Any]:
    engine, _ = seeded_engine
    settings = Settings(database_url=database_url)
    platform = Platform(settings, engine=engine)
    app_ = create_app(settings, platform=platform)
    async with AsyncTestClient(app=app_) as running:  # type: ignore[type-var]
        yield running


async def test_the_sandbox_api_sets_and_reads_a_bank_account(client: Any) -> None:
    organisations = (await client.get("/sandbox/v1/organisations")).json()
    listed = organisations["organisations"] if isinstance(organisations, dict) else organisations
    acme = next(o for o in listed if o["name"] == "Safaricom Daraja 000")
    url = f"/sandbox/v1/organisations/{acme['id']}/bank-account"
    before = await client.get(url)
    assert before.json()["bank_name"] == "Co-operative Bank"
    body = {"bank_name": "KCB Bank", "branch": "Nakuru", "account_number": 1234567890,
            "account_name": "Daraja 000 Ltd"}  # fmt: skip
    reply = await client.put(url, json=body)
    assert reply.status_code == 200, reply.text
    assert (await client.get(url)).json()["account_number"] == "1234567890"
    refused = await client.put(url, json={**body, "bank_name": " "})
    assert refused.status_code == 400 and "bank name" in refused.json()["errorMessage"]
    unknown = await client.put("/sandbox/v1/organisations/999999/bank-account", json=body)
    assert unknown.status_code == 404
