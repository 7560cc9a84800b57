from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select

from pesabox.clock import eat_datetime
from pesabox.domain.products import Product
from pesabox.domain.pull_transactions import PAGE_SIZE
from pesabox.security.credentials import new_consumer_credentials, secret_digest
from pesabox.storage import apps_store
from pesabox.storage.db import read_transaction, write_transaction
from pesabox.storage.tables import c2b_payments, pull_registrations
from tests.api.conftest import Gateway
from tests.support import basic_auth

REGISTER = "/pulltransactions/v1/register"
QUERY = "/pulltransactions/v1/query"
HOUR_S = 3600.0
NOT_REGISTERED = "Bad Request - Invalid ShortCode - ShortCode not registered for Pull"


def register_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "ShortCode": "600000",
        "RequestType": "Pull",
        "NominatedNumber": "0722000000",
        "CallBackURL": "https://shop.example/pull",
    }
    return {**body, **overrides}


def pull_date(epoch_s: float) -> str:
    """The request's form, with Daraja's one-digit hour where the hour allows it."""
    moment = eat_datetime(epoch_s)
    return f"{moment:%Y-%m-%d} {moment.hour}:{moment:%M:%S}"


def utc_text(epoch_s: float) -> str:
    return datetime.fromtimestamp(int(epoch_s), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def query_body(now: float, **overrides: Any) -> dict[str, Any]:
    body = {
        "ShortCode": "600000",
        "StartDate": pull_date(now - 47 * HOUR_S),
        "EndDate": pull_date(now + 60),
        "OffSetValue": "0",
    }
    return {**body, **overrides}


def insert_payment(
    engine: Engine,
    *,
    trans_id: str,
    completed_at: float,
    shortcode: str = "600000",
    status: str = "completed",
    transaction_type: str = "Pay Bill",
    amount_cents: int = 16_800,
    bill_ref: str = "INV001",
) -> None:
    """A C2B payment row as the C2B service leaves it, written straight to the table."""
    with write_transaction(engine) as conn:
        conn.execute(
            c2b_payments.insert().values(
                trans_id=trans_id,
                shortcode=shortcode,
                transaction_type=transaction_type,
                channel="simulate",
                msisdn="254722000000",
                amount_cents=amount_cents,
                bill_ref_number=bill_ref,
                first_name="Peter",
                middle_name="",
                last_name="Otieno",
                status=status,
                created_at=completed_at - 2,
                completed_at=completed_at if status == "completed" else None,
            )
        )


async def register(gateway: Gateway, **overrides: Any) -> dict[str, Any]:
    reply = await gateway.client.post(
        REGISTER, json=register_body(**overrides), headers=gateway.bearer
    )
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


async def query(gateway: Gateway, body: dict[str, Any]) -> dict[str, Any]:
    reply = await gateway.client.post(QUERY, json=body, headers=gateway.bearer)
    assert reply.status_code == 200, reply.text
    result: dict[str, Any] = reply.json()
    return result


async def token_for_new_app(gateway: Gateway, products: frozenset[Product]) -> dict[str, str]:
    key, secret = new_consumer_credentials()
    with write_transaction(gateway.platform.engine) as conn:
        apps_store.insert_app(
            conn,
            name=f"app-{key[:6]}",
            consumer_key=key,
            secret_digest=secret_digest(secret),
            products=products,
            now=0,
        )
    reply = await gateway.client.get(
        "/oauth/v1/generate",
        params={"grant_type": "client_credentials"},
        headers={"Authorization": basic_auth(key, secret)},
    )
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


# --- register -------------------------------------------------------------------------


async def test_register_registers_then_reports_already_registered(gateway: Gateway) -> None:
    first = await register(gateway)
    assert set(first) == {"ResponseRefID", "ResponseStatus", "ShortCode", "ResponseDescription"}
    assert first["ResponseStatus"] == "1000"
    assert first["ResponseDescription"] == "Shortcode Registered Successfully"
    assert first["ShortCode"] == "600000"
    uuid.UUID(first["ResponseRefID"])

    again = await register(gateway, CallBackURL="https://other.example/pull")
    assert again["ResponseStatus"] == "1001"
    assert again["ResponseDescription"] == "ShortCode already Registered"
    assert again["ResponseRefID"] == first["ResponseRefID"]

    with read_transaction(gateway.platform.engine) as conn:
        row = conn.execute(select(pull_registrations)).one()
    # The first registration stands, its number stored in full international form.
    assert row.callback_url == "https://shop.example/pull"
    assert row.nominated_number == "254722000000"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ShortCode": "12ab"}, "ShortCode"),
        ({"ShortCode": None}, "ShortCode"),
        ({"ShortCode": "123456"}, "ShortCode"),
        ({"RequestType": "Push"}, "RequestType"),
        ({"RequestType": None}, "RequestType"),
        ({"NominatedNumber": "+254722000000"}, "NominatedNumber"),
        ({"NominatedNumber": "0622000000"}, "NominatedNumber"),
        ({"NominatedNumber": "722000000"}, "NominatedNumber"),
        ({"CallBackURL": "not a url"}, "CallBackURL"),
        ({"CallBackURL": None}, "CallBackURL"),
    ],
)
async def test_register_refuses_bad_fields(
    gateway: Gateway, overrides: dict[str, Any], field: str
) -> None:
    reply = await gateway.client.post(
        REGISTER, json=register_body(**overrides), headers=gateway.bearer
    )
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == "400.002.02"
    assert reply.json()["errorMessage"] == f"Bad Request - Invalid {field}"


