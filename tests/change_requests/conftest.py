"""A platform database and a production database, the CRQ service over both, and one
business: organisation "Duka Bora Ltd" with PayBill 777001 in production, its Business
Administrator's phone, and the developer who owns it.

The business directory is a seam (onboarding owns the real one): a dict of businesses."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from pesabox.clock import FixedClock
from pesabox.core.change_requests import ChangeRequestService, Environment
from pesabox.core.crq_certificates import PlatformCa
from pesabox.domain import change_requests as crq
from pesabox.domain.change_requests import Actor, ActorKind, Business, ChangeRequest
from pesabox.domain.products import Product
from pesabox.storage import apps_store, pki_store
from pesabox.storage.db import make_engine, write_transaction
from pesabox.storage.migrate import upgrade_to_head
from pesabox.storage.tables import organisations, shortcodes, sms_messages
from pesabox.storage.types import Connection
from pesabox.storage.writer import LedgerWriter
from tests.databases import fresh_postgres_url

ORGANISATION_NAME = "Duka Bora Ltd"
SHORTCODE = "777001"
ADMIN_PHONE = "254712345678"
DEVELOPER_ID = 41
DEVELOPER = Actor(ActorKind.DEVELOPER, "41")
OPERATOR = Actor(ActorKind.PLATFORM_OPERATOR, "ops.jane")
OTHER_OPERATOR = Actor(ActorKind.PLATFORM_OPERATOR, "ops.otieno")


class Directory:
    def __init__(self) -> None:
        self.businesses: dict[int, Business] = {}

    def business_of(self, conn: Connection, organisation_id: int) -> Business | None:
        return self.businesses.get(organisation_id)


@dataclass
class World:
    service: ChangeRequestService
    platform: Engine
    production: Engine
    wall: FixedClock
    business: Business
    directory: Directory

    async def submit(self, payload: crq.Payload, **overrides: object) -> ChangeRequest:
        arguments: dict[str, object] = {
            "requester": DEVELOPER,
            "organisation_id": self.business.organisation_id,
            "shortcode": SHORTCODE,
            "payload": payload,
            "developer_id": DEVELOPER_ID,
        }
        arguments.update(overrides)
        return await self.service.submit(**arguments)  # type: ignore[arg-type]

    async def in_review(self, payload: crq.Payload) -> ChangeRequest:
        request = await self.submit(payload)
        return await self.service.review(request.number, OPERATOR)

    def inbox(self, msisdn: str = ADMIN_PHONE) -> list[str]:
        with self.platform.connect() as conn:
            rows = conn.execute(
                select(sms_messages.c.body)
                .where(sms_messages.c.msisdn == msisdn)
                .order_by(sms_messages.c.id)
            )
            return [row[0] for row in rows]

    def give_production_app(self) -> int:
        """A production app of the business, as a go-live would have made it."""
        with write_transaction(self.production) as conn:
            return apps_store.insert_app(
                conn, name="Duka live", consumer_key="k" * 48, secret_digest="d" * 64,
                products=frozenset({Product.C2B}), now=0.0,
                organisation_id=self.business.organisation_id,
            )  # fmt: skip

    def last_code(self) -> str:
        return self.inbox()[-1][:6]


@pytest.fixture
def production_engine(
    database_url: str, sqlite_templates: dict[str, object], tmp_path: Path
) -> Iterator[Engine]:
    """A second migrated database beside the `engine` fixture's, of the same kind."""
    if database_url.startswith("sqlite"):
        path = tmp_path / "production.db"
        shutil.copy(sqlite_templates["migrated"], path)  # type: ignore[arg-type]
        engine = make_engine(f"sqlite:///{path}", pool_size=4)
        yield engine
        engine.dispose()
        return
    with fresh_postgres_url() as url:
        engine = make_engine(url, pool_size=4)
        upgrade_to_head(engine)
        yield engine
        engine.dispose()


def _production_business(engine: Engine) -> int:
    with write_transaction(engine) as conn:
        result = conn.execute(organisations.insert().values(name=ORGANISATION_NAME, created_at=0))
        organisation_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        conn.execute(
            shortcodes.insert().values(
                shortcode=SHORTCODE, organisation_id=organisation_id, kind="paybill",
                name="Duka Bora", tariff_profile="customer_bouquet", created_at=0,
                products="c2b",
            )
        )  # fmt: skip
    return organisation_id


@pytest.fixture
async def world(engine: Engine, production_engine: Engine) -> AsyncIterator[World]:
    organisation_id = _production_business(production_engine)
    with write_transaction(engine) as conn:
        pki_store.ensure_authority(conn, now=1_764_300_000.0)
    business = Business(
        organisation_id=organisation_id, name=ORGANISATION_NAME, shortcodes=(SHORTCODE,),
        admin_username="duka.admin", admin_phone=ADMIN_PHONE, developer_id=DEVELOPER_ID,
    )  # fmt: skip
    directory = Directory()
    directory.businesses[organisation_id] = business
    wall = FixedClock()
    platform_writer, production_writer = LedgerWriter(engine), LedgerWriter(production_engine)
    service = ChangeRequestService(
        platform=Environment(engine=engine, writer=platform_writer, clock=FixedClock()),
        production=Environment(
            engine=production_engine, writer=production_writer, clock=FixedClock()
        ),
        businesses=directory,
        certificates=PlatformCa(),
        wall_clock=wall,
    )
    yield World(service, engine, production_engine, wall, business, directory)
    await platform_writer.close()
    await production_writer.close()
