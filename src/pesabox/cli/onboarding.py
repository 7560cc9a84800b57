"""`pesabox admin`: platform operators, the staff who review onboarding applications and
change requests in /ui/admin.

Exit codes: 0 done, 2 refused (a broken rule, an unknown or duplicate operator), with the
reason on stderr, as `pesabox operators` does. Passwords are prompted for (hidden, twice)
when not given, so they need not sit in the shell's history.
"""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from pesabox.domain.onboarding.errors import OnboardingError
from pesabox.domain.onboarding.identity import (
    check_new_password,
    check_operator_username,
    check_person_name,
    email_key,
)
from pesabox.security.credentials import pin_digest
from pesabox.settings import Settings
from pesabox.storage import onboarding_store
from pesabox.storage.db import make_engine, read_transaction, write_transaction
from pesabox.storage.onboarding_store import AccountKind

EXIT_REFUSED = 2

admin_app = typer.Typer(
    help="Platform operators: who reviews onboarding applications and change requests.",
    no_args_is_help=True,
)
DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", help="The platform database; defaults to PESABOX_DATABASE_URL."),
]
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
    Console(stderr=True).print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(EXIT_REFUSED)


def _url(database_url: str | None) -> str:
    return database_url or Settings().database_url


@admin_app.command("create-operator")
def create_operator(
    username: Annotated[str, typer.Argument(help="The sign-in name, e.g. jdoe.")],
    name: Annotated[str, typer.Option(help="The person's full name.")],
    password: PasswordOption,
    database_url: DatabaseOption = None,
) -> None:
    """Add a platform operator."""
    try:
        clean = check_operator_username(username)
        full_name = check_person_name(name)
        check_new_password(password, identity=clean)
    except OnboardingError as error:
        raise _fail(str(error)) from None
    digest = pin_digest(password)
    engine = make_engine(_url(database_url))
    try:
        with write_transaction(engine) as conn:
            created = onboarding_store.add_platform_operator(
                conn, username=clean, name=full_name, password_digest=digest, now=time.time()
            )
    finally:
        engine.dispose()
    if created is None:
        raise _fail(f"a platform operator named {clean!r} exists")
    typer.echo(f"created platform operator {clean}")


@admin_app.command("set-password")
def set_password(
    username: Annotated[str, typer.Argument(help="The operator's username.")],
    password: PasswordOption,
    database_url: DatabaseOption = None,
) -> None:
    """Give a platform operator a new password (also unlocks it and ends its sessions)."""
    try:
        check_new_password(password, identity=username.strip())
    except OnboardingError as error:
        raise _fail(str(error)) from None
    digest = pin_digest(password)
    engine = make_engine(_url(database_url))
    try:
        with write_transaction(engine) as conn:
            found = onboarding_store.set_platform_operator_password(
                conn, username=username.strip(), password_digest=digest
            )
    finally:
        engine.dispose()
    if not found:
        raise _fail(f"no platform operator {username.strip()!r}")
    typer.echo(f"new password set for {username.strip()}")


@admin_app.command("unlock-operator")
def unlock_operator(
    username: Annotated[str, typer.Argument(help="The operator's username.")],
    database_url: DatabaseOption = None,
) -> None:
    """Lift the lock five failed sign-ins put on a platform operator."""
    engine = make_engine(_url(database_url))
    try:
        with write_transaction(engine) as conn:
            found = onboarding_store.find_platform_operator(conn, username.strip())
            if found is not None:
                onboarding_store.unlock(conn, AccountKind.PLATFORM_OPERATOR, found.id)
    finally:
        engine.dispose()
    if found is None:
        raise _fail(f"no platform operator {username.strip()!r}")
    typer.echo(f"unlocked {found.username}")


@admin_app.command("unlock-developer")
def unlock_developer(
    email: Annotated[str, typer.Option("--email", help="The developer's e-mail.")],
    database_url: DatabaseOption = None,
) -> None:
    """Lift the lock five failed sign-ins put on a developer (it ends by itself after 15
    minutes)."""
    key = email_key(email)
    engine = make_engine(_url(database_url))
    try:
        with write_transaction(engine) as conn:
            found = onboarding_store.find_developer(conn, key) if key else None
            if found is not None:
                onboarding_store.unlock(conn, AccountKind.DEVELOPER, found.id)
    finally:
        engine.dispose()
    if found is None:
        raise _fail(f"no developer {email.strip()!r}")
    typer.echo(f"unlocked {found.email}")


@admin_app.command("list-operators")
def list_operators(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Every platform operator (never a password digest)."""
    engine = make_engine(_url(database_url))
    try:
        with read_transaction(engine) as conn:
            operators = onboarding_store.list_platform_operators(conn)
    finally:
        engine.dispose()
    shaped = [
        {"username": o.username, "name": o.name, "locked": o.locked, "created_at": o.created_at}
        for o in operators
    ]
    if as_json:
        typer.echo(json.dumps(shaped))
        return
    for row in shaped:
        typer.echo(f"{row['username']:<24}{row['name']:<40}{'locked' if row['locked'] else ''}")
