"""`pesabox certs export` and `pesabox credential encrypt`: the initiator-encryption
certificates, and a SecurityCredential made from one exactly as a client would make it.

`pesabox certs trust-bundle`, `certs broker` and `certs sign-csr`: the platform CA's trust
bundle, a broker certificate, and a client certificate signed for an organisation by an
operator (docs/concepts/certificates.md). These create the CA in the platform database on
first use, as `serve` does.

Exit codes: 0 done, 2 refused (both `--environment` and `--certificate`, a certificate file
that cannot be read, a CSR the CA will not sign), with the reason on stderr, as the other
commands do.
"""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Connection

from pesabox.security.certificates import certificate_der, encrypt_credential
from pesabox.security.csr_policy import CsrRefused
from pesabox.security.pki import BROKER_NAMES, DEFAULT_CLIENT_CERT_VALIDITY_DAYS
from pesabox.settings import Settings
from pesabox.storage import certificates_store, pki_store
from pesabox.storage.db import make_engine, write_transaction

EXIT_REFUSED = 2

certs_app = typer.Typer(
    help="The initiator-encryption certificates, one per environment, and the platform CA.",
    no_args_is_help=True,
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


def _environment_database(environment: str) -> str:
    # Served beside the sandbox, production decrypts with the key in its own database.
    settings = Settings()
    if environment == "production" and "production" in settings.served_environments:
        return settings.production_url()
    return settings.database_url


def _certificate_pem(database_url: str | None, environment: str) -> str:
    """The environment's certificate, making both environments' pairs first if need be."""
    engine = make_engine(database_url or _environment_database(environment))
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


class BrokerChoice(StrEnum):
    testbroker = "testbroker"
    prodbroker = "prodbroker"


assert tuple(BrokerChoice) == BROKER_NAMES


def _write_or_print(text: str, out: Path | None, what: str) -> None:
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text)
    typer.echo(f"wrote {what} to {out}")


def _ensure_authority(conn: Connection, *, now: float) -> None:
    # With PESABOX_TLS_HOSTNAMES, as `serve` does: the broker certificates printed or bundled
    # here are the ones the listeners present.
    pki_store.ensure_authority(conn, now=now, hostnames=Settings().tls_hostname_list())


def _broker_pem(database_url: str | None, broker: BrokerChoice) -> str:
    environment = "sandbox" if broker is BrokerChoice.testbroker else "production"
    engine = make_engine(database_url or Settings().database_url)
    try:
        with write_transaction(engine) as conn:
            _ensure_authority(conn, now=time.time())
            chain_pem = pki_store.broker_material(conn, environment).chain_pem
    finally:
        engine.dispose()
    end = "-----END CERTIFICATE-----\n"
    return chain_pem[: chain_pem.index(end) + len(end)]


@certs_app.command("trust-bundle")
def trust_bundle(
    out: Annotated[
        Path | None, typer.Option(help="Write to this file instead of standard output.")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Print or save the trust bundle: root, intermediate, testbroker, prodbroker (PEM)."""
    engine = make_engine(database_url or Settings().database_url)
    try:
        with write_transaction(engine) as conn:
            _ensure_authority(conn, now=time.time())
            bundle = pki_store.trust_bundle_pem(conn)
    finally:
        engine.dispose()
    _write_or_print(bundle, out, "the trust bundle")


@certs_app.command("broker")
def broker(
    name: Annotated[BrokerChoice, typer.Argument(help="testbroker (sandbox) or prodbroker.")],
    database_url: DatabaseOption = None,
) -> None:
    """Print a broker certificate (PEM), the one its environment's listeners present."""
    typer.echo(_broker_pem(database_url, name), nl=False)


@certs_app.command("sign-csr")
def sign_csr(
    organisation_id: Annotated[int, typer.Option(min=1, help="The production organisation's id.")],
    organisation_name: Annotated[
        str, typer.Option(help="The organisation's registered name (the certificate's O).")
    ],
    csr: Annotated[Path, typer.Option(help="The PEM certificate signing request.")],
    days: Annotated[
        int, typer.Option(min=1, max=3650, help="How long the certificate is valid.")
    ] = DEFAULT_CLIENT_CERT_VALIDITY_DAYS,
    out: Annotated[
        Path | None, typer.Option(help="Write the certificate here instead of standard output.")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Sign an organisation's CSR with the platform CA and record the certificate."""
    if not organisation_name.strip():
        raise _fail("--organisation-name is empty")
    try:
        csr_pem = csr.read_bytes()
    except OSError as error:
        raise _fail(f"cannot read {csr}: {error.strerror or error}") from None
    engine = make_engine(database_url or Settings().database_url)
    try:
        with write_transaction(engine) as conn:
            now = time.time()
            _ensure_authority(conn, now=now)
            signed = pki_store.load_authority(conn).sign_csr(
                csr_pem,
                organisation_id=organisation_id,
                organisation_name=organisation_name,
                validity_days=days,
                now=now,
                reserved_hostnames=Settings().tls_hostname_list(),
            )
            pki_store.record_client_certificate(
                conn,
                signed,
                organisation_id=organisation_id,
                organisation_name=organisation_name.strip(),
                now=now,
            )
    except CsrRefused as refusal:
        raise _fail(f"{refusal.message} ({refusal.code})") from None
    finally:
        engine.dispose()
    Console(stderr=True).print(
        f"signed serial {signed.serial_hex} for {escape(signed.subject)}", highlight=False
    )
    _write_or_print(signed.pem, out, f"certificate {signed.serial_hex}")
