"""`pesabox certs export` and `pesabox credential encrypt`: the initiator-encryption
certificates, and a SecurityCredential made from one exactly as a client would make it.

Exit codes: 0 done, 2 refused (both `--environment` and `--certificate`, a certificate file
that cannot be read), with the reason on stderr, as the other commands do.
"""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from pesabox.security.certificates import certificate_der, encrypt_credential
from pesabox.settings import Settings
from pesabox.storage import certificates_store
from pesabox.storage.db import make_engine, write_transaction

EXIT_REFUSED = 2

certs_app = typer.Typer(
    help="The initiator-encryption certificates, one per environment.", no_args_is_help=True
)
credential_app = typer.Typer(
    help="SecurityCredentials: initiator passwords encrypted as clients do.",
    no_args_is_help=True,
)


class EnvironmentChoice(StrEnum):
    sandbox = "sandbox"
    production = "production"


class FormatChoice(StrEnum):
    pem = "pem"
    der = "der"


DatabaseOption = Annotated[
    str | None, typer.Option("--database-url", help="Defaults to PESABOX_DATABASE_URL.")
]


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(EXIT_REFUSED)


def _certificate_pem(database_url: str | None, environment: str) -> str:
    """The environment's certificate, making both environments' pairs first if need be."""
    engine = make_engine(database_url or Settings().database_url)
    try:
        with write_transaction(engine) as conn:
            certificates_store.ensure_certificates(conn, time.time())
            stored = certificates_store.get(conn, environment)
    finally:
        engine.dispose()
    assert stored is not None  # ensure_certificates just made it
    return stored.certificate_pem


@certs_app.command("export")
def export(
    environment: Annotated[
        EnvironmentChoice, typer.Option(help="Whose certificate.")
    ] = EnvironmentChoice.sandbox,
    output_format: Annotated[
        FormatChoice, typer.Option("--format", help="PEM text or binary DER.")
    ] = FormatChoice.pem,
    out: Annotated[
        Path | None, typer.Option(help="Write to this file instead of standard output.")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Print or save an environment's certificate, creating the pairs on first use."""
    pem = _certificate_pem(database_url, environment.value)
    data = pem.encode() if output_format is FormatChoice.pem else certificate_der(pem)
    if out is not None:
        out.write_bytes(data)
        typer.echo(f"wrote the {environment.value} certificate ({output_format.value}) to {out}")
        return
    stdout = typer.get_binary_stream("stdout")
    stdout.write(data)
    stdout.flush()


@credential_app.command("encrypt")
def encrypt(
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            help="The initiator's password; asked for when left out, so it stays out of "
            "shell history.",
        ),
    ],
    environment: Annotated[
        EnvironmentChoice | None,
        typer.Option(help="Use this environment's certificate (default sandbox)."),
    ] = None,
    certificate: Annotated[
        Path | None,
        typer.Option(help="Use this certificate file (PEM or DER) instead."),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Print the SecurityCredential for a password: base64(RSA PKCS#1 v1.5)."""
    if environment is not None and certificate is not None:
        raise _fail("give --environment or --certificate, not both")
    if certificate is not None:
        try:
            credential = encrypt_credential(password, certificate.read_bytes())
        except (OSError, ValueError) as error:
            raise _fail(f"cannot use {certificate}: {error}") from None
    else:
        chosen = (environment or EnvironmentChoice.sandbox).value
        credential = encrypt_credential(password, _certificate_pem(database_url, chosen))
    typer.echo(credential)
