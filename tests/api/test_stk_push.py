"""M-Pesa Express through the real app in-process, callbacks to a real loopback receiver."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from pesabox.storage.db import read_transaction
from pesabox.storage.tables import accounts, transfers
from tests.api.conftest import Gateway
from tests.support import CallbackReceiver, metadata, stk_body

PUSH = "/mpesa/stkpush/v1/processrequest"
QUERY = "/mpesa/stkpushquery/v1/query"


def balance(gateway: Gateway, code: str) -> int:
    with read_transaction(gateway.platform.engine) as conn:
        row = conn.execute(
            select(accounts.c.credits_posted, accounts.c.debits_posted).where(
                accounts.c.code == code
            )
        ).one()
    return int(row.credits_posted - row.debits_posted)


async def push(gateway: Gateway, **fields: object) -> dict[str, str]:
    reply = await gateway.client.post(PUSH, json=stk_body(**fields), headers=gateway.bearer)  # type: ignore[arg-type]
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


async def test_stk_push_success_moves_money_and_calls_back(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    wallet_before = balance(gateway, "wallet:254708374149")
    utility_before = balance(gateway, "utility:174379")
    accepted = await push(gateway, amount="150", callback_url=receiver.url)
    assert accepted["ResponseCode"] == "0"
    assert accepted["ResponseDescription"] == "Success. Request accepted for processing"
    assert re.fullmatch(r"ws_CO_\d{17}708374149", accepted["CheckoutRequestID"])
    callback = await receiver.wait_for_stk(accepted["CheckoutRequestID"])
    assert callback["ResultCode"] == 0
    assert callback["MerchantRequestID"] == accepted["MerchantRequestID"]
    items = metadata(callback)
    assert items["Amount"] == 150
    assert items["PhoneNumber"] == 254708374149
    assert re.fullmatch(r"[A-Z0-9]{10}", items["MpesaReceiptNumber"])
    assert re.fullmatch(r"20\d{12}", str(items["TransactionDate"]))
    assert balance(gateway, "wallet:254708374149") == wallet_before - 15000
    assert balance(gateway, "utility:174379") == utility_before + 15000


async def test_stk_push_business_pays_the_paybill_fee(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    accepted = await push(gateway, amount=1000, callback_url=receiver.url)
    await receiver.wait_for_stk(accepted["CheckoutRequestID"])
    # Customer Bouquet: KES 1,000 costs the business KES 10 and the customer nothing.
    assert balance(gateway, "charges:174379") == -1000
    assert balance(gateway, "platform:revenue") == 1000


async def test_stk_query_reports_result_as_string(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    accepted = await push(gateway, callback_url=receiver.url)
    await receiver.wait_for_stk(accepted["CheckoutRequestID"])
    body = stk_body()
    query = {k: body[k] for k in ("BusinessShortCode", "Password", "Timestamp")}
    query["CheckoutRequestID"] = accepted["CheckoutRequestID"]
    reply = await gateway.client.post(QUERY, json=query, headers=gateway.bearer)
    assert reply.status_code == 200
    assert reply.json() == {
        "ResponseCode": "0",
        "ResponseDescription": "The service request has been accepted successfully",
        "MerchantRequestID": accepted["MerchantRequestID"],
        "CheckoutRequestID": accepted["CheckoutRequestID"],
        "ResultCode": "0",
        "ResultDesc": "The service request is processed successfully.",
    }


async def test_stk_query_while_pending_answers_being_processed(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    accepted = await push(gateway, phone="254711000002", callback_url=receiver.url)
    body = stk_body()
    query = {k: body[k] for k in ("BusinessShortCode", "Password", "Timestamp")}
    query["CheckoutRequestID"] = accepted["CheckoutRequestID"]
    reply = await gateway.client.post(QUERY, json=query, headers=gateway.bearer)
    assert reply.status_code == 500
    assert reply.json() == {
        "requestId": accepted["CheckoutRequestID"],
        "errorCode": "500.001.1001",
        "errorMessage": "The transaction is being processed",
    }


async def test_stk_second_push_while_pending_is_refused(gateway: Gateway) -> None:
    await push(gateway, phone="254711000002")
    reply = await gateway.client.post(
        PUSH, json=stk_body(phone="254711000002"), headers=gateway.bearer
    )
    assert reply.status_code == 500
    assert reply.json()["errorCode"] == "500.001.1001"
    assert reply.json()["errorMessage"].startswith("Unable to lock subscriber")


@pytest.mark.parametrize(
    ("phone", "amount", "expected"),
    [
        ("254711000004", 100, 1),  # the wallet holds KES 5: the balance decides
        ("254711000001", 10, 1032),
        ("254711000003", 10, 2001),
        ("254711000009", 10, 1025),
        ("254711000010", 10, 8006),
        ("254711000011", 10, 26),
        ("254708374150", 1032, 1032),
        ("254708374150", 2001, 2001),
        ("254708374150", 250_001, 3),
    ],
)
async def test_stk_result_codes(
    gateway: Gateway, receiver: CallbackReceiver, phone: str, amount: int, expected: int
) -> None:
    wallet_before = balance(gateway, f"wallet:{phone}")
    accepted = await push(gateway, phone=phone, amount=amount, callback_url=receiver.url)
    callback = await receiver.wait_for_stk(accepted["CheckoutRequestID"])
    assert callback["ResultCode"] == expected
    assert "CallbackMetadata" not in callback
    assert balance(gateway, f"wallet:{phone}") == wallet_before


async def test_stk_account_reference_over_12_chars_fails_the_push(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    accepted = await push(gateway, reference="A" * 13, callback_url=receiver.url)
    callback = await receiver.wait_for_stk(accepted["CheckoutRequestID"])
    assert callback["ResultCode"] == 1025


@pytest.mark.parametrize(("phone", "expected"), [("254711000002", 1037), ("254711000005", 1019)])
async def test_stk_timeouts_fire_on_the_sandbox_clock(
    gateway: Gateway, receiver: CallbackReceiver, phone: str, expected: int
) -> None:
    accepted = await push(gateway, phone=phone, callback_url=receiver.url)
    assert receiver.stk_results(accepted["CheckoutRequestID"]) == []
    reply = await gateway.client.post("/sandbox/v1/clock", json={"advance_s": 61})
    assert reply.status_code == 200
    callback = await receiver.wait_for_stk(accepted["CheckoutRequestID"])
    assert callback["ResultCode"] == expected


async def test_stk_buy_goods_pays_the_till_and_the_merchant_pays_mauzo(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    accepted = await push(
        gateway,
        shortcode="174380",
        party_b="977380",
        amount=1000,
        transaction_type="CustomerBuyGoodsOnline",
        callback_url=receiver.url,
    )
    callback = await receiver.wait_for_stk(accepted["CheckoutRequestID"])
    assert callback["ResultCode"] == 0
    assert balance(gateway, "utility:977380") == 100000
    assert balance(gateway, "charges:977380") == -500  # 0.5% of KES 1,000


async def test_stk_transaction_type_not_fitting_party_b_gives_2028(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    accepted = await push(
        gateway, transaction_type="CustomerBuyGoodsOnline", callback_url=receiver.url
    )
    callback = await receiver.wait_for_stk(accepted["CheckoutRequestID"])
    assert callback["ResultCode"] == 2028


async def test_stk_daily_limit_gives_4(gateway: Gateway, receiver: CallbackReceiver) -> None:
    from pesabox.domain.ledger import Purpose, TransferRequest
    from pesabox.storage.db import write_transaction

    phone = "254708374150"
    for index, amount in enumerate((240_000, 240_000, 30_000)):
        with write_transaction(gateway.platform.engine) as conn:
            gateway.platform.ledger.post(
                conn,
                [
                    TransferRequest(
                        f"test:fund:{index}",
                        "platform:float",
                        f"wallet:{phone}",
                        amount * 100,
                        Purpose.FUNDING,
                    )
                ],
                now=0,
            )
        accepted = await push(gateway, phone=phone, amount=amount, callback_url=receiver.url)
        callback = await receiver.wait_for_stk(accepted["CheckoutRequestID"])
        assert callback["ResultCode"] == (4 if index == 2 else 0)


async def test_stk_settles_once_and_posts_once(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    accepted = await push(gateway, callback_url=receiver.url)
    checkout_id = accepted["CheckoutRequestID"]
    await receiver.wait_for_stk(checkout_id)
    # A late timer or a second process settling again must change nothing.
    from pesabox.domain.services.stk_settle import SettleContext, settle_request
    from pesabox.storage.db import write_transaction
    from pesabox.storage.parties_store import ShortcodeCache

    with write_transaction(gateway.platform.engine) as conn:
        context = SettleContext(gateway.platform.ledger, 3, ShortcodeCache())
        assert settle_request(conn, context, checkout_request_id=checkout_id, now=0) is None
    with read_transaction(gateway.platform.engine) as conn:
        posted = conn.execute(
            select(transfers.c.id).where(transfers.c.transaction_id == checkout_id)
        ).all()
    assert len(posted) == 1


async def test_stk_accepts_numbers_or_strings_and_ignores_extra_fields(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    body = stk_body(amount=5, callback_url=receiver.url)
    body.update(
        BusinessShortCode=174379,
        PartyB=174379,
        PartyA=254708374149,
        PhoneNumber=254708374149,
        Passkey="leaked",
        Remark="extra",
    )
    reply = await gateway.client.post(PUSH, json=body, headers=gateway.bearer)
    assert reply.status_code == 200, reply.text
    callback = await receiver.wait_for_stk(reply.json()["CheckoutRequestID"])
    assert callback["ResultCode"] == 0


async def test_stk_paybill_pays_only_the_shortcode_that_signed(
    gateway: Gateway, receiver: CallbackReceiver
) -> None:
    # 174379's passkey must not route a customer's money to another PayBill.
    accepted = await push(gateway, party_b="600000", callback_url=receiver.url)
    callback = await receiver.wait_for_stk(accepted["CheckoutRequestID"])
    assert callback["ResultCode"] == 2028
    assert balance(gateway, "utility:600000") == 0
