"""`pesabox`: serve, worker, migrate, seed, apps, scenarios, ledger, stk."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pesabox.cli.certs import certs_app, credential_app
from pesabox.cli.ledger import ledger_app
from pesabox.cli.onboarding import admin_app
from pesabox.cli.operators import operators_app
from pesabox.cli.orgs import orgs_app, shortcodes_app
from pesabox.cli.stk import stk_app
from pesabox.domain.products import ALL_PRODUCTS, format_products, parse_products
from pesabox.sandbox import fixtures
from pesabox.sandbox.onboarding_seed import PLATFORM_OPERATOR_NAME, PLATFORM_OPERATOR_PASSWORD
from pesabox.sandbox.scenarios import Scenario
from pesabox.security.credentials import new_consumer_credentials, secret_digest
from pesabox.settings import Settings
from pesabox.storage import apps_store, sandbox_store
from pesabox.storage.db import make_engine, read_transaction, write_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.migrate import upgrade_to_head

app = typer.Typer(help="pesabox: M-Pesa's API platform and sandbox.", no_args_is_help=True)
apps_app = typer.Typer(help="Integrator apps: consumer keys, secrets and products.")
app.add_typer(apps_app, name="apps")
app.add_typer(ledger_app, name="ledger")
app.add_typer(stk_app, name="stk")
app.add_typer(orgs_app, name="orgs")
app.add_typer(shortcodes_app, name="shortcodes")
app.add_typer(certs_app, name="certs")
app.add_typer(credential_app, name="credential")
app.add_typer(operators_app, name="operators")
app.add_typer(admin_app, name="admin")
console = Console()

DatabaseOption = Annotated[
    str | None, typer.Option("--database-url", help="Defaults to PESABOX_DATABASE_URL.")
]


def _settings(database_url: str | None = None) -> Settings:
    if database_url:
        return Settings(database_url=database_url)
    return Settings()


@app.command()
def migrate(database_url: DatabaseOption = None) -> None:
    """Upgrade the database (and production's, when served) to the newest schema."""
    settings = _settings(database_url)
    for url in settings.database_urls():
        # On PostgreSQL this also creates production's schema the first time.
        engine = make_engine(url)
        upgrade_to_head(engine)
        engine.dispose()
        console.print(f"migrated {url}")


@app.command()
def seed(
    database_url: DatabaseOption = None,
    customers: Annotated[int, typer.Option(help="Also add N funded load-test customers.")] = 0,
    print_credentials: Annotated[bool, typer.Option(help="Print the app and test values.")] = False,
) -> None:
    """Seed the sandbox: shortcodes, customers, scenarios and a ready app; and, when
    production is served, production's simulated customers only (idempotent)."""
    from pesabox.sandbox.seed import seed as run_seed
    from pesabox.sandbox.seed import seed_bulk_customers, seed_production

    settings = _settings(database_url)
    environments = settings.served_environments
    credentials = None
    if "sandbox" in environments:
        engine = make_engine(settings.database_url)
        upgrade_to_head(engine)
        ledger = LedgerStore()
        with write_transaction(engine) as conn:
            credentials = run_seed(conn, now=time.time(), ledger=ledger)
            added = seed_bulk_customers(conn, count=customers, now=time.time(), ledger=ledger)
        engine.dispose()
        console.print(
            f"seeded {settings.database_url}" + (f" (+{added} load customers)" if added else "")
        )
    if "production" in environments:
        production_url = settings.production_url()
        engine = make_engine(production_url)
        upgrade_to_head(engine)
        with write_transaction(engine) as conn:
            seed_production(conn, now=time.time(), ledger=LedgerStore())
        engine.dispose()
        console.print(f"seeded {production_url} (customers only)")
    if print_credentials:
        if credentials is not None:
            _print_credentials(settings, credentials.consumer_key, credentials.consumer_secret)
        if "production" in environments:
            _print_production(settings)


def _pages(settings: Settings) -> str:
    base = f"http://{settings.host}:{settings.port}/ui"
    if settings.environment != "sandbox":
        return f"{base}/org"
    pages = f"{base}/phones, {base}/org, {base}/inspector, {base}/clock"
    if "production" in settings.served_environments:
        # Onboarding needs production to set businesses up in (the pages say so otherwise).
        pages += f", {base}/dev, {base}/admin"
    return pages


def _print_credentials(settings: Settings, key: str, secret: str) -> None:
    # Plain lines, never a table: a terminal must not truncate a secret people copy.
    rows = [
        ("Base URL", f"http://{settings.host}:{settings.port}"),
        ("Consumer key", key),
        ("Consumer secret", secret),
        ("STK shortcode (PayBill)", "174379"),
        ("STK shortcode (Buy Goods)", "store 174380, till 977380"),
        ("Passkey", fixtures.SANDBOX_PASSKEY),
        ("Test MSISDNs", "254708374149, 254708374150, 254722000000 (PIN 1234)"),
        ("Bonga PIN vetting", "254708374149: national ID 12345678, last top-up KES 100"),
        ("Scenario MSISDNs", "2547110000NN (see `pesabox scenarios`)"),
        ("C2B PayBills", "600000, 600977, 600999 (validation off until switched on)"),
        ("B2C shortcode", "600996 (Utility funded with KES 10,000,000)"),
        ("Initiator", f"{fixtures.INITIATOR_NAME} / {fixtures.INITIATOR_PASSWORD}"),
        ("SecurityCredential", "pesabox credential encrypt --password 'Safaricom999!*!'"),
        (
            "Org portal (/ui/org)",
            f"each seeded shortcode's {fixtures.WEB_OPERATOR_NAME} / "
            f"{fixtures.WEB_OPERATOR_PASSWORD} (e.g. 600996)",
        ),
        (
            "Platform operator (/ui/admin)",
            f"{PLATFORM_OPERATOR_NAME} / {PLATFORM_OPERATOR_PASSWORD}",
        ),
        ("Pages", _pages(settings)),
    ]
    if settings.https_port is not None:
        rows.insert(1, ("Base URL (https)", _https(settings, settings.https_port)))
    _echo_rows("pesabox sandbox", rows)


def _print_production(settings: Settings) -> None:
    production = _https(settings, settings.production_port)
    rows = [
        ("Base URL (TLS)", f"{production} (OAuth, STK push and query, /ui pages)"),
        (
            "Base URL (mutual TLS)",
            f"{_https(settings, settings.production_mtls_port)} (every API; client "
            "certificate from the platform CA)",
        ),
        ("Trust bundle", "pesabox certs trust-bundle (verify both listeners with it)"),
        ("Production keys", _going_live(settings)),
        ("Customers", "the sandbox's test MSISDNs (PIN 1234), with their own wallets"),
    ]
    _echo_rows("pesabox production", rows)


def _https(settings: Settings, port: int) -> str:
    return f"https://{settings.host}:{port}"


def _going_live(settings: Settings) -> str:
    if "sandbox" not in settings.served_environments:
        # Onboarding needs both environments: production alone answers /ui/dev with 503.
        return (
            "going live needs both environments: serve with "
            "PESABOX_ENVIRONMENTS=sandbox,production (docs/concepts/environments.md)"
        )
    return (
        f"sign up at http://{settings.host}:{settings.port}/ui/dev, apply for a shortcode, "
        "go live (docs/concepts/environments.md)"
    )


def _echo_rows(title: str, rows: list[tuple[str, str]]) -> None:
    typer.echo(title)
    for label, value in rows:
        typer.echo(f"  {label + ':':<32}{value}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Defaults to PESABOX_HOST.")] = None,
    port: Annotated[
        int | None, typer.Option(help="The sandbox's plain http port; PESABOX_PORT.")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Processes; defaults to PESABOX_WORKERS.")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Serve PESABOX_ENVIRONMENTS (sandbox: http and https; production: TLS and mutual TLS)
    and, unless PESABOX_RUN_BACKGROUND=false, their callbacks and timers."""
    from pesabox.serving.listeners import Listener
    from pesabox.serving.runner import ServerFailed
    from pesabox.serving.runner import serve as serve_listeners

    # Options win over PESABOX_* values, for this process and the workers it spawns.
    for name, value in (
        ("HOST", host),
        ("PORT", port),
        ("WORKERS", workers),
        ("DATABASE_URL", database_url),
    ):
        if value is not None:
            os.environ[f"PESABOX_{name}"] = str(value)
    settings = Settings()

    def announce(listener: Listener) -> None:
        typer.echo(f"pesabox serving {listener.describe()}")

    try:
        code = serve_listeners(settings, announce=announce)
    except (OSError, ValueError, ServerFailed) as error:
        typer.echo(f"pesabox serve: {error}", err=True)
        raise typer.Exit(1) from None
    raise typer.Exit(code)


@app.command()
def worker(database_url: DatabaseOption = None) -> None:
    """Run the callback delivery and timers of PESABOX_ENVIRONMENTS without serving HTTP
    (beside a `serve` run with PESABOX_RUN_BACKGROUND=false)."""
    from pesabox.callbacks.tls import load_callback_tls
    from pesabox.core.platform import Platform
    from pesabox.serving.environments import environment_settings, prepare_databases
    from pesabox.serving.tls import load_tls_material

    settings = _settings(database_url)
    try:
        # As `serve` does: the newest schema, then the platform CA (each environment's https
        # callbacks present its broker certificate).
        prepare_databases(settings)
        load_tls_material(settings)
    except ValueError as error:
        typer.echo(f"pesabox worker: {error}", err=True)
        raise typer.Exit(1) from None
    platform_engine = make_engine(settings.database_url, pool_size=1)
    try:
        callback_tls = {
            name: load_callback_tls(platform_engine, environment=name, settings=settings)
            for name in settings.served_environments
        }
    finally:
        platform_engine.dispose()

    async def run() -> None:
        platforms = [
            Platform(environment_settings(settings, name), callback_tls=tls)
            for name, tls in callback_tls.items()
        ]
        for platform in platforms:
            await platform.start(background=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        console.print(
            f"worker running for {','.join(settings.served_environments)}; Ctrl-C to stop"
        )
        await stop.wait()
        for platform in platforms:
            await platform.stop()

    asyncio.run(run())


@apps_app.command("create")
def apps_create(
    name: Annotated[str, typer.Option(help="A name for the app.")],
    products: Annotated[str, typer.Option(help="Comma-separated products.")] = format_products(
        ALL_PRODUCTS
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Create an app; its secret is shown once and stored only as a digest."""
    try:
        chosen = parse_products(products)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--products") from None
    settings = _settings(database_url)
    engine = make_engine(settings.database_url)
    key, secret = new_consumer_credentials()
    with write_transaction(engine) as conn:
        if apps_store.find_app_by_name(conn, name) is not None:
            raise typer.BadParameter(f"an app named {name!r} exists", param_hint="--name")
        apps_store.insert_app(
            conn,
            name=name,
            consumer_key=key,
            secret_digest=secret_digest(secret),
            products=chosen,
            now=time.time(),
        )
    engine.dispose()
    result = {
        "name": name,
        "consumer_key": key,
        "consumer_secret": secret,
        "products": sorted(chosen),
    }
    if as_json:
        typer.echo(json.dumps(result))
        return
    console.print(result)


@apps_app.command("list")
def apps_list(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """List apps (never their secrets)."""
    engine = make_engine(_settings(database_url).database_url)
    with read_transaction(engine) as conn:
        rows = apps_store.list_apps(conn)
    engine.dispose()
    listed = [
        {
            "name": a.name,
            "consumer_key": a.consumer_key,
            "products": sorted(a.products),
            "created_at": a.created_at,
        }
        for a in rows
    ]
    if as_json:
        typer.echo(json.dumps(listed))
        return
    table = Table("name", "consumer key", "products")
    for item in listed:
        table.add_row(str(item["name"]), str(item["consumer_key"]), ",".join(item["products"]))  # type: ignore[arg-type]
    console.print(table)


@app.command()
def scenarios(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """List the scenario table: magic MSISDNs and amounts and what they do."""
    engine = make_engine(_settings(database_url).database_url)
    with read_transaction(engine) as conn:
        rows: list[Scenario] = sandbox_store.load_scenarios(conn)
    engine.dispose()
    if as_json:
        from pesabox.api.schemas.sandbox import scenario_out

        typer.echo(json.dumps([scenario_out(s) for s in rows]))
        return
    table = Table(
        "id", "msisdn", "amount", "action", "code", "callback", "validation", "description",
        "source",
    )  # fmt: skip
    for s in rows:
        amount = str(s.amount_cents // 100) if s.amount_cents is not None else ""
        table.add_row(
            str(s.id),
            s.msisdn or "",
            amount,
            str(s.action),
            str(s.result_code or ""),
            str(s.callback_mode),
            str(s.validation_mode),
            s.description,
            s.source,
        )
    console.print(table)


def main() -> None:
    app()
