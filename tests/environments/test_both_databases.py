"""`pesabox migrate` and `seed` with PESABOX_ENVIRONMENTS=sandbox,production: two databases,
production's holding the simulated customers only (issue 6)."""

from __future__ import annotations

import pytest
from sqlalchemy import Table, func, select
from typer.testing import CliRunner

from pesabox.cli.main import app
from pesabox.sandbox import fixtures
from pesabox.storage import certificates_store, customer_store
from pesabox.storage.db import make_engine, read_transaction
from pesabox.storage.ledger_queries import account_balance
from pesabox.storage.migrate import current_revision
from pesabox.storage.tables import (
    apps,
    certificates,
    customers,
    operators,
    organisations,
    scenarios,
    shortcodes,
)
from tests.environments.databases import EnvironmentUrls

runner = CliRunner()
BOTH = {"PESABOX_ENVIRONMENTS": "sandbox,production"}
# Production's seed must leave these empty: a business gets them only through onboarding.
BUSINESS_TABLES = (apps, organisations, shortcodes, operators, scenarios)


def run(*args: str, env: dict[str, str]) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    # rich wraps long URLs at the terminal's width; the lines joined are what was said.
    return result.output.replace("\n", "")


def _counts(url: str, tables: tuple[Table, ...]) -> dict[str, int]:
    engine = make_engine(url)
    with read_transaction(engine) as conn:
        found = {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in tables
        }
    engine.dispose()
    return found


def test_migrate_both_environments_migrates_both_databases(
    environment_urls: EnvironmentUrls,
) -> None:
    output = run("migrate", "--database-url", environment_urls.platform, env=BOTH)
    assert f"migrated {environment_urls.platform}" in output
    assert f"migrated {environment_urls.production}" in output
    for url in (environment_urls.platform, environment_urls.production):
        engine = make_engine(url)
        assert current_revision(engine) is not None
        engine.dispose()


def test_migrate_sandbox_alone_leaves_production_alone(
    environment_urls: EnvironmentUrls,
) -> None:
    output = run(
        "migrate", "--database-url", environment_urls.platform,
        env={"PESABOX_ENVIRONMENTS": "sandbox"},
    )  # fmt: skip
    assert environment_urls.production not in output


def test_seed_production_holds_customers_only(environment_urls: EnvironmentUrls) -> None:
    run("seed", "--database-url", environment_urls.platform, env=BOTH)
    production = environment_urls.production
    seeded = _counts(production, (customers, certificates, *BUSINESS_TABLES))
    assert seeded == {
        "customers": len(fixtures.CUSTOMERS),
        # The initiator-encryption pair of production's own database.
        "certificates": 2,
        **{table.name: 0 for table in BUSINESS_TABLES},
    }
    # The sandbox's side is seeded as ever.
    sandbox = _counts(environment_urls.platform, (apps, shortcodes, scenarios))
    assert all(count > 0 for count in sandbox.values()), sandbox
    engine = make_engine(production)
    with read_transaction(engine) as conn:
        john = account_balance(conn, "wallet:254708374149")
        profile = customer_store.get_profile(conn, "254708374149")
    engine.dispose()
    assert john is not None and john["balance_cents"] == 100_000_00
    assert profile is not None and profile.national_id == "12345678"


def test_seed_twice_changes_nothing_in_production(environment_urls: EnvironmentUrls) -> None:
    run("seed", "--database-url", environment_urls.platform, env=BOTH)
    tables = (customers, certificates, *BUSINESS_TABLES)
    before = _counts(environment_urls.production, tables)
    run("seed", "--database-url", environment_urls.platform, env=BOTH)
    assert _counts(environment_urls.production, tables) == before
    verify = runner.invoke(
        app,
        ["ledger", "verify", "--database-url", environment_urls.production],
        env={"PESABOX_ENVIRONMENT": "production"},
    )
    assert verify.exit_code == 0, verify.output


@pytest.mark.parametrize("environments", ["sandbox,production", "production"])
def test_seed_prints_the_production_listeners(
    environment_urls: EnvironmentUrls, environments: str
) -> None:
    output = run(
        "seed", "--database-url", environment_urls.platform, "--print-credentials",
        env={"PESABOX_ENVIRONMENTS": environments},
    )  # fmt: skip
    assert "pesabox production" in output
    assert "https://127.0.0.1:9443" in output
    assert "https://127.0.0.1:9444" in output
    # Production alone cannot onboard: the output says to serve both, not where /ui/dev is.
    assert ("/ui/dev" in output) == ("sandbox" in environments)
    assert ("Consumer key" in output) == ("sandbox" in environments)


def test_certs_export_production_reads_productions_database(
    environment_urls: EnvironmentUrls,
) -> None:
    # The certificate production decrypts with; the platform database's pair is not it.
    run("seed", "--database-url", environment_urls.platform, env=BOTH)
    exported = runner.invoke(
        app,
        ["certs", "export", "--environment", "production"],
        env={
            **BOTH,
            "PESABOX_DATABASE_URL": environment_urls.platform,
        },
    )
    assert exported.exit_code == 0, exported.output
    engine = make_engine(environment_urls.production)
    with read_transaction(engine) as conn:
        stored = certificates_store.get(conn, "production")
    engine.dispose()
    assert stored is not None and exported.output == stored.certificate_pem
