"""`pesabox operators`: an organisation's web and API operators (initiators), as its
Business Administrator manages them in the org portal.

Exit codes: 0 done, 2 refused (a broken rule, an unknown or duplicate operator), with the
reason on stderr, as `pesabox orgs` and `pesabox shortcodes` do.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pesabox.domain.operators import OperatorRuleError, parse_kind, parse_roles
from pesabox.domain.services import operator_admin
from pesabox.settings import Settings
from pesabox.storage import operators_store
from pesabox.storage.db import make_engine, read_transaction, write_transaction
from pesabox.storage.operators_store import OperatorRecord
from pesabox.storage.types import Connection

EXIT_REFUSED = 2
T = TypeVar("T")

operators_app = typer.Typer(
    help="Operators: web users and API initiators of an organisation's shortcodes.",
    no_args_is_help=True,
)

DatabaseOption = Annotated[
    str | None, typer.Option("--database-url", help="Defaults to PESABOX_DATABASE_URL.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
ShortcodeArgument = Annotated[str, typer.Argument(help="The organisation's shortcode.")]
UsernameArgument = Annotated[str, typer.Argument(help="The operator's username (Initiator).")]
# Prompted for, hidden and twice, when left out, so it need not sit in the shell's history.
PasswordOption = Annotated[
    str,
    typer.Option(
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="8-64 printable ASCII characters with upper, lower, digit and symbol; no ( ).",
    ),
]


def _fail(message: str) -> typer.Exit:
    # The message can quote what the user typed, which must not be read as Rich markup.
    Console(stderr=True).print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(EXIT_REFUSED)


@contextmanager
def _refusals_as_exit() -> Iterator[None]:
    try:
        yield
    except OperatorRuleError as error:
        raise _fail(str(error)) from None


def _run(database_url: str | None, job: Callable[[Connection], T], *, write: bool) -> T:
    engine = make_engine(database_url or Settings().database_url)
    transaction = write_transaction if write else read_transaction
    try:
        with _refusals_as_exit(), transaction(engine) as conn:
            return job(conn)
    finally:
        engine.dispose()


def operator_out(record: OperatorRecord) -> dict[str, Any]:
    """An operator for `--json`: everything but the password digest."""
    return {
        "shortcode": record.shortcode,
        "username": record.username,
        "kind": record.kind.value,
        "roles": [role.value for role in record.roles],
        "failed_attempts": record.failed_attempts,
        "locked": record.locked,
        "locked_at": record.locked_at,
        "password_changed_at": record.password_changed_at,
        "created_at": record.created_at,
    }


def _print(records: list[OperatorRecord], *, as_json: bool, single: bool = False) -> None:
    if as_json:
        shaped = [operator_out(record) for record in records]
        typer.echo(json.dumps(shaped[0] if single else shaped))
        return
    table = Table("shortcode", "username", "kind", "roles", "failures", "locked")
    for record in records:
        table.add_row(
            record.shortcode,
            record.username,
            record.kind.value,
            ", ".join(role.value for role in record.roles),
            str(record.failed_attempts),
            "yes" if record.locked else "no",
        )
    Console().print(table)


@operators_app.command("add")
def operators_add(
    shortcode: ShortcodeArgument,
    username: UsernameArgument,
    kind: Annotated[str, typer.Option(help="api (an initiator) or web (the org portal).")],
    roles: Annotated[
        str,
        typer.Option(
            help="Comma-separated portal role names, or short names: b2c, b2b, balance, "
            "status, reversal (api); manager, administrator, operator, auditor (web)."
        ),
    ],
    password: PasswordOption,
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """Create an operator on a shortcode; only a digest of the password is kept."""
    with _refusals_as_exit():
        chosen_kind = parse_kind(kind)
        chosen_roles = parse_roles(roles)
        digest = operator_admin.password_digest(password, username=username)
    added = _run(
        database_url,
        lambda conn: operator_admin.add_operator(
            conn,
            shortcode=shortcode,
            username=username,
            kind=chosen_kind,
            roles=chosen_roles,
            digest=digest,
            now=operator_admin.platform_now(conn),
        ),
        write=True,
    )
    _print([added], as_json=as_json, single=True)


@operators_app.command("list")
def operators_list(
    shortcode: Annotated[str | None, typer.Argument(help="Only this shortcode's.")] = None,
    org: Annotated[str | None, typer.Option("--org", help="Only this organisation's.")] = None,
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """List operators with their kind, roles, failures and lock (never a password)."""
    found = _run(
        database_url,
        lambda conn: operators_store.list_operators(conn, shortcode=shortcode, organisation=org),
        write=False,
    )
    _print(found, as_json=as_json)


@operators_app.command("set-password")
def operators_set_password(
    shortcode: ShortcodeArgument,
    username: UsernameArgument,
    password: PasswordOption,
    database_url: DatabaseOption = None,
) -> None:
    """Set a new password: its 90 days start again (on the sandbox clock), the operator is
    unlocked, and its org portal sessions end."""
    with _refusals_as_exit():
        digest = operator_admin.password_digest(password, username=username)
    updated = _run(
        database_url,
        lambda conn: operator_admin.set_password(
            conn,
            shortcode=shortcode,
            username=username,
            digest=digest,
            now=operator_admin.platform_now(conn),
        ),
        write=True,
    )
    Console().print(
        f"password set for {escape(updated.username)} on {updated.shortcode}; "
        "failures cleared, unlocked"
    )


@operators_app.command("unlock")
def operators_unlock(
    shortcode: ShortcodeArgument,
    username: UsernameArgument,
    database_url: DatabaseOption = None,
) -> None:
    """Unlock an operator locked by repeated credential failures (result 8006); its org
    portal sessions end."""
    was_locked = _run(
        database_url,
        lambda conn: operator_admin.unlock(conn, shortcode=shortcode, username=username),
        write=True,
    )
    state = "unlocked" if was_locked else "was not locked; failures cleared"
    Console().print(f"{escape(username.strip())} on {shortcode} {state}")
