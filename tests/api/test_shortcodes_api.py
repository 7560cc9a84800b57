"""Organisations and shortcodes through the sandbox control API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Gateway
from tests.support import stk_body

API = "/sandbox/v1"
PUSH = "/mpesa/stkpush/v1/processrequest"
PASSKEY = "acme-passkey"


def paybill(shortcode: str | int = "600100", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "shortcode": shortcode,
        "organisation": "Acme",
        "kind": "paybill",
        "name": "Acme PayBill",
        "tariff_profile": "customer_bouquet",
        "products": ["c2b", "b2b"],
    }
    return body | overrides


async def create_acme(gateway: Gateway) -> None:
    reply = await gateway.client.post(f"{API}/organisations", json={"name": "Acme"})
    assert reply.status_code == 201, reply.text


def assert_refused(reply: Any, status: int, code: str, message: str) -> None:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert body["errorCode"] == code and message in body["errorMessage"]
    assert body["requestId"]


async def test_organisations_create_and_list(gateway: Gateway) -> None:
    created = await gateway.client.post(f"{API}/organisations", json={"name": "Acme"})
    assert created.status_code == 201
    assert (created.json()["name"], created.json()["shortcodes"]) == ("Acme", [])
    listed = (await gateway.client.get(f"{API}/organisations")).json()["organisations"]
    seeded = next(o for o in listed if o["name"] == "Daraja Test Shop")
    assert [s["shortcode"] for s in seeded["shortcodes"]] == ["174380", "977380"]
    assert listed[-1]["name"] == "Acme"
    again = await gateway.client.post(f"{API}/organisations", json={"name": "Acme"})
    assert_refused(again, 409, "409.001.01", "an organisation named 'Acme' exists")
    blank = await gateway.client.post(f"{API}/organisations", json={"name": ""})
    assert_refused(blank, 400, "400.002.02", "organisation name must be 1 to 100")


async def test_add_shortcode_is_usable_at_once(gateway: Gateway) -> None:
    # The first push caches "no such merchant"; the set-up must clear that cache.
    before = await gateway.client.post(
        PUSH, json=stk_body(shortcode="600100", passkey=PASSKEY), headers=gateway.bearer
    )
    assert before.status_code == 500, before.text
    await create_acme(gateway)
    added = await gateway.client.post(
        f"{API}/shortcodes", json=paybill(shortcode=600100, passkey=PASSKEY)
    )
    assert added.status_code == 201, added.text
    assert added.json() == {
        "shortcode": "600100",
        "organisation": "Acme",
        "kind": "paybill",
        "name": "Acme PayBill",
        "tariff_profile": "customer_bouquet",
        "products": ["b2b", "c2b"],
        "store_shortcode": None,
        "validation_enabled": False,
        "passkey_set": True,
    }
    after = await gateway.client.post(
        PUSH, json=stk_body(shortcode="600100", passkey=PASSKEY), headers=gateway.bearer
    )
    assert after.status_code == 200, after.text
    listed = (await gateway.client.get(f"{API}/shortcodes")).json()["shortcodes"]
    assert "600100" in [s["shortcode"] for s in listed]


@pytest.mark.parametrize(
    ("overrides", "status", "code", "message"),
    [
        ({"products": ["c2b", "b2c"]}, 400, "400.002.02", "C2B and B2C cannot share a shortcode"),
        ({"products": ["c2b", "b2c", "b2b"]}, 400, "400.002.02", "C2B and B2C cannot share"),
        ({"products": ["sms"]}, 400, "400.002.02", "unknown API service 'sms'"),
        ({"kind": "till", "store_shortcode": "174380"}, 400, "400.002.02", "a till cannot have"),
        (
            {"kind": "till", "tariff_profile": "mauzo", "store_shortcode": "174380"},
            400,
            "400.002.02",
            "store 174380 belongs to another organisation",
        ),
        ({"shortcode": "12"}, 400, "400.002.02", "must be 5 to 7 digits"),
        ({"organisation": "Nobody"}, 404, "404.001.01", "no organisation named 'Nobody'"),
        ({"shortcode": "174379"}, 409, "409.001.01", "shortcode 174379 exists"),
        ({"products": "c2b"}, 400, "400.002.05", "Invalid Request Payload"),
    ],
)
async def test_add_shortcode_refused(
    gateway: Gateway, overrides: dict[str, Any], status: int, code: str, message: str
) -> None:
    await create_acme(gateway)
    reply = await gateway.client.post(f"{API}/shortcodes", json=paybill(**overrides))
    assert_refused(reply, status, code, message)
    listed = (await gateway.client.get(f"{API}/organisations")).json()["organisations"]
    assert listed[-1]["shortcodes"] == []


async def test_add_till_under_own_store(gateway: Gateway) -> None:
    await create_acme(gateway)
    store = paybill("600200", kind="store", tariff_profile="mauzo", products=["b2b"])
    assert (await gateway.client.post(f"{API}/shortcodes", json=store)).status_code == 201
    till = paybill("977400", kind="till", tariff_profile="mauzo", store_shortcode=600200)
    reply = await gateway.client.post(f"{API}/shortcodes", json=till)
    assert reply.status_code == 201, reply.text
    assert reply.json()["store_shortcode"] == "600200"


async def test_set_products(gateway: Gateway) -> None:
    path = f"{API}/shortcodes/600977/products"
    reply = await gateway.client.put(path, json={"products": ["b2c", "b2b"]})
    assert reply.status_code == 200, reply.text
    assert reply.json()["products"] == ["b2b", "b2c"]
    refused = await gateway.client.put(path, json={"products": ["b2c", "c2b"]})
    assert_refused(refused, 400, "400.002.02", "C2B and B2C cannot share a shortcode")
    unknown = await gateway.client.put(
        f"{API}/shortcodes/999999/products", json={"products": ["b2b"]}
    )
    assert_refused(unknown, 404, "404.001.01", "no shortcode 999999")
    listed = (await gateway.client.get(f"{API}/shortcodes")).json()["shortcodes"]
    assert next(s for s in listed if s["shortcode"] == "600977")["products"] == ["b2b", "b2c"]


async def test_set_validation(gateway: Gateway) -> None:
    path = f"{API}/shortcodes/600977/validation"
    first = await gateway.client.put(path, json={"enabled": True})
    assert first.json() == {"shortcode": "600977", "validation_enabled": True, "changed": True}
    again = await gateway.client.put(path, json={"enabled": True})
    assert again.json()["changed"] is False
    listed = (await gateway.client.get(f"{API}/shortcodes")).json()["shortcodes"]
    assert next(s for s in listed if s["shortcode"] == "600977")["validation_enabled"] is True
    off = await gateway.client.put(path, json={"enabled": False})
    assert off.json()["changed"] is True
    bad = await gateway.client.put(path, json={"enabled": "yes"})
    assert_refused(bad, 400, "400.002.05", "Invalid Request Payload")
    unknown = await gateway.client.put(
        f"{API}/shortcodes/999999/validation", json={"enabled": True}
    )
    assert_refused(unknown, 404, "404.001.01", "no shortcode 999999")