async def test_register_accepts_full_nominated_number(gateway: Gateway) -> None:
    assert (await register(gateway, NominatedNumber=254722000000))["ResponseStatus"] == "1000"


# --- query ----------------------------------------------------------------------------


async def test_query_returns_completed_payments_in_daraja_shape(gateway: Gateway) -> None:
    engine, now = gateway.platform.engine, gateway.platform.clock.now()
    await register(gateway)
    insert_payment(engine, trans_id="UAB0000002", completed_at=now - 60, bill_ref="B")
    insert_payment(engine, trans_id="UAB0000001", completed_at=now - 120, bill_ref="A")
    insert_payment(engine, trans_id="UAB0000003", completed_at=now - 30, status="cancelled")
    insert_payment(engine, trans_id="UAB0000004", completed_at=now - 30, shortcode="600977")

    body = await query(gateway, query_body(now))

    assert set(body) == {"ResponseRefID", "ResponseCode", "ResponseMessage", "Response"}
    assert (body["ResponseCode"], body["ResponseMessage"]) == ("1000", "Success")
    assert len(body["Response"]) == 1
    rows = body["Response"][0]
    assert [row["transactionId"] for row in rows] == ["UAB0000001", "UAB0000002"]
    assert rows[0] == {
        "transactionId": "UAB0000001",
        "trxDate": utc_text(now - 120),
        "msisdn": 254722000000,
        "sender": "Peter Otieno",
        "transactiontype": "c2b-pay-bill-debit",
        "billreference": "A",
        "amount": "168.00",
        "organizationname": "Safaricom Daraja 000",
    }


async def test_query_pulls_a_stores_till_payments_as_buy_goods(gateway: Gateway) -> None:
    engine, now = gateway.platform.engine, gateway.platform.clock.now()
    await register(gateway, ShortCode="174380")
    insert_payment(
        engine,
        trans_id="UAB0000010",
        completed_at=now - 60,
        shortcode="977380",
        transaction_type="Buy Goods",
        bill_ref="",
    )
    rows = (await query(gateway, query_body(now, ShortCode="174380")))["Response"][0]
    assert [(row["transactionId"], row["transactiontype"]) for row in rows] == [
        ("UAB0000010", "c2b-buy-goods-debit")
    ]
    assert rows[0]["organizationname"] == "Daraja Test Shop"
    assert rows[0]["billreference"] == ""


async def test_query_pages_by_row_offset(gateway: Gateway) -> None:
    engine, now = gateway.platform.engine, gateway.platform.clock.now()
    await register(gateway)
    total = PAGE_SIZE + 5
    for n in range(total):
        insert_payment(engine, trans_id=f"UAC{n:07d}", completed_at=now - 3600 + n)

    pages = []
    for offset in (0, PAGE_SIZE, 3):
        body = await query(gateway, query_body(now, OffSetValue=str(offset)))
        pages.append([row["transactionId"] for row in body["Response"][0]])

    assert pages[0] == [f"UAC{n:07d}" for n in range(PAGE_SIZE)]
    assert pages[1] == [f"UAC{n:07d}" for n in range(PAGE_SIZE, total)]
    assert pages[2][0] == "UAC0000003"
    past_the_end = await query(gateway, query_body(now, OffSetValue=total))
    assert past_the_end["ResponseCode"] == "1001"


async def test_query_serves_only_the_last_48_hours(gateway: Gateway) -> None:
    engine, now = gateway.platform.engine, gateway.platform.clock.now()
    await register(gateway)
    insert_payment(engine, trans_id="UAB0000020", completed_at=now - 49 * HOUR_S)
    insert_payment(engine, trans_id="UAB0000021", completed_at=now - 47 * HOUR_S)
    insert_payment(engine, trans_id="UAB0000022", completed_at=now - 2 * HOUR_S)
    # Older than the window and after EndDate: both left out although StartDate covers them.
    body = query_body(
        now, StartDate=pull_date(now - 7 * 24 * HOUR_S), EndDate=pull_date(now - HOUR_S * 1.5)
    )
    rows = (await query(gateway, body))["Response"][0]
    assert [row["transactionId"] for row in rows] == ["UAB0000021", "UAB0000022"]


