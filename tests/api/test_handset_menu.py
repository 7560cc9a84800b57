"""The sandbox's customer-side API: test customers, Send Money, Airtime, My Account and
Bonga, through the real app; and points earned on an STK payment and a Pay Bill."""

from __future__ import annotations

from tests.api.conftest import Gateway
from tests.support import CallbackReceiver, stk_body

HANDSET = "/sandbox/v1/handsets"
JOHN = "254708374149"
JANE = "254708374150"
NEW = "254799000111"


async def _create(gateway: Gateway, **fields: object) -> dict[str, object]:
    body = {
        "msisdn": NEW, "name": "Wanjiku Kamau", "pin": "2468", "national_id": "29876543",
        "line_type": "prepay", "opening_balance": 2_000,
    } | fields  # fmt: skip
    reply = await gateway.client.post("/sandbox/v1/customers", json=body)
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


async def test_create_customer_funds_the_wallet_and_lists_it(gateway: Gateway) -> None:
    created = await _create(gateway)
    assert created["line_type"] == "prepay"
    assert created["bonga_pin_set"] is False
    account = (await gateway.client.get(f"{HANDSET}/{NEW}/account")).json()
    assert account["balance"] == 2_000
    listed = (await gateway.client.get("/sandbox/v1/customers")).json()["customers"]
    assert NEW in [c["msisdn"] for c in listed]
    # Half of the Bonga PIN vetting answer is never listed.
    assert all("national_id" not in c for c in listed)
    assert "national_id" not in created
    again = await gateway.client.post(
        "/sandbox/v1/customers",
        json={"msisdn": NEW, "name": "X", "pin": "1111", "national_id": "1234567"},
    )
    assert again.status_code == 409


async def test_create_customer_refuses_bad_fields(gateway: Gateway) -> None:
    for field, value in [
        ("msisdn", "0712345678"),
        ("pin", "12a4"),
        ("national_id", "ID-1"),
        ("line_type", "contract"),
        ("opening_balance", -5),
    ]:
        body = {"msisdn": NEW, "name": "N", "pin": "1234", "national_id": "1234567", field: value}
        reply = await gateway.client.post("/sandbox/v1/customers", json=body)
        assert reply.status_code == 400, (field, reply.text)
        assert field in reply.json()["errorMessage"]


