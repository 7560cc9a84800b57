"""`pesabox ledger verify|balance|statement`, driven through Typer's CliRunner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from pesabox.cli.ledger import ledger_app
from pesabox.domain.ledger import Phase, Purpose
from pesabox.settings import get_settings
from pesabox.storage.db import write_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.tables import accounts
from tests.ledger import (
    CHARGES,
    FLOAT,
    MSISDN_A,
    NOW,
    REVENUE,
    SHORTCODE,
    UTILITY,
    WALLET_A,
    WORKING,
    open_standard_accounts,
    post,
    transfer,
)

# Wide enough that Rich never wraps a table cell in the middle of what a test looks for.
runner = CliRunner(env={"COLUMNS": "240"})


@pytest.fixture
def ledger(engine: Engine) -> Iterator[LedgerStore]:
    store = LedgerStore()
    open_standard_accounts(engine, store)
    postings = [
        [transfer("fund-a", FLOAT, WALLET_A, 8_000, purpose=Purpose.FUNDING)],
        [
            transfer("pay-1", WALLET_A, UTILITY, 1_234, transaction_id="tx-1"),
            transfer("fee-1", WALLET_A, REVENUE, 100, purpose=Purpose.FEE, transaction_id="tx-1"),
        ],
        [transfer("hold-1", WALLET_A, UTILITY, 250, phase=Phase.PENDING, transaction_id="tx-2")],
    ]
    for offset_s, requests in enumerate(postings):
        assert post(engine, store, requests, now=NOW + offset_s).ok
    yield store


def invoke(*args: str) -> Result:
    return runner.invoke(ledger_app, list(args))


def test_cli_verify_clean(database_url: str, ledger: LedgerStore) -> None:
    result = invoke("verify", "--database-url", database_url)

    assert result.exit_code == 0, result.output
    assert "ledger OK: 8 accounts, 4 transfers" in result.stdout


def test_cli_verify_tampered(engine: Engine, database_url: str, ledger: LedgerStore) -> None:
    with write_transaction(engine) as conn:
        conn.execute(
            accounts.update()
            .where(accounts.c.code == WALLET_A)
            .values(credits_posted=accounts.c.credits_posted + 1)
        )

    result = invoke("verify", "--database-url", database_url)

    assert result.exit_code == 1
    assert "ledger BROKEN" in result.stdout
    assert "account_totals" in result.stdout
    assert f"{WALLET_A}: credits_posted is 8001" in result.stdout


def test_cli_balance_of_a_msisdn(database_url: str, ledger: LedgerStore) -> None:
    result = invoke("balance", MSISDN_A, "--database-url", database_url)

    assert result.exit_code == 0, result.output
    # 80.00 funded, 12.34 paid, 1.00 fee; 2.50 held by hold-1.
    row = next(line for line in result.stdout.splitlines() if WALLET_A in line)
    assert row.split()[1:5] == ["66.66", "64.16", "2.50", "0.00"]


def test_cli_balance_of_a_shortcode_and_a_code(database_url: str, ledger: LedgerStore) -> None:
    by_shortcode = invoke("balance", SHORTCODE, "--database-url", database_url)
    by_code = invoke("balance", UTILITY, "--database-url", database_url)

    assert by_shortcode.exit_code == 0, by_shortcode.output
    for code in (UTILITY, WORKING, CHARGES):
        assert code in by_shortcode.stdout
    assert by_code.exit_code == 0, by_code.output
    assert "12.34" in by_code.stdout
    assert WORKING not in by_code.stdout


def test_cli_balance_unknown(database_url: str, ledger: LedgerStore) -> None:
    result = invoke("balance", "254799999999", "--database-url", database_url)

    assert result.exit_code == 2
    assert "no ledger account or owner named '254799999999'" in result.stderr


def test_cli_statement(database_url: str, ledger: LedgerStore) -> None:
    result = invoke("statement", WALLET_A, "--database-url", database_url)

    assert result.exit_code == 0, result.output
    ids = ["hold-1", "pay-1", "fee-1", "fund-a"]
    positions = [result.stdout.index(transfer_id) for transfer_id in ids]
    assert positions == sorted(positions)
    assert "-12.34" in result.stdout
    assert "+80.00" in result.stdout
    assert "tx-1" in result.stdout


def test_cli_statement_limit_and_owner(database_url: str, ledger: LedgerStore) -> None:
    result = invoke("statement", SHORTCODE, "--limit", "1", "--database-url", database_url)

    assert result.exit_code == 0, result.output
    assert "hold-1" in result.stdout
    assert "pay-1" not in result.stdout
    assert f"statement of {WORKING}" in result.stdout
    assert "no transfers yet" in result.stdout


def test_cli_statement_unknown_and_bad_limit(database_url: str, ledger: LedgerStore) -> None:
    assert invoke("statement", "nobody", "--database-url", database_url).exit_code == 2
    assert (
        invoke("statement", WALLET_A, "--limit", "0", "--database-url", database_url).exit_code == 2
    )


@pytest.mark.parametrize("command", [[], ["verify"], ["balance"], ["statement"]])
def test_cli_help(command: list[str]) -> None:
    result = invoke(*command, "--help")

    assert result.exit_code == 0
    assert "--help" in result.stdout
    if command:
        assert "--database-url" in result.stdout


def test_cli_database_url_from_environment(
    database_url: str, ledger: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PESABOX_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        result = invoke("verify")
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    assert "ledger OK" in result.stdout


def test_cli_missing_sqlite_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"

    result = invoke("verify", "--database-url", f"sqlite:///{missing}")

    assert result.exit_code == 2
    assert "no database at" in result.stderr
    assert not missing.exists()


def test_cli_database_without_a_ledger(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()

    result = invoke("verify", "--database-url", f"sqlite:///{empty}")

    assert result.exit_code == 2
    assert "cannot read the ledger" in result.stderr
    assert "no such table" in result.stderr


def test_cli_not_a_database_url() -> None:
    result = invoke("verify", "--database-url", "not a url")

    assert result.exit_code == 2
    assert "not a database URL" in result.stderr


def test_cli_unknown_owner_is_not_markup(database_url: str, ledger: LedgerStore) -> None:
    result = invoke("balance", "[bold]x[/bold]", "--database-url", database_url)

    assert result.exit_code == 2
    assert "'[bold]x[/bold]'" in result.stderr