async def test_query_window_follows_the_sandbox_clock(gateway: Gateway) -> None:
    engine, now = gateway.platform.engine, gateway.platform.clock.now()
    await register(gateway)
    insert_payment(engine, trans_id="UAB0000030", completed_at=now - HOUR_S)
    await gateway.client.post("/sandbox/v1/clock", json={"advance_s": 48 * HOUR_S})
    later = gateway.platform.clock.now()
    # The token expired with the jump; a fresh one is needed.
    reply = await gateway.client.get(
        "/oauth/v1/generate",
        params={"grant_type": "client_credentials"},
        headers={
            "Authorization": basic_auth(
                gateway.credentials.consumer_key, gateway.credentials.consumer_secret
            )
        },
    )
    gateway.token = reply.json()["access_token"]
    body = query_body(later, StartDate=pull_date(now - 2 * HOUR_S))
    assert (await query(gateway, body))["ResponseCode"] == "1001"


async def test_query_without_transactions_answers_1001_with_empty_nested_array(
    gateway: Gateway,
) -> None:
    now = gateway.platform.clock.now()
    await register(gateway)
    body = await query(gateway, query_body(now))
    assert body["ResponseCode"] == "1001"
    assert body["ResponseMessage"] == "No transactions found"
    assert body["Response"] == [[]]
    assert body["ResponseRefID"]


async def test_query_accepts_daraja_sample_dates(gateway: Gateway) -> None:
    await register(gateway)
    body = {
        "ShortCode": "600000",
        "StartDate": "2020-08-04 8:36:00",
        "EndDate": "2020-08-16 10:10:000",
        "OffSetValue": "0",
    }
    assert (await query(gateway, body))["ResponseCode"] == "1001"


async def test_query_for_unregistered_shortcode_is_refused(gateway: Gateway) -> None:
    now = gateway.platform.clock.now()
    reply = await gateway.client.post(QUERY, json=query_body(now), headers=gateway.bearer)
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == "400.002.02"
    assert reply.json()["errorMessage"] == NOT_REGISTERED


async def test_query_by_another_app_is_refused(gateway: Gateway) -> None:
    engine, now = gateway.platform.engine, gateway.platform.clock.now()
    await register(gateway)
    insert_payment(engine, trans_id="UAB0000040", completed_at=now - 60)
    other = await token_for_new_app(gateway, frozenset({Product.PULL_TRANSACTIONS}))
    reply = await gateway.client.post(QUERY, json=query_body(now), headers=other)
    assert reply.status_code == 400
    assert reply.json()["errorMessage"] == NOT_REGISTERED


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ShortCode": "60"}, "ShortCode"),
        ({"StartDate": "yesterday"}, "StartDate"),
        ({"StartDate": "20200804083600"}, "StartDate"),
        ({"StartDate": 20200804083600}, "StartDate"),
        ({"StartDate": None}, "StartDate"),
        ({"StartDate": "2020-02-30 10:00:00"}, "StartDate"),
        ({"EndDate": "2020-08-16 25:10:00"}, "EndDate"),
        ({"EndDate": "2000-01-01 0:00:00"}, "EndDate"),
        ({"OffSetValue": "-1"}, "OffSetValue"),
        ({"OffSetValue": "ten"}, "OffSetValue"),
        ({"OffSetValue": "1234567890"}, "OffSetValue"),
    ],
)
async def test_query_refuses_bad_fields(
    gateway: Gateway, overrides: dict[str, Any], field: str
) -> None:
    await register(gateway)
    body = query_body(gateway.platform.clock.now(), **overrides)
    reply = await gateway.client.post(QUERY, json=body, headers=gateway.bearer)
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == "400.002.02"
    assert reply.json()["errorMessage"] == f"Bad Request - Invalid {field}"


async def test_query_without_offset_reads_the_first_page(gateway: Gateway) -> None:
    engine, now = gateway.platform.engine, gateway.platform.clock.now()
    await register(gateway)
    insert_payment(engine, trans_id="UAB0000050", completed_at=now - 60)
    body = query_body(now)
    del body["OffSetValue"]
    assert (await query(gateway, body))["ResponseCode"] == "1000"


# --- authorisation --------------------------------------------------------------------


@pytest.mark.parametrize("path", [REGISTER, QUERY])
async def test_app_without_pull_product_is_refused(gateway: Gateway, path: str) -> None:
    headers = await token_for_new_app(gateway, frozenset({Product.C2B}))
    body = register_body() if path == REGISTER else query_body(0)
    reply = await gateway.client.post(path, json=body, headers=headers)
    assert reply.status_code == 401
    assert reply.json()["errorCode"] == "401.003.01"


@pytest.mark.parametrize("path", [REGISTER, QUERY])
@pytest.mark.parametrize(
    ("authorization", "code"),
    [(None, "404.001.04"), ("Basic abc", "404.001.04"), ("Bearer not-a-token", "404.001.03")],
)
async def test_bad_or_missing_token_is_refused(
    gateway: Gateway, path: str, authorization: str | None, code: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    reply = await gateway.client.post(path, json={}, headers=headers)
    assert reply.status_code == 404
    assert reply.json()["errorCode"] == code


async def test_get_is_not_allowed(gateway: Gateway) -> None:
    reply = await gateway.client.get(QUERY, headers=gateway.bearer)
    assert reply.status_code == 405
    assert reply.json()["errorCode"] == "405.001"
