"""The change-request API under /onboarding/v1/change-requests: HTTP Basic as the developer,
Daraja-shaped errors, a developer sees only its own CRQs."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.datastructures import State
from litestar.exceptions import HTTPException

from pesabox.api.handlers import http_error_handler, pesa_error_handler, unexpected_error_handler
from pesabox.api.routes.change_requests import change_requests_router
from pesabox.api.routes.onboarding import ONBOARDING_STATE
from pesabox.core.onboarding import OnboardingService
from pesabox.core.onboarding_services import OnboardingServices
from pesabox.core.platform import Platform
from pesabox.domain import change_requests as crq
from pesabox.errors import PesaError
from pesabox.settings import Settings
from pesabox.storage.writer import LedgerWriter
from tests.change_requests.conftest import OPERATOR, ORGANISATION_NAME, SHORTCODE, World
from tests.security.pki_helpers import make_csr
from tests.support import basic_auth

BASE = "/onboarding/v1/change-requests"
EMAIL, PASSWORD = "wanjiku@duka.example", "Duka#Bora2026"


@dataclass
class Api:
    client: httpx.AsyncClient
    world: World
    auth: dict[str, str]

    async def post(self, path: str, body: dict[str, Any], **kw: Any) -> Any:
        return await self.client.post(BASE + path, json=body, headers=kw.get("headers", self.auth))

    async def get(self, path: str, **kw: Any) -> Any:
        return await self.client.get(BASE + path, headers=kw.get("headers", self.auth))

    def body(self, kind: str, **fields: Any) -> dict[str, Any]:
        organisation_id = self.world.business.organisation_id
        return {"kind": kind, "organisation_id": organisation_id, "shortcode": SHORTCODE, **fields}


@pytest.fixture
async def api(world: World, database_url: str) -> AsyncIterator[Api]:
    production = Platform(Settings(database_url=database_url), engine=world.production)
    writer = LedgerWriter(world.platform)
    onboarding = OnboardingService(
        engine=world.platform, writer=writer, clock=world.wall,
        sandbox=None, production=production, settings=production.settings,
    )  # fmt: skip
    developer = await onboarding.accounts.sign_up(
        email=EMAIL, name="Wanjiku Kamau", phone="254711222333", password=PASSWORD
    )
    organisation_id = world.business.organisation_id
    world.business = dataclasses.replace(world.business, developer_id=developer.id)
    world.directory.businesses[organisation_id] = world.business
    services = OnboardingServices(
        onboarding=onboarding, change_requests=world.service, platform_engine=world.platform
    )
    app = Litestar(
        route_handlers=[change_requests_router],
        exception_handlers={
            PesaError: pesa_error_handler,
            HTTPException: http_error_handler,
            Exception: unexpected_error_handler,
        },
        state=State({ONBOARDING_STATE: services}),
    )
    # The app runs on the test's own event loop (ASGITransport), as the service's writers do.
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, world, {"Authorization": basic_auth(EMAIL, PASSWORD)})
    await writer.close()
    await production.stop()


def _error(reply: Any, status: int, code: str) -> str:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert set(body) == {"requestId", "errorCode", "errorMessage"}
    assert body["errorCode"] == code
    return str(body["errorMessage"])


LIVE = {"kind": "go_live", "app_name": "S", "products": ["c2b"]}
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def test_go_live_through_the_api(api: Api) -> None:
    reply = await api.post("/", api.body("go_live", app_name="Duka Shop", products=["c2b"]))
    assert reply.status_code == 201, reply.text
    created = reply.json()
    number = created["number"]
    assert (created["kind"], created["state"]) == ("go_live", "submitted")
    assert created["trail"][0]["action"] == "submit"
    await api.world.service.review(number, OPERATOR)
    await api.world.service.approve(number, OPERATOR)
    wrong = await api.post(
        f"/{number}/confirm", {"code": "000000" if api.world.last_code() != "000000" else "111111"}
    )
    assert "wrong" in _error(wrong, 403, "403.001.01")
    confirmed = await api.post(f"/{number}/confirm", {"code": api.world.last_code()})
    assert confirmed.status_code == 200, confirmed.text
    keys = confirmed.json()
    assert len(keys["consumer_key"]) == 48 and len(keys["consumer_secret"]) == 64
    shown = (await api.get(f"/{number}")).json()
    assert (shown["state"], shown["app_consumer_key"]) == ("implemented", keys["consumer_key"])
    assert "consumer_secret" not in str(shown)
    again = await api.post(f"/{number}/confirm", {"code": api.world.last_code()})
    _error(again, 409, "409.001.01")


@SQLITE
async def test_new_code_through_the_api(api: Api) -> None:
    reply = await api.post("/", api.body("go_live", app_name="Duka Shop", products=["b2c"]))
    number = reply.json()["number"]
    early = await api.post(f"/{number}/code", {})
    _error(early, 409, "409.001.01")
    await api.world.service.review(number, OPERATOR)
    await api.world.service.approve(number, OPERATOR)
    sent = await api.post(f"/{number}/code", {})
    assert sent.status_code == 202
    assert len(api.world.inbox()) == 2


@SQLITE
async def test_certificate_through_the_api(api: Api) -> None:
    csr, _ = make_csr(organisation=ORGANISATION_NAME)
    reply = await api.post("/", api.body("certificate", csr=csr))
    assert reply.status_code == 201, reply.text
    number = reply.json()["number"]
    missing = await api.get(f"/{number}/certificate")
    assert "no signed certificate" in _error(missing, 400, "400.002.02")
    await api.world.service.review(number, OPERATOR)
    await api.world.service.approve(number, OPERATOR)
    pem = await api.get(f"/{number}/certificate")
    assert pem.status_code == 200
    assert pem.headers["content-type"].startswith("application/x-pem-file")
    assert pem.text.startswith("-----BEGIN CERTIFICATE-----")


@SQLITE
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "teleport"}, "kind must be"),
        ({"kind": "go_live", "app_name": "Shop", "products": "c2b"}, "products must be a list"),
        ({"kind": "go_live", "app_name": 5, "products": ["c2b"]}, "app_name is required"),
        ({**LIVE, "organisation_id": "1"}, "organisation_id"),
        ({**LIVE, "shortcode": "12"}, "shortcode"),
        ({**LIVE, "shortcode": "600000"}, "is not Duka"),
        (
            {
                "kind": "url_change", "ConfirmationURL": "http://a.example/c",
                "ValidationURL": "https://a.example/v", "ResponseType": "Completed",
            },
            "https",
        ),
        ({"kind": "url_change"}, "ConfirmationURL is required"),
        ({"kind": "certificate", "csr": "hello"}, "PEM certificate request"),
        ({"kind": "certificate", "csr": make_csr(organisation="Other Ltd")[0]}, "CSR is refused"),
    ],
)  # fmt: skip
async def test_bad_bodies_are_daraja_shaped_and_make_nothing(
    api: Api, fields: dict[str, Any], message: str
) -> None:
    reply = await api.post("/", {**api.body("go_live"), **fields})
    assert message in _error(reply, 400, "400.002.02")
    assert await api.world.service.queue() == []


@SQLITE
async def test_not_json_is_an_invalid_payload(api: Api) -> None:
    reply = await api.client.post(
        BASE + "/", content=b"{nope", headers={**api.auth, "content-type": "application/json"}
    )
    _error(reply, 400, "400.002.05")


@SQLITE
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer abc",
        basic_auth(EMAIL, "wrong-password"),
        basic_auth("who@x.example", PASSWORD),
    ],
)
async def test_authentication_is_required(api: Api, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    reply = await api.post(
        "/", api.body("go_live", app_name="S", products=["c2b"]), headers=headers
    )
    _error(reply, 401, "401.002.01")


@SQLITE
async def test_unknown_and_other_developers_crqs_are_not_found(api: Api) -> None:
    _error(await api.get("/CRQ000000000000"), 404, "404.001.01")
    _error(await api.get("/rubbish"), 404, "404.001.01")
    # A CRQ of another developer (raised directly through the service).
    other = await api.world.service.submit(
        requester=OPERATOR, organisation_id=api.world.business.organisation_id,
        shortcode=SHORTCODE, payload=crq.go_live("X", ["c2b"]),
    )  # fmt: skip
    _error(await api.get(f"/{other.number}"), 404, "404.001.01")


@SQLITE
async def test_comment_and_withdraw_through_the_api(api: Api) -> None:
    reply = await api.post("/", api.body("go_live", app_name="Duka Shop", products=["c2b"]))
    number = reply.json()["number"]
    commented = await api.post(f"/{number}/comments", {"text": "Test results attached"})
    assert commented.status_code == 201, commented.text
    assert (commented.json()["action"], commented.json()["text"]) == (
        "comment", "Test results attached",
    )  # fmt: skip
    assert "comment is required" in _error(
        await api.post(f"/{number}/comments", {"text": 7}), 400, "400.002.02"
    )
    withdrawn = await api.post(f"/{number}/withdraw", {})
    assert withdrawn.json()["state"] == "withdrawn"
    assert [e["action"] for e in withdrawn.json()["trail"]] == ["submit", "comment", "withdraw"]
    _error(await api.post(f"/{number}/withdraw", {}), 409, "409.001.01")
