"""The onboarding pages over HTTP, against the sandbox app of a process that serves both
environments: two Platforms on two SQLite files (the platform database seeded like the
sandbox, with the platform CA; production's migrated), and the onboarding services over both
as `serving` builds them, with settable platform and wall clocks."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from pesabox.api.app import create_app
from pesabox.clock import FixedClock
from pesabox.core.change_requests import (
    ChangeRequestService,
    Environment,
    OnboardedBusinesses,
)
from pesabox.core.crq_certificates import PlatformCa
from pesabox.core.onboarding import OnboardingService
from pesabox.core.onboarding_services import OnboardingServices
from pesabox.core.platform import Platform
from pesabox.domain.onboarding.documents import REQUIRED_DOCUMENTS, BusinessType
from pesabox.security.credentials import pin_digest
from pesabox.settings import Settings
from pesabox.storage import onboarding_store, pki_store
from pesabox.storage.db import make_engine, write_transaction
from pesabox.storage.migrate import upgrade_to_head
from tests.environments.databases import EnvironmentUrls, fresh_environment_urls
from tests.support import seed_database

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PASSWORD = "Kiosk#Sale2026"  # noqa: S105 - a test value
OPERATOR = "reviewer"
OPERATOR_PASSWORD = "Review3r#2026"  # noqa: S105 - a test value
# A seeded customer: the Business Administrator's phone, whose inbox gets the go-live code.
ADMIN_PHONE = "254708374149"
_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
_CODE = re.compile(r"(\d{6}) is your Daraja Go Live code for (CRQ\d{12})")


@dataclass
class World:
    services: OnboardingServices
    sandbox: Platform
    production: Platform
    clock: FixedClock
    wall_clock: FixedClock


def _services(
    sandbox: Platform, production: Platform, clock: FixedClock, wall: FixedClock
) -> OnboardingServices:
    onboarding = OnboardingService(
        engine=sandbox.engine, writer=sandbox.writer, clock=clock, sandbox=sandbox,
        production=production, settings=sandbox.settings, wall_clock=wall,
    )  # fmt: skip
    change_requests = ChangeRequestService(
        platform=Environment.of(sandbox), production=Environment.of(production),
        businesses=OnboardedBusinesses(), certificates=PlatformCa(), wall_clock=wall,
    )  # fmt: skip
    return OnboardingServices(onboarding, change_requests, sandbox.engine)


def _prepare(kind: str, urls: EnvironmentUrls, templates: dict[str, object]) -> None:
    """The platform database seeded like the sandbox, with the platform CA; production's
    migrated. SQLite copies the session's template files; PostgreSQL migrates and seeds."""
    if kind == "sqlite":
        shutil.copy(templates["seeded"], urls.platform.removeprefix("sqlite:///"))  # type: ignore[arg-type]
        shutil.copy(templates["migrated"], urls.production.removeprefix("sqlite:///"))  # type: ignore[arg-type]
    for url in (urls.platform, urls.production):
        engine = make_engine(url)
        if kind != "sqlite":
            upgrade_to_head(engine)
        if url == urls.platform:
            if kind != "sqlite":
                seed_database(engine)
            with write_transaction(engine) as conn:
                pki_store.ensure_authority(conn, now=time.time())
        engine.dispose()


@pytest.fixture
async def world(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_templates: dict[str, object]
) -> AsyncIterator[World]:
    """SQLite unless a test asks for PostgreSQL (`parametrize("world", ..., indirect=True)`)."""
    kind = getattr(request, "param", "sqlite")
    with fresh_environment_urls(kind, str(tmp_path)) as urls:
        _prepare(kind, urls, sqlite_templates)
        settings = Settings(
            database_url=urls.platform, poll_interval_s=0.05, web_cookie_secure=False
        )
        sandbox = Platform(settings, engine=make_engine(urls.platform, pool_size=4))
        production = Platform(
            settings.model_copy(
                update={"environment": "production", "database_url": urls.production}
            ),
            engine=make_engine(urls.production, pool_size=4),
        )
        clock, wall = FixedClock(time.time()), FixedClock(time.time())
        yield World(_services(sandbox, production, clock, wall), sandbox, production, clock, wall)
        await sandbox.stop()
        await production.stop()
        sandbox.engine.dispose()
        production.engine.dispose()


@pytest.fixture
async def client(world: World) -> AsyncIterator[Any]:
    app = create_app(world.sandbox.settings, platform=world.sandbox, onboarding=world.services)
    async with AsyncTestClient(app=app) as running:  # type: ignore[type-var]
        yield running


@pytest.fixture
def operator(world: World) -> None:
    """A platform operator, written straight into the platform database (the service's
    writer runs on the app's own loop, which the test client keeps to itself)."""
    with write_transaction(world.sandbox.engine) as conn:
        onboarding_store.add_platform_operator(
            conn, username=OPERATOR, name="Review Er",
            password_digest=pin_digest(OPERATOR_PASSWORD), now=time.time(),
        )  # fmt: skip


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


async def post_form(client: Any, page_url: str, action: str, **fields: Any) -> Any:
    """Open `page_url` (for its CSRF token) and post the form fields to `action`."""
    page = await client.get(page_url)
    assert page.status_code == 200, page.text
    return await client.post(action, data={"_csrf_token": csrf_of(page.text), **fields})


async def sign_up(client: Any, email: str = "dev@shop.example") -> Any:
    reply = await post_form(
        client, "/ui/dev/signup", "/ui/dev/signup",
        email=email, name="Wanjiru Dev", phone="254712345678", password=PASSWORD,
    )  # fmt: skip
    assert reply.status_code == 200, reply.text
    return reply


async def sign_in_operator(client: Any) -> None:
    reply = await post_form(
        client, "/ui/admin/login", "/ui/admin/login", username=OPERATOR, password=OPERATOR_PASSWORD
    )
    assert reply.status_code == 200 and "Queues" in reply.text, reply.text


def application_fields(**overrides: str) -> dict[str, str]:
    fields = {
        "business_type": "limited_company", "kind": "paybill",
        "organisation_name": "Mama Mboga Ltd", "trading_name": "Mama Mboga",
        "kra_pin": "P051234567X", "bank_name": "KCB", "branch": "Moi Avenue",
        "account_number": "1234567890", "account_name": "Mama Mboga Ltd",
        "admin_name": "Achieng Admin", "admin_username": "achieng",
        "admin_phone": ADMIN_PHONE, "admin_email": "achieng@mboga.example",
    }  # fmt: skip
    fields.update(overrides)
    return fields


def document_files(
    business_type: str = "limited_company", *, skip: str = "", data: bytes = PDF
) -> dict[str, tuple[str, bytes, str]]:
    return {
        kind.value: (f"{kind.value}.pdf", data, "application/pdf")
        for kind in REQUIRED_DOCUMENTS[BusinessType(business_type)]
        if kind.value != skip
    }


async def apply(client: Any, files: dict[str, Any] | None = None, **overrides: str) -> Any:
    """Send the application form (multipart) with its CSRF token."""
    fields = application_fields(**overrides)
    page = await client.get(f"/ui/dev/applications/new?business_type={fields['business_type']}")
    assert page.status_code == 200, page.text
    return await client.post(
        "/ui/dev/applications",
        data={"_csrf_token": csrf_of(page.text), **fields},
        files=files if files is not None else document_files(fields["business_type"]),
    )


def go_live_code(phone_page: str) -> tuple[str, str]:
    """The newest go-live code in a handset's inbox, and the CRQ it is for."""
    found = _CODE.search(phone_page)
    assert found, "no go-live code on the phone"
    return found.group(1), found.group(2)