async def test_send_money_is_idempotent_and_shows_in_the_mini_statement(
    gateway: Gateway,
) -> None:
    headers = {"Idempotency-Key": "send-1"}
    body = {"recipient": JANE, "amount": 1_000, "pin": "1234"}
    first = await gateway.client.post(f"{HANDSET}/{JOHN}/send-money", json=body, headers=headers)
    again = await gateway.client.post(f"{HANDSET}/{JOHN}/send-money", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert first.json()["result_code"] == 0
    assert first.json()["fee"] == 13
    account = (await gateway.client.get(f"{HANDSET}/{JOHN}/account")).json()
    assert account["balance"] == 100_000 - 1_013
    assert sorted(line["amount"] for line in account["mini_statement"][:2]) == [13, 1_000]
    assert account["bonga_points"] == 100


async def test_send_money_with_a_wrong_pin_fails_as_m_pesa_does(gateway: Gateway) -> None:
    body = {"recipient": JANE, "amount": 100, "pin": "9999"}
    reply = await gateway.client.post(f"{HANDSET}/{JOHN}/send-money", json=body)
    assert reply.json()["result_code"] == 2001
    assert reply.json()["receipt"] is None
    view = (await gateway.client.get(f"{HANDSET}/{JOHN}")).json()
    assert view["messages"][0]["body"].startswith("Failed.")


async def test_bonga_pin_transfer_and_bundle_through_the_api(gateway: Gateway) -> None:
    await _create(gateway)
    airtime = await gateway.client.post(
        f"{HANDSET}/{NEW}/airtime", json={"amount": 1_000, "pin": "2468"}
    )
    assert airtime.json()["result_code"] == 0
    wrong = await gateway.client.post(
        f"{HANDSET}/{NEW}/bonga/pin",
        json={"national_id": "29876543", "last_topup": 999, "new_pin": "1357"},
    )
    assert wrong.json()["outcome"] == "vetting_failed"
    right = await gateway.client.post(
        f"{HANDSET}/{NEW}/bonga/pin",
        json={"national_id": "29876543", "last_topup": 1_000, "new_pin": "1357"},
    )
    assert right.json()["outcome"] == "set"
    assert (await gateway.client.get(f"{HANDSET}/{NEW}/bonga")).json()["points"] == 100
    moved = await gateway.client.post(
        f"{HANDSET}/{NEW}/bonga/transfer",
        json={"recipient": JANE, "points": 50, "bonga_pin": "1357"},
    )
    assert moved.json()["result_code"] == 0, moved.text
    bundle = await gateway.client.post(
        f"{HANDSET}/{NEW}/bonga/bundles", json={"bundle": "DAILY_1_5GB", "bonga_pin": "1357"}
    )
    assert bundle.json()["result_code"] == 0, bundle.text
    account = (await gateway.client.get(f"{HANDSET}/{NEW}/account")).json()
    assert account["balance"] == 2_000 - 1_000 - 50
    assert account["bonga_points"] == 100 - 50 + 5
    unknown = await gateway.client.post(
        f"{HANDSET}/{NEW}/bonga/bundles", json={"bundle": "NOPE", "bonga_pin": "1357"}
    )
    assert unknown.status_code == 404


async def test_postpay_customer_is_told_to_call_200(gateway: Gateway) -> None:
    reply = await gateway.client.post(
        f"{HANDSET}/254722000000/bonga/pin",
        json={"national_id": "34567890", "last_topup": 0, "new_pin": "1357"},
    )
    assert reply.json()["outcome"] == "call_200"


async def test_points_are_earned_on_an_stk_payment_and_a_paybill(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    pushed = await gateway.client.post(
        "/mpesa/stkpush/v1/processrequest",
        json=stk_body(phone=JOHN, amount=500, callback_url=receiver.url),
        headers=gateway.bearer,
    )
    callback = await receiver.wait_for_stk(pushed.json()["CheckoutRequestID"])
    assert callback["ResultCode"] == 0
    paid = await gateway.client.post(
        f"{HANDSET}/{JOHN}/paybill",
        json={"business_number": "600000", "account_number": "INV-1", "amount": 300, "pin": "1234"},
    )
    assert paid.json()["ResultCode"] == 0
    assert (await gateway.client.get(f"{HANDSET}/{JOHN}/bonga")).json()["points"] == 50 + 30


async def test_menu_bodies_get_daraja_shaped_errors(gateway: Gateway) -> None:
    for path, body in [
        ("send-money", {"recipient": JANE, "amount": "lots", "pin": "1234"}),
        ("send-money", {"recipient": "0722", "amount": 10, "pin": "1234"}),
        ("airtime", {"amount": -1, "pin": "1234"}),
        ("bonga/transfer", {"recipient": JANE, "points": "50", "bonga_pin": "1234"}),
        # Past BIGINT (and int64 on the way to the database), and past any sane balance.
        ("bonga/transfer", {"recipient": JANE, "points": 2**63, "bonga_pin": "1234"}),
        ("bonga/transfer", {"recipient": JANE, "points": 10**9 + 1, "bonga_pin": "1234"}),
        ("bonga/pin", {"national_id": "12345678", "last_topup": 2**63, "new_pin": "1357"}),
        ("bonga/pin", {"national_id": "12345678", "last_topup": "²", "new_pin": "1357"}),
    ]:
        reply = await gateway.client.post(f"{HANDSET}/{JOHN}/{path}", json=body)
        assert reply.status_code == 400, (path, reply.text)
        assert set(reply.json()) == {"requestId", "errorCode", "errorMessage"}
    assert (await gateway.client.get(f"{HANDSET}/254700/account")).status_code == 404


async def test_customer_bodies_with_huge_numbers_get_daraja_shaped_errors(
    gateway: Gateway,
) -> None:
    base = (
        '{"msisdn": "%s", "name": "Big", "pin": "2468", "national_id": "29876543", '
        '"opening_balance": %s}'
    )
    # A 5,000-digit JSON number: past Python's int digit limit (json= cannot even send it).
    for opening in ("9" * 5_000, str(2**63), "1000001"):
        reply = await gateway.client.post(
            "/sandbox/v1/customers",
            content=base % (NEW, opening),
            headers={"content-type": "application/json"},
        )
        assert reply.status_code == 400, (opening[:20], reply.text)
        assert set(reply.json()) == {"requestId", "errorCode", "errorMessage"}


async def test_vetting_locks_after_three_wrong_answers_until_the_sandbox_unlocks(
    gateway: Gateway,
) -> None:
    async def vet(topup: int) -> str:
        reply = await gateway.client.post(
            f"{HANDSET}/{JOHN}/bonga/pin",
            json={"national_id": "12345678", "last_topup": topup, "new_pin": "1357"},
        )
        assert reply.status_code == 200, reply.text
        return str(reply.json()["outcome"])

    assert [await vet(n) for n in (1, 2, 3, 100)] == [
        "vetting_failed", "vetting_failed", "vetting_locked", "vetting_locked",
    ]  # fmt: skip
    listed = (await gateway.client.get("/sandbox/v1/customers")).json()["customers"]
    assert [c["bonga_vetting_locked"] for c in listed if c["msisdn"] == JOHN] == [True]
    unlocked = await gateway.client.post(f"/sandbox/v1/customers/{JOHN}/unlock")
    assert unlocked.status_code == 200, unlocked.text
    assert unlocked.json()["bonga_vetting_locked"] is False
    assert await vet(100) == "set"
    missing = await gateway.client.post("/sandbox/v1/customers/254799999999/unlock")
    assert missing.status_code == 404


async def test_three_wrong_mpesa_pins_lock_payments_until_the_sandbox_unlocks(
    gateway: Gateway,
) -> None:
    async def send(pin: str) -> int:
        reply = await gateway.client.post(
            f"{HANDSET}/{JOHN}/send-money", json={"recipient": JANE, "amount": 10, "pin": pin}
        )
        assert reply.status_code == 200, reply.text
        return int(reply.json()["result_code"])

    async def paybill(pin: str) -> int:
        reply = await gateway.client.post(
            f"{HANDSET}/{JOHN}/paybill",
            json={"business_number": "600000", "account_number": "A", "amount": 10, "pin": pin},
        )
        return int(reply.json()["ResultCode"])

    # A right PIN resets the count: two wrong, one right, two wrong do not lock.
    assert [await send(p) for p in ("9999", "9999", "1234", "9999", "9999")] == [
        2001, 2001, 0, 2001, 2001,
    ]  # fmt: skip
    assert await send("9999") == 2001  # the third in a row locks the PIN
    assert await send("1234") == 2001  # even the right PIN, while locked
    assert await paybill("1234") != 0
    inbox = (await gateway.client.get(f"{HANDSET}/{JOHN}")).json()["messages"]
    assert any("Your M-PESA PIN has been locked" in m["body"] for m in inbox[:3])
    listed = (await gateway.client.get("/sandbox/v1/customers")).json()["customers"]
    assert [c["pin_locked"] for c in listed if c["msisdn"] == JOHN] == [True]
    assert (await gateway.client.post(f"/sandbox/v1/customers/{JOHN}/unlock")).status_code == 200
    assert await send("1234") == 0
    assert await paybill("1234") == 0


async def test_a_locked_mpesa_pin_answers_an_stk_prompt_with_2001(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    phone = "254711000002"  # never answers on its own: the prompt waits for the test

    async def answer(pin: str) -> int:
        pushed = await gateway.client.post(
            "/mpesa/stkpush/v1/processrequest",
            json=stk_body(phone=phone, amount=20, callback_url=receiver.url),
            headers=gateway.bearer,
        )
        checkout_id = pushed.json()["CheckoutRequestID"]
        reply = await gateway.client.post(
            f"{HANDSET}/{phone}/prompts/{checkout_id}/accept", json={"pin": pin}
        )
        code = int(reply.json()["ResultCode"])
        assert (await receiver.wait_for_stk(checkout_id))["ResultCode"] == code
        return code

    assert [await answer(p) for p in ("9999", "9999", "9999", "1234")] == [2001] * 4
    await gateway.client.post(f"/sandbox/v1/customers/{phone}/unlock")
    assert await answer("1234") == 0
