"""`pesabox ledger`: check the ledger's invariants and read balances and statements.

Every command only reads, inside one snapshot, so it is safe to run against a live platform.
Exit codes: 0 done, 1 the ledger is broken (`verify`), 2 the request could not be answered
(unknown owner or account, unreadable database).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from pesabox.money import cents_to_decimal_string
from pesabox.settings import get_settings
from pesabox.storage.db import make_engine
from pesabox.storage.ledger_queries import (
    STATEMENT_LIMIT_MAX,
    AccountBalance,
    StatementLine,
    account_balance,
    accounts_for_owner,
    ledger_size,
    snapshot_transaction,
    statement,
)
from pesabox.storage.ledger_verify import Violation, verify

EXIT_BROKEN = 1
EXIT_UNANSWERABLE = 2

ledger_app = typer.Typer(
    help="Check the ledger's invariants and show balances and statements.",
    no_args_is_help=True,
)

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="Database to read. Default: PESABOX_DATABASE_URL, else sqlite:///./pesabox.db.",
        show_default=False,
    ),
]
OwnerArgument = Annotated[
    str,
    typer.Argument(
        help="An MSISDN (254...), a shortcode, 'platform', or an account code such as"
        " wallet:254708374149 or utility:174379.",
        show_default=False,
    ),
]
LimitOption = Annotated[
    int,
    typer.Option(
        "--limit", min=1, max=STATEMENT_LIMIT_MAX, help="Most transfers to show per account."
    ),
]


@ledger_app.command("verify")
def verify_command(database_url: DatabaseUrlOption = None) -> None:
    """Check every ledger invariant over the whole database; exit 1 if any is broken."""
    with _ledger_connection(database_url) as conn:
        violations = verify(conn)
        size = ledger_size(conn)
    if violations:
        _print_violations(violations)
        raise typer.Exit(EXIT_BROKEN)
    Console().print(f"ledger OK: {size.accounts} accounts, {size.transfers} transfers")


@ledger_app.command("balance")
def balance_command(owner: OwnerArgument, database_url: DatabaseUrlOption = None) -> None:
    """Show the balances of an account, or of every account an owner holds, in KES."""
    with _ledger_connection(database_url) as conn:
        found = _resolve_accounts(conn, owner)
    Console().print(_balance_table(owner, found))


@ledger_app.command("statement")
def statement_command(
    owner: OwnerArgument, database_url: DatabaseUrlOption = None, limit: LimitOption = 20
) -> None:
    """Show the newest transfers of an account (each of an owner's accounts), newest first."""
    with _ledger_connection(database_url) as conn:
        found = _resolve_accounts(conn, owner)
        pages = [(account, statement(conn, account["code"], limit=limit)) for account in found]
    console = Console()
    for account, lines in pages:
        console.print(_statement_table(account, lines))


# --- helpers ------------------------------------------------------------------------------


def _fail(message: str) -> typer.Exit:
    # The message can quote what the user typed, which must not be read as Rich markup.
    Console(stderr=True).print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(EXIT_UNANSWERABLE)


@contextmanager
def _ledger_connection(database_url: str | None) -> Iterator[Connection]:
    url = database_url or get_settings().database_url
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise _fail(f"not a database URL: {url!r}") from error
    # Never echo a password back to the terminal.
    shown = parsed.render_as_string(hide_password=True)
    _require_sqlite_file(parsed, shown)
    engine = make_engine(url, pool_size=1)
    try:
        with snapshot_transaction(engine) as conn:
            yield conn
    except SQLAlchemyError as error:
        # The driver's own message is the useful part; SQLAlchemy's wrapper repeats the SQL.
        detail = str(error.orig if isinstance(error, DBAPIError) else error).splitlines()[0]
        raise _fail(f"cannot read the ledger at {shown}: {detail}") from error
    finally:
        engine.dispose()


def _require_sqlite_file(parsed: URL, shown: str) -> None:
    # Connecting to a SQLite path that does not exist would quietly create an empty file.
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    if not Path(parsed.database).exists():
        raise _fail(f"no database at {shown}")


def _resolve_accounts(conn: Connection, owner: str) -> list[AccountBalance]:
    # An exact account code wins; otherwise the name is an owner (MSISDN, shortcode).
    single = account_balance(conn, owner)
    if single is not None:
        return [single]
    found = accounts_for_owner(conn, owner.removeprefix("+"))
    if not found:
        raise _fail(f"no ledger account or owner named {owner!r}")
    return found


def _kes(cents: int | None) -> str:
    return "-" if cents is None else cents_to_decimal_string(cents)


def _table(title: str, columns: list[str], *, right: int, whole: Iterable[str] = ()) -> Table:
    """A table whose last `right` columns are amounts and whose `whole` columns never break.

    Every cell folds instead of being cut short with an ellipsis: an account code or a
    transfer id shown only in part is worse than one shown over two lines.
    """
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
    for index, name in enumerate(columns):
        table.add_column(
            name,
            justify="right" if index >= len(columns) - right else "left",
            overflow="fold",
            no_wrap=name in whole,
        )
    return table


def _print_violations(violations: list[Violation]) -> None:
    title = f"ledger BROKEN: {len(violations)} violations"
    table = _table(title, ["rule", "detail"], right=0, whole=["rule"])
    for violation in violations:
        table.add_row(violation.rule, violation.detail)
    Console().print(table)


def _balance_table(owner: str, found: list[AccountBalance]) -> Table:
    # The code's prefix already names the kind (wallet, utility, ...), so no column for it.
    columns = ["account", "balance", "available", "held", "incoming", "min", "max"]
    table = _table(f"balances of {owner} (KES)", columns, right=6, whole=columns)
    for account in found:
        table.add_row(
            account["code"],
            _kes(account["balance_cents"]),
            _kes(account["available_cents"]),
            _kes(account["debits_pending_cents"]),
            _kes(account["credits_pending_cents"]),
            _kes(account["min_balance_cents"]),
            _kes(account["max_balance_cents"]),
        )
    return table


def _statement_table(account: AccountBalance, lines: list[StatementLine]) -> Table:
    # Six columns so that a statement still reads on an 80-column terminal: the business
    # transaction sits under its transfer id, the purpose next to the phase.
    title = f"statement of {account['code']} (KES), newest first"
    columns = ["time (UTC)", "transfer / transaction", "entry", "counterparty", "amount", "balance"]
    whole = ["time (UTC)", "counterparty", "amount", "balance"]
    table = _table(title, columns, right=2, whole=whole)
    for line in lines:
        sign = "-" if line["direction"] == "debit" else "+"
        transaction = line["transaction_id"]
        table.add_row(
            datetime.fromtimestamp(line["created_at"], tz=UTC).strftime("%Y-%m-%d %H:%M:%S"),
            line["transfer_id"] if transaction is None else f"{line['transfer_id']}\n{transaction}",
            f"{line['phase']} {line['purpose']}",
            line["counterparty"],
            sign + _kes(line["amount_cents"]),
            _kes(line["balance_after_cents"]),
        )
    if not lines:
        table.caption = "no transfers yet"
    return table
