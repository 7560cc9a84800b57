"""Seeding is idempotent: running it again adds only what is missing."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import func, insert, select, update

from pesabox.clock import eat_datetime
from pesabox.domain import accounts
from pesabox.domain.ledger import Purpose, TransferRequest
from pesabox.domain.products import ALL_PRODUCTS
from pesabox.domain.rules import limits_on
from pesabox.money import shillings_to_cents
from pesabox.sandbox import fixtures
from pesabox.sandbox.onboarding_seed import seed_platform_operator
from pesabox.sandbox.scenarios import BUILTIN
from pesabox.security.credentials import new_consumer_credentials, pin_digest, secret_digest
from pesabox.storage import (
    apps_store,
    certificates_store,
    customer_store,
    handset_store,
    sandbox_store,
)
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.tables import (
    accounts as accounts_table,
)
from pesabox.storage.tables import (
    customers,
    operators,
    organisations,
    shortcodes,
    transfers,
)
from pesabox.storage.types import Connection

APP_SECRET_STATE_KEY = "sandbox_app_secret"  # noqa: S105 - a key name, not a secret


@lru_cache(maxsize=4)
def _fixture_digest(secret: str) -> str:
    # Every seeded customer shares the public test PIN, so one derivation serves them all;
    # deriving it per customer made seeding slow for no gain in secrecy.
    return pin_digest(secret)


@dataclass(frozen=True, slots=True)
class SandboxCredentials:
    consumer_key: str
    consumer_secret: str


def seed(conn: Connection, *, now: float, ledger: LedgerStore) -> SandboxCredentials:
    _seed_platform_accounts(conn, ledger, now)
    _seed_shortcodes(conn, ledger, now)
    _seed_organisation_side(conn, now)
    _seed_customers(conn, ledger, now)
    _seed_scenarios(conn, now)
    # The initiator-encryption pairs, so a seeded database is ready for SecurityCredentials.
    certificates_store.ensure_certificates(conn, now)
    seed_platform_operator(conn, now)
    return _seed_app(conn, now)


def seed_production(conn: Connection, *, now: float, ledger: LedgerStore) -> None:
    """The production database's simulated customers, and nothing a business could use.

    Production STK pushes and C2B payments need a customer with a wallet and a PIN to answer
    the prompt, so the same customers as the sandbox's exist there (their own wallets, in
    that database). No apps, shortcodes, operators or scenarios: production has those only
    through onboarding, and a sandbox passkey or shortcode must mean nothing there.
    """
    _seed_platform_accounts(conn, ledger, now)
    _seed_customers(conn, ledger, now)
    certificates_store.ensure_certificates(conn, now)


def _seed_platform_accounts(conn: Connection, ledger: LedgerStore, now: float) -> None:
    ledger.ensure_accounts(conn, accounts.PLATFORM_ACCOUNTS, now)
    # The Bonga issuer and the airtime and data-bundle sales accounts (issue 5), made up front
    # so the first payments of many processes do not race to create them.
    ledger.ensure_accounts(conn, accounts.CUSTOMER_SIDE_ACCOUNTS, now)


def _seed_customers(conn: Connection, ledger: LedgerStore, now: float) -> None:
    max_balance = limits_on(eat_datetime(now).date()).max_balance_cents
    for customer in fixtures.CUSTOMERS:
        _seed_customer(conn, ledger, customer, max_balance_cents=max_balance, now=now)


def _seed_shortcodes(conn: Connection, ledger: LedgerStore, now: float) -> None:
    for fixture in fixtures.SHORTCODES:
        organisation_id = conn.execute(
            select(organisations.c.id).where(organisations.c.name == fixture.organisation)
        ).scalar()
        if organisation_id is None:
            organisation_id = conn.execute(
                insert(organisations).values(name=fixture.organisation, created_at=now)
            ).inserted_primary_key[0]  # type: ignore[index]
        exists = conn.execute(
            select(shortcodes.c.shortcode).where(shortcodes.c.shortcode == fixture.shortcode)
        ).first()
        if exists is None:
            conn.execute(
                insert(shortcodes).values(
                    shortcode=fixture.shortcode,
                    organisation_id=organisation_id,
                    kind=fixture.kind,
                    name=fixture.name,
                    passkey=fixture.passkey,
                    store_shortcode=fixture.store_shortcode,
                    tariff_profile=fixture.tariff_profile,
                    products=fixture.products,
                    created_at=now,
                )
            )
            conn.execute(
                insert(operators).values(
                    shortcode=fixture.shortcode,
                    username=fixtures.INITIATOR_NAME,
                    kind="api",
                    password_changed_at=now,
                    password_digest=_fixture_digest(fixtures.INITIATOR_PASSWORD),
                    roles="ORG B2C API initiator,Org B2B API Initiator,Balance Query ORG API,"
                    "Transaction Status query ORG API,Org Reversals Initiator",
                    created_at=now,
                )
            )
        else:
            _upgrade_products(conn, fixture)
        ledger.ensure_accounts(conn, accounts.org_accounts(fixture.shortcode), now)
        if fixture.utility_shillings:
            _fund_utility(conn, ledger, fixture, now=now)


def _fund_utility(
    conn: Connection, ledger: LedgerStore, fixture: fixtures.ShortcodeFixture, *, now: float
) -> None:
    # A fixed id, so seeding twice funds once.
    ledger.post(
        conn,
        [
            TransferRequest(
                f"seed:funding:utility:{fixture.shortcode}",
                accounts.FLOAT.code,
                accounts.org_utility(fixture.shortcode).code,
                shillings_to_cents(fixture.utility_shillings),
                Purpose.FUNDING,
            )
        ],
        now=now,
    )


def _upgrade_products(conn: Connection, fixture: fixtures.ShortcodeFixture) -> None:
    # Shortcodes seeded before products existed got migration 0004's default, `c2b`; a
    # fixture still at that default gets its real services. One changed since is left alone.
    conn.execute(
        update(shortcodes)
        .where(shortcodes.c.shortcode == fixture.shortcode, shortcodes.c.products == "c2b")
        .values(products=fixture.products)
    )


def _seed_customer(
    conn: Connection,
    ledger: LedgerStore,
    customer: fixtures.CustomerFixture,
    *,
    max_balance_cents: int,
    now: float,
) -> None:
    exists = conn.execute(
        select(customers.c.msisdn).where(customers.c.msisdn == customer.msisdn)
    ).first()
    if exists is None:
        conn.execute(
            insert(customers).values(
                msisdn=customer.msisdn,
                name=customer.name,
                pin_digest=_fixture_digest(fixtures.TEST_PIN),
                created_at=now,
            )
        )
    _seed_kyc(conn, customer, now=now)
    wallet = accounts.customer_wallet(customer.msisdn, max_balance_cents=max_balance_cents)
    ledger.ensure_accounts(conn, [wallet], now)
    # The funding transfer's id is fixed, so seeding twice never funds twice.
    ledger.post(
        conn,
        [
            TransferRequest(
                f"seed:funding:{customer.msisdn}",
                accounts.FLOAT.code,
                wallet.code,
                shillings_to_cents(customer.wallet_shillings),
                Purpose.FUNDING,
            )
        ],
        now=now,
    )


def _seed_kyc(conn: Connection, customer: fixtures.CustomerFixture, *, now: float) -> None:
    # Bonga PIN vetting (issue 5) needs an ID number on file and a last top-up; set once, so
    # a customer's own later top-ups are never overwritten by a reseed.
    if customer.national_id is not None:
        customer_store.set_kyc(
            conn, customer.msisdn, national_id=customer.national_id, line_type=customer.line_type
        )
    if (
        customer.last_topup_shillings
        and handset_store.last_topup_cents(conn, customer.msisdn) is None
    ):
        handset_store.add_topup(
            conn,
            msisdn=customer.msisdn,
            amount_cents=shillings_to_cents(customer.last_topup_shillings),
            paid_by=customer.msisdn,
            receipt="SEEDTOPUP0",
            now=now,
        )


def _seed_scenarios(conn: Connection, now: float) -> None:
    present = sandbox_store.builtin_names(conn)
    for scenario in BUILTIN:
        if scenario.name not in present:
            sandbox_store.insert_scenario(conn, scenario, now=now)


def _seed_app(conn: Connection, now: float) -> SandboxCredentials:
    app = apps_store.find_app_by_name(conn, fixtures.DEFAULT_APP_NAME)
    if app is not None:
        # The sandbox keeps its default app's secret so `make run` can print it every time;
        # apps made any other way keep only a digest.
        secret = sandbox_store.read_state(conn, APP_SECRET_STATE_KEY) or "(not kept)"
        return SandboxCredentials(app.consumer_key, secret)
    key, secret = new_consumer_credentials()
    apps_store.insert_app(
        conn,
        name=fixtures.DEFAULT_APP_NAME,
        consumer_key=key,
        secret_digest=secret_digest(secret),
        products=ALL_PRODUCTS,
        now=now,
    )
    sandbox_store.write_state(conn, APP_SECRET_STATE_KEY, secret)
    return SandboxCredentials(key, secret)


def bulk_msisdn(index: int) -> str:
    return f"{fixtures.BULK_MSISDN_PREFIX}{index:05d}"


def seed_bulk_customers(conn: Connection, *, count: int, now: float, ledger: LedgerStore) -> int:
    """Add up to `count` funded load-test customers in a few statements; returns how many
    were new."""
    existing = conn.execute(
        select(func.count())
        .select_from(customers)
        .where(customers.c.msisdn.like(f"{fixtures.BULK_MSISDN_PREFIX}%"))
    ).scalar_one()
    if existing >= count:
        return 0
    msisdns = [bulk_msisdn(i) for i in range(existing, count)]
    digest = _fixture_digest(fixtures.TEST_PIN)
    amount = shillings_to_cents(fixtures.BULK_WALLET_SHILLINGS)
    max_balance = limits_on(eat_datetime(now).date()).max_balance_cents
    conn.execute(
        insert(customers),
        [
            {
                "msisdn": m,
                "name": f"Load Customer {m[-5:]}",
                "pin_digest": digest,
                "created_at": now,
            }
            for m in msisdns
        ],
    )
    conn.execute(
        insert(accounts_table),
        [
            {
                "code": f"wallet:{m}",
                "kind": str(accounts.AccountKind.CUSTOMER_WALLET),
                "owner": m,
                "credits_posted": amount,
                "min_balance_cents": 0,
                "max_balance_cents": max_balance,
                "created_at": now,
            }
            for m in msisdns
        ],
    )
    rows = conn.execute(
        select(accounts_table.c.code, accounts_table.c.id).where(
            accounts_table.c.code.like(f"wallet:{fixtures.BULK_MSISDN_PREFIX}%")
        )
    )
    ids: dict[str, int] = {row[0]: row[1] for row in rows}
    float_id = ledger.account_id(conn, accounts.FLOAT.code)
    conn.execute(
        insert(transfers),
        [
            {
                "id": f"seed:funding:{m}",
                "debit_account_id": float_id,
                "credit_account_id": ids[f"wallet:{m}"],
                "amount_cents": amount,
                "phase": "posted",
                "purpose": str(Purpose.FUNDING),
                "created_at": now,
            }
            for m in msisdns
        ],
    )
    conn.execute(
        update(accounts_table)
        .where(accounts_table.c.id == float_id)
        .values(debits_posted=accounts_table.c.debits_posted + amount * len(msisdns))
    )
    return len(msisdns)


def _seed_organisation_side(conn: Connection, now: float) -> None:
    """Each seeded organisation's bank account and web operator (issue 5); an organisation
    that has either already keeps what it has."""
    from pesabox.domain.bank_details import BankDetails
    from pesabox.storage import bank_accounts_store

    for fixture in fixtures.ORGANISATIONS:
        organisation_id = conn.execute(
            select(organisations.c.id).where(organisations.c.name == fixture.organisation)
        ).scalar()
        if organisation_id is None:
            continue
        if bank_accounts_store.get_bank_details(conn, organisation_id) is None:
            details = BankDetails(
                fixture.bank_name, fixture.branch, fixture.account_number, fixture.organisation
            )
            bank_accounts_store.set_bank_details(conn, organisation_id, details, now=now)
        present = conn.execute(
            select(operators.c.id).where(
                operators.c.shortcode == fixture.portal_shortcode,
                operators.c.username == fixtures.WEB_OPERATOR_NAME,
            )
        ).first()
        if present is None:
            conn.execute(
                insert(operators).values(
                    shortcode=fixture.portal_shortcode,
                    username=fixtures.WEB_OPERATOR_NAME,
                    kind="web",
                    password_changed_at=now,
                    password_digest=_fixture_digest(fixtures.WEB_OPERATOR_PASSWORD),
                    roles=fixtures.WEB_OPERATOR_ROLES,
                    created_at=now,
                )
            )
