"""The developers' onboarding API end to end, through the app as served."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from pesabox.api.app import create_app
from tests.onboarding.conftest import PASSWORD, open_world
from tests.support import basic_auth

SIGN_UP = {
    "email": "api@shop.example",
    "name": "Api Dev",
    "phone": "254712345678",
    "password": PASSWORD,
}
DEVELOPER = {"Authorization": basic_auth("api@shop.example", PASSWORD)}


@pytest.fixture
async def client(
    tmp_path: Path, sqlite_templates: dict[str, object]
) -> AsyncIterator[AsyncTestClient[Any]]:
    for name in ("platform.db", "production.db"):
        shutil.copy(sqlite_templates["migrated"], tmp_path / name)  # type: ignore[arg-type]
    world = await open_world(
        f"sqlite:///{tmp_path}/platform.db", f"sqlite:///{tmp_path}/production.db"
    )
    app = create_app(world.sandbox.settings, platform=world.sandbox)
    app._app.state["onboarding"] = world.service  # type: ignore[attr-defined]
    try:
        async with AsyncTestClient(app=app) as test_client:  # type: ignore[arg-type]
            yield test_client
    finally:
        await world.production.stop()


def _is_envelope(body: dict[str, Any], code: str) -> None:
    assert set(body) == {"requestId", "errorCode", "errorMessage"}
    assert body["errorCode"] == code


async def test_sign_up_then_create_use_list_and_delete_an_app(
    client: AsyncTestClient[Any],
) -> None:
    reply = await client.post("/onboarding/v1/developers", json=SIGN_UP)
    assert reply.status_code == 201, reply.text
    assert reply.json()["email"] == "api@shop.example" and "password" not in reply.json()
    made = await client.post(
        "/onboarding/v1/apps",
        json={"name": "Shop", "products": ["mpesa_express"]},
        headers=DEVELOPER,
    )
    assert made.status_code == 201, made.text
    app = made.json()
    token = await client.get(
        "/oauth/v1/generate",
        params={"grant_type": "client_credentials"},
        headers={"Authorization": basic_auth(app["consumer_key"], app["consumer_secret"])},
    )
    assert token.status_code == 200, token.text
    listed = (await client.get("/onboarding/v1/apps", headers=DEVELOPER)).json()["apps"]
    assert [a["name"] for a in listed] == ["Shop"] and "consumer_secret" not in listed[0]
    deleted = await client.delete(f"/onboarding/v1/apps/{app['id']}", headers=DEVELOPER)
    assert deleted.status_code == 200, deleted.text
    again = await client.delete(f"/onboarding/v1/apps/{app['id']}", headers=DEVELOPER)
    _is_envelope(again.json(), "404.001.01")


async def test_refusals_are_daraja_shaped(client: AsyncTestClient[Any]) -> None:
    bad = await client.post("/onboarding/v1/developers", json={**SIGN_UP, "phone": "07123"})
    assert bad.status_code == 400
    _is_envelope(bad.json(), "400.002.02")
    assert "phone" in bad.json()["errorMessage"]
    garbage = await client.post(
        "/onboarding/v1/developers", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert garbage.status_code == 400
    _is_envelope(garbage.json(), "400.002.05")
    await client.post("/onboarding/v1/developers", json=SIGN_UP)
    taken = await client.post(
        "/onboarding/v1/developers", json={**SIGN_UP, "email": "API@shop.example"}
    )
    assert taken.status_code == 409
    _is_envelope(taken.json(), "409.001.01")
    for headers in (
        {},
        {"Authorization": "Basic !!!"},
        {"Authorization": basic_auth("api@shop.example", "Wr0ng#pass")},
    ):
        refused = await client.get("/onboarding/v1/apps", headers=headers)
        assert refused.status_code == 401
        _is_envelope(refused.json(), "401.002.01")
    products = await client.post(
        "/onboarding/v1/apps", json={"name": "X", "products": "teleport"}, headers=DEVELOPER
    )
    assert products.status_code == 400
    _is_envelope(products.json(), "400.002.02")
