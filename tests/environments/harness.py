"""Both environments in one process, as `pesabox serve` runs them: two Platforms on two
databases, the sandbox app and the production app, each on an https test client.

The production app is reached in-process, so the TLS handshake is not run; it is reached as
over a mutual-TLS connection that presented the business's certificate (the ASGI TLS
extension, `tests.serving.asgi_tls.presenting`).
A production business (an organisation, a PayBill with a passkey, a B2C shortcode with an
initiator, an app bound to the organisation, and a client certificate from the platform CA)
is written straight into production's database, as onboarding would leave it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

from litestar.testing import AsyncTestClient

from pesabox.core.platform import Platform
from pesabox.domain.operators import OperatorKind, OperatorRole
from pesabox.domain.products import ALL_PRODUCTS
from pesabox.domain.shortcode_setup import ApiService, ShortcodeKind, ShortcodeSetup, TariffProfile
from pesabox.sandbox.seed import SandboxCredentials, seed, seed_production
from pesabox.security.credentials import new_consumer_credentials, secret_digest
from pesabox.serving.environments import build_environments
from pesabox.settings import Settings
from pesabox.storage import apps_store, operators_store, orgs_store, pki_store
from pesabox.storage.db import make_engine, read_transaction, write_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.migrate import upgrade_to_head
from pesabox.storage.types import Connection
from tests.environments.databases import EnvironmentUrls
from tests.security.pki_helpers import key_pem, make_csr
from tests.serving.asgi_tls import presenting
from tests.serving.world import ClientCertificate
from tests.support import basic_auth

SANDBOX_BASE_URL = "https://sandbox.pesabox.test"
PRODUCTION_BASE_URL = "https://api.pesabox.test"
OAUTH = "/oauth/v1/generate"


@dataclass(frozen=True)
class ProductionBusiness:
    organisation_id: int
    organisation_name: str
    paybill: str
    passkey: str
    b2c_shortcode: str
    initiator: str
    initiator_password: str
    consumer_key: str
    consumer_secret: str
    # The organisation's client certificate, signed by the platform CA from its CSR.
    certificate: ClientCertificate | None


@dataclass
class Environments:
    sandbox: Platform
    production: Platform
    sandbox_client: AsyncTestClient  # type: ignore[type-arg]
    production_client: AsyncTestClient  # type: ignore[type-arg]
    sandbox_app: SandboxCredentials
    business: ProductionBusiness

    async def token(self, client: AsyncTestClient, key: str, secret: str) -> str:  # type: ignore[type-arg]
        reply = await client.get(
            OAUTH,
            params={"grant_type": "client_credentials"},
            headers={"Authorization": basic_auth(key, secret)},
        )
        assert reply.status_code == 200, reply.text
        token: str = reply.json()["access_token"]
        return token

    async def sandbox_token(self) -> str:
        app = self.sandbox_app
        return await self.token(self.sandbox_client, app.consumer_key, app.consumer_secret)

    async def production_token(self) -> str:
        business = self.business
        return await self.token(
            self.production_client, business.consumer_key, business.consumer_secret
        )

    def platform_ca_pem(self) -> str:
        """Root and intermediate: what a business's listener trusts for pesabox's brokers."""
        with read_transaction(self.sandbox.engine) as conn:
            return pki_store.client_ca_pem(conn)


def prepare_databases(urls: EnvironmentUrls) -> tuple[SandboxCredentials, ProductionBusiness]:
    """Migrate and seed both databases as `pesabox migrate` and `seed` do, make the platform
    CA, and set up one production business."""
    now = time.time()
    platform_engine = make_engine(urls.platform)
    upgrade_to_head(platform_engine)
    with write_transaction(platform_engine) as conn:
        credentials = seed(conn, now=now, ledger=LedgerStore())
        pki_store.ensure_authority(conn, now=now)
    production_engine = make_engine(urls.production)
    upgrade_to_head(production_engine)
    with write_transaction(production_engine) as conn:
        seed_production(conn, now=now, ledger=LedgerStore())
        business = _production_business(conn, now=now)
    csr, key = make_csr()
    with write_transaction(platform_engine) as conn:
        signed = pki_store.load_authority(conn).sign_csr(
            csr,
            organisation_id=business.organisation_id,
            organisation_name=business.organisation_name,
            now=now,
        )
    platform_engine.dispose()
    production_engine.dispose()
    return credentials, replace(business, certificate=ClientCertificate(signed.pem, key_pem(key)))


def _production_business(conn: Connection, *, now: float) -> ProductionBusiness:
    name = "Duka La Mama Ltd"
    organisation = orgs_store.create_organisation(conn, name, now=now)
    passkey = secrets.token_hex(32)
    ledger = LedgerStore()
    paybill = ShortcodeSetup(
        "4100001", ShortcodeKind.PAYBILL, "Duka La Mama", TariffProfile.CUSTOMER_BOUQUET,
        frozenset({ApiService.C2B}), passkey=passkey,
    )  # fmt: skip
    payouts = ShortcodeSetup(
        "4100002", ShortcodeKind.PAYBILL, "Duka Payouts", TariffProfile.BUSINESS_BOUQUET,
        frozenset({ApiService.B2C}),
    )  # fmt: skip
    for setup in (paybill, payouts):
        orgs_store.add_shortcode(conn, setup, organisation=name, ledger=ledger, now=now)
    password = "Prod#Initiator1"
    operators_store.add_operator(
        conn,
        shortcode=payouts.shortcode,
        username="dukaapi",
        kind=OperatorKind.API,
        roles=[OperatorRole.B2C_INITIATOR],
        now=now,
        password=password,
    )
    key, secret = new_consumer_credentials()
    apps_store.insert_app(
        conn,
        name="duka-production",
        consumer_key=key,
        secret_digest=secret_digest(secret),
        products=ALL_PRODUCTS,
        now=now,
        organisation_id=organisation.id,
    )
    return ProductionBusiness(
        organisation_id=organisation.id,
        organisation_name=name,
        paybill=paybill.shortcode,
        passkey=passkey,
        b2c_shortcode=payouts.shortcode,
        initiator="dukaapi",
        initiator_password=password,
        consumer_key=key,
        consumer_secret=secret,
        certificate=None,
    )


def both_served_settings(urls: EnvironmentUrls, **overrides: Any) -> Settings:
    """The process's settings: the platform database, both environments served."""
    values: dict[str, Any] = {
        "database_url": urls.platform,
        "production_database_url": urls.production,
        "environments": "sandbox,production",
        "poll_interval_s": 0.05,
        "callback_backoff_base_s": 0.01,
        "callback_backoff_cap_s": 0.05,
        "customer_delay_s": 0,
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def running_environments(
    urls: EnvironmentUrls, settings: Settings
) -> AsyncIterator[Environments]:
    """Both apps as `pesabox serve` builds them (serving.environments), each on its test
    client: production.cer from production's database, callbacks presenting the brokers."""
    sandbox_credentials, business = prepare_databases(urls)
    served = build_environments(settings)
    sandbox, production = served["sandbox"], served["production"]
    production_tls = presenting(production.app, business.certificate)
    async with AsyncExitStack() as stack:
        sandbox_client = await stack.enter_async_context(
            AsyncTestClient(app=sandbox.app, base_url=SANDBOX_BASE_URL)  # type: ignore[arg-type]
        )
        production_client = await stack.enter_async_context(
            AsyncTestClient(app=production_tls, base_url=PRODUCTION_BASE_URL)  # type: ignore[arg-type]
        )
        yield Environments(
            sandbox=sandbox.platform,
            production=production.platform,
            sandbox_client=sandbox_client,
            production_client=production_client,
            sandbox_app=sandbox_credentials,
            business=business,
        )
