"""`pesabox orgs` and `pesabox shortcodes`: organisations and the shortcodes they own.

Exit codes: 0 done, 2 refused (a broken rule, an unknown or duplicate name), with the reason
on stderr, as `pesabox apps create` and `pesabox ledger` do.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pesabox.api.schemas.shortcodes import organisation_out, shortcode_out
from pesabox.domain.shortcode_setup import ShortcodeSetupError, parse_setup
from pesabox.settings import Settings
from pesabox.storage import orgs_store
from pesabox.storage.db import make_engine, read_transaction, write_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.parties_store import ShortcodeRecord
from pesabox.storage.types import Connection

EXIT_REFUSED = 2
T = TypeVar("T")

orgs_app = typer.Typer(help="Organisations: the owners of shortcodes.", no_args_is_help=True)
shortcodes_app = typer.Typer(
    help="Shortcodes: PayBills, stores and tills, their API services and C2B validation.",
    no_args_is_help=True,
)

DatabaseOption = Annotated[
    str | None, typer.Option("--database-url", help="Defaults to PESABOX_DATABASE_URL.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
ShortcodeArgument = Annotated[str, typer.Argument(help="The shortcode, 5 to 7 digits.")]
_SWITCH = {"on": True, "off": False}


def _fail(message: str) -> typer.Exit:
    # The message can quote what the user typed, which must not be read as Rich markup.
    Console(stderr=True).print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(EXIT_REFUSED)


@contextmanager
def _refusals_as_exit() -> Iterator[None]:
    try:
        yield
    except ShortcodeSetupError as error:
        raise _fail(str(error)) from None


def _database_url(database_url: str | None) -> str:
    return database_url or Settings().database_url


def _read(database_url: str | None, query: Callable[[Connection], T]) -> T:
    engine = make_engine(_database_url(database_url))
    try:
        with read_transaction(engine) as conn:
            return query(conn)
    finally:
        engine.dispose()


def _write(database_url: str | None, job: Callable[[Connection], T]) -> T:
    engine = make_engine(_database_url(database_url))
    try:
        with _refusals_as_exit(), write_transaction(engine) as conn:
            return job(conn)
    finally:
        engine.dispose()


def _shortcode_table(records: list[ShortcodeRecord]) -> Table:
    table = Table("shortcode", "organisation", "kind", "name", "tariff", "products", "store",
                  "validation")  # fmt: skip
    for record in records:
        table.add_row(
            record.shortcode,
            record.organisation_name,
            record.kind,
            record.name,
            record.tariff_profile,
            ",".join(sorted(record.products)),
            record.store_shortcode or "",
            "on" if record.validation_enabled else "off",
        )
    return table


# --- pesabox orgs ------------------------------------------------------------------------


@orgs_app.command("create")
def orgs_create(
    name: Annotated[str, typer.Option(help="The organisation's name; must be unused.")],
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """Create an organisation, which can then own shortcodes."""
    now = time.time()
    created = _write(database_url, lambda conn: orgs_store.create_organisation(conn, name, now=now))
    if as_json:
        typer.echo(json.dumps(organisation_out(created)))
        return
    Console().print(f"created organisation {escape(created.name)} (id {created.id})")


@orgs_app.command("list")
def orgs_list(as_json: JsonOption = False, database_url: DatabaseOption = None) -> None:
    """List organisations with their shortcodes."""
    found = _read(database_url, orgs_store.list_organisations)
    if as_json:
        typer.echo(json.dumps([organisation_out(o) for o in found]))
        return
    table = Table("id", "name", "shortcodes")
    for organisation in found:
        numbers = ", ".join(s.shortcode for s in organisation.shortcodes)
        table.add_row(str(organisation.id), organisation.name, numbers)
    Console().print(table)


@orgs_app.command("set-bank")
def orgs_set_bank(
    org: Annotated[str, typer.Option("--org", help="The organisation's name.")],
    bank: Annotated[str, typer.Option(help="The bank's name.")],
    branch: Annotated[str, typer.Option(help="The branch.")],
    account_number: Annotated[str, typer.Option(help="The account number.")],
    account_name: Annotated[str, typer.Option(help="The name the account is held in.")],
    database_url: DatabaseOption = None,
) -> None:
    """Register the bank account that withdrawals from the org portal are paid to."""
    from pesabox.domain.bank_details import BankDetailsError, check_bank_details
    from pesabox.domain.shortcode_setup import SetupNotFound
    from pesabox.storage import bank_accounts_store

    try:
        details = check_bank_details(
            bank_name=bank, branch=branch, account_number=account_number, account_name=account_name
        )
    except BankDetailsError as refusal:
        raise _fail(str(refusal)) from None
    now = time.time()

    def job(conn: Connection) -> None:
        organisation_id = orgs_store.organisation_id(conn, org)
        if organisation_id is None:
            raise SetupNotFound(f"no organisation named {org.strip()!r}")
        bank_accounts_store.set_bank_details(conn, organisation_id, details, now=now)

    _write(database_url, job)
    Console().print(
        f"bank account of {escape(org.strip())}: {escape(details.bank_name)}, "
        f"{escape(details.branch)}, {escape(details.account_number)}"
    )


# --- pesabox shortcodes ------------------------------------------------------------------


@shortcodes_app.command("add")
def shortcodes_add(
    shortcode: ShortcodeArgument,
    org: Annotated[str, typer.Option("--org", help="The owning organisation's name.")],
    kind: Annotated[str, typer.Option(help="paybill, till or store.")],
    name: Annotated[str, typer.Option(help="The name customers see.")],
    tariff_profile: Annotated[
        str, typer.Option(help="customer_bouquet, business_bouquet, mgao or mauzo.")
    ],
    products: Annotated[
        str, typer.Option(help="Comma-separated API services: c2b, b2c, b2b (not c2b with b2c).")
    ],
    store: Annotated[str | None, typer.Option(help="For a till: its store shortcode.")] = None,
    passkey: Annotated[str | None, typer.Option(help="Lipa Na M-Pesa Online passkey.")] = None,
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """Set up a shortcode for an organisation, with its ledger accounts."""
    with _refusals_as_exit():
        setup = parse_setup(
            shortcode=shortcode,
            kind=kind,
            name=name,
            tariff_profile=tariff_profile,
            services=products,
            store_shortcode=store,
            passkey=passkey,
        )
    now = time.time()
    added = _write(
        database_url,
        lambda conn: orgs_store.add_shortcode(
            conn, setup, organisation=org, ledger=LedgerStore(), now=now
        ),
    )
    _print_shortcode(added, as_json=as_json)


def _print_shortcode(record: ShortcodeRecord, *, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(shortcode_out(record)))
        return
    Console().print(_shortcode_table([record]))


@shortcodes_app.command("list")
def shortcodes_list(as_json: JsonOption = False, database_url: DatabaseOption = None) -> None:
    """List every shortcode with its kind, tariff, API services and validation switch."""
    found = _read(database_url, orgs_store.list_shortcodes)
    if as_json:
        typer.echo(json.dumps([shortcode_out(s) for s in found]))
        return
    Console().print(_shortcode_table(found))


@shortcodes_app.command("set-products")
def shortcodes_set_products(
    shortcode: ShortcodeArgument,
    products: Annotated[str, typer.Argument(help="Comma-separated: c2b, b2c, b2b.")],
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """Replace a shortcode's API services (C2B and B2C may not share one)."""
    updated = _write(database_url, lambda conn: orgs_store.set_products(conn, shortcode, products))
    _print_shortcode(updated, as_json=as_json)


@shortcodes_app.command("validation")
def shortcodes_validation(
    shortcode: ShortcodeArgument,
    switch: Annotated[str, typer.Argument(help="on or off.", metavar="on|off")],
    database_url: DatabaseOption = None,
) -> None:
    """Switch external validation of C2B payments on or off."""
    enabled = _SWITCH.get(switch.strip().lower())
    if enabled is None:
        raise _fail(f"validation must be on or off, not {switch!r}")
    changed = _write(
        database_url,
        lambda conn: orgs_store.set_validation(conn, shortcode, enabled=enabled),
    )
    state = "on" if enabled else "off"
    Console().print(f"validation on {shortcode} {'is now' if changed else 'was already'} {state}")
