"""Two Platforms on two databases (the platform database, which is the sandbox's, and the
production one) and the onboarding service over them, as `pesabox serve` wires them."""

from __future__ import annotations

import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pesabox.clock import FixedClock
from pesabox.core.onboarding import OnboardingService
from pesabox.core.platform import Platform
from pesabox.domain.onboarding.documents import REQUIRED_DOCUMENTS, BusinessType, Upload
from pesabox.settings import Settings
from pesabox.storage import customer_store
from pesabox.storage.applications_store import ApplicationRecord
from pesabox.storage.customer_store import NewCustomer
from pesabox.storage.db import make_engine, write_transaction
from pesabox.storage.onboarding_store import DeveloperRecord, PlatformOperatorRecord
from pesabox.storage.types import Engine

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
PASSWORD = "Kiosk#Sale2026"  # noqa: S105 - a test value
OPERATOR_PASSWORD = "Review3r#2026"  # noqa: S105 - a test value


@dataclass
class World:
    service: OnboardingService
    sandbox: Platform
    production: Platform
    clock: FixedClock
    wall_clock: FixedClock


async def open_world(sandbox_url: str, production_url: str) -> World:
    settings = Settings(database_url=sandbox_url, poll_interval_s=0.05)
    sandbox = Platform(settings, engine=make_engine(sandbox_url, pool_size=4))
    production_settings = settings.model_copy(
        update={"environment": "production", "database_url": production_url}
    )
    production = Platform(production_settings, engine=make_engine(production_url, pool_size=4))
    clock = FixedClock(time.time())
    wall_clock = FixedClock(time.time())
    service = OnboardingService(
        engine=sandbox.engine,
        writer=sandbox.writer,
        clock=clock,
        sandbox=sandbox,
        production=production,
        settings=settings,
        wall_clock=wall_clock,
    )
    simulated_phones(sandbox.engine, ADMIN_PHONES)
    return World(service, sandbox, production, clock, wall_clock)


# The Business Administrators' phones the tests use: simulated customers, as submission asks.
ADMIN_PHONES = ("254722111222", "254733000111")


def simulated_phones(engine: Engine, numbers: tuple[str, ...]) -> None:
    # Straight to the table, not through the Platform's writer: its task would be bound to
    # this loop, and tests that serve the app start the Platform on another.
    with write_transaction(engine) as conn:
        for msisdn in numbers:
            customer_store.insert_customer(
                conn,
                NewCustomer(msisdn, "Admin Phone", "unused-pin-digest", "30123456", "prepay"),
                now=time.time(),
            )


@pytest.fixture
async def world(tmp_path: Path, sqlite_templates: dict[str, object]) -> AsyncIterator[World]:
    for name in ("platform.db", "production.db"):
        shutil.copy(sqlite_templates["migrated"], tmp_path / name)  # type: ignore[arg-type]
    opened = await open_world(
        f"sqlite:///{tmp_path}/platform.db", f"sqlite:///{tmp_path}/production.db"
    )
    yield opened
    await opened.sandbox.stop()
    await opened.production.stop()


async def developer(world: World, email: str = "dev@shop.example") -> DeveloperRecord:
    return await world.service.accounts.sign_up(
        email=email, name="Wanjiru Dev", phone="254712345678", password=PASSWORD
    )


async def operator(world: World, username: str = "reviewer") -> PlatformOperatorRecord:
    return await world.service.accounts.create_platform_operator(
        username=username, name="Review Er", password=OPERATOR_PASSWORD
    )


def uploads_for(business_type: BusinessType) -> list[Upload]:
    return [
        Upload(kind.value, f"{kind.value}.pdf", "application/pdf", PDF)
        for kind in REQUIRED_DOCUMENTS[business_type]
    ]


def form(**overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "kind": "paybill",
        "business_type": "limited_company",
        "organisation_name": "Mama Mboga Ltd",
        "trading_name": "Mama Mboga",
        "kra_pin": "P051234567X",
        "bank": {
            "bank_name": "KCB",
            "branch": "Moi Avenue",
            "account_number": "1234567890",
            "account_name": "Mama Mboga Ltd",
        },
        "administrator": {
            "name": "Achieng Admin",
            "username": "achieng",
            "phone": "254722111222",
            "email": "achieng@mboga.example",
        },
    }
    fields.update(overrides)
    if "uploads" not in fields:
        fields["uploads"] = uploads_for(BusinessType(str(fields["business_type"])))
    return fields


async def submitted(world: World, owner: DeveloperRecord, **overrides: object) -> ApplicationRecord:
    return await world.service.applications.submit(owner, **form(**overrides))  # type: ignore[arg-type]


async def approved(
    world: World, owner: DeveloperRecord, reviewer: PlatformOperatorRecord, **overrides: object
) -> ApplicationRecord:
    application = await submitted(world, owner, **overrides)
    await world.service.applications.start_review(reviewer, application.id)
    return await world.service.applications.approve(reviewer, application.id)
