"""The benchmark's callback receiver must count every callback once and flag repeats.

Lost and duplicated callbacks are headline figures of the benchmark, so the receiver's
bookkeeping is tested over a real loopback socket, the way the server reaches it.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import orjson
import pytest
from aiohttp import web
from bench.receiver import (
    CallbackTally,
    make_app,
    parse_b2c_result,
    parse_c2b,
    parse_callback,
)

ROOT = Path(__file__).resolve().parents[2]


def stk_callback(checkout_id: str, result_code: int = 0) -> bytes:
    return orjson.dumps(
        {
            "Body": {
                "stkCallback": {
                    "MerchantRequestID": "29115-34620561-1",
                    "CheckoutRequestID": checkout_id,
                    "ResultCode": result_code,
                    "ResultDesc": "The service request is processed successfully.",
                    "CallbackMetadata": {"Item": [{"Name": "Amount", "Value": 1}]},
                }
            }
        }
    )


@pytest.fixture
async def receiver_url() -> AsyncIterator[str]:
    runner = web.AppRunner(make_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_counts_unique_callbacks_and_duplicates_over_loopback(receiver_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for checkout_id, code in [("ws_CO_1", 0), ("ws_CO_2", 1032), ("ws_CO_1", 0)]:
            async with session.post(
                f"{receiver_url}/cb/e2e", data=stk_callback(checkout_id, code)
            ) as response:
                assert response.status == 200
                assert orjson.loads(await response.read()) == {
                    "ResultCode": 0,
                    "ResultDesc": "Accepted",
                }
        async with session.post(f"{receiver_url}/cb/e2e", data=b"not json") as response:
            assert response.status == 200
        async with session.post(f"{receiver_url}/cb/other", data=stk_callback("x")) as response:
            assert response.status == 200

        async with session.get(f"{receiver_url}/stats/e2e") as response:
            stats = orjson.loads(await response.read())
        async with session.get(f"{receiver_url}/events/e2e", params={"after": "1"}) as response:
            events = orjson.loads(await response.read())
        async with session.get(f"{receiver_url}/stats/other") as response:
            other = orjson.loads(await response.read())

    assert stats["received"] == 4
    assert stats["unique"] == 2
    assert stats["duplicates"] == 1
    assert stats["duplicated_ids"] == 1
    assert stats["malformed"] == 1
    assert stats["result_codes"] == {"0": 1, "1032": 1}
    # /events lists first arrivals only, in order, from the cursor on.
    assert [event[0] for event in events] == ["ws_CO_2"]
    assert events[0][2] == 1032
    # Buckets keep phases apart.
    assert other["unique"] == 1 and other["duplicates"] == 0


def c2b_notification(trans_id: str, balance: str = "") -> bytes:
    return orjson.dumps(
        {
            "TransactionType": "Pay Bill",
            "TransID": trans_id,
            "TransTime": "20261128080000",
            "TransAmount": "10.00",
            "BusinessShortCode": "600000",
            "BillRefNumber": "B123",
            "OrgAccountBalance": balance,
            "MSISDN": "254720000001",
        }
    )


async def test_c2b_validation_is_accepted_and_counted_apart_from_confirmations(
    receiver_url: str,
) -> None:
    async with aiohttp.ClientSession() as session:
        for trans_id in ("TKS1", "TKS2"):
            async with session.post(
                f"{receiver_url}/c2b/pay/validate", data=c2b_notification(trans_id)
            ) as response:
                assert response.status == 200
                # Daraja's validation answer: ResultCode is the string "0" (accept).
                assert orjson.loads(await response.read()) == {
                    "ResultCode": "0",
                    "ResultDesc": "Accepted",
                }
        for trans_id in ("TKS1", "TKS1"):
            async with session.post(
                f"{receiver_url}/c2b/pay/confirm", data=c2b_notification(trans_id, "99.00")
            ) as response:
                assert response.status == 200
        async with session.post(f"{receiver_url}/c2b/pay/confirm", data=b"{}") as response:
            assert response.status == 200
        async with session.get(f"{receiver_url}/stats/pay.validate") as response:
            validations = orjson.loads(await response.read())
        async with session.get(f"{receiver_url}/stats/pay") as response:
            confirmations = orjson.loads(await response.read())
        async with session.get(f"{receiver_url}/events/pay") as response:
            events = orjson.loads(await response.read())

    assert validations["unique"] == 2 and validations["duplicates"] == 0
    assert confirmations["unique"] == 1
    assert confirmations["duplicates"] == 1
    assert confirmations["malformed"] == 1
    assert [event[0] for event in events] == ["TKS1"]
    assert events[0][2] == 0


@pytest.mark.parametrize("body", [b"", b"[]", b"{}", b'{"TransID": 7}', b'{"TransID": ""}'])
def test_parse_c2b_rejects_what_has_no_trans_id(body: bytes) -> None:
    assert parse_c2b(body) is None


def b2c_result(originator_id: str, result_code: int = 0) -> bytes:
    return orjson.dumps(
        {
            "Result": {
                "ResultType": 0,
                "ResultCode": result_code,
                "ResultDesc": "The service request is processed successfully.",
                "OriginatorConversationID": originator_id,
                "ConversationID": f"AG_20261128_{originator_id}",
                "TransactionID": "TKS0000001",
                "ResultParameters": {
                    "ResultParameter": [{"Key": "TransactionAmount", "Value": 10}]
                },
                "ReferenceData": {"ReferenceItem": {"Key": "QueueTimeoutURL", "Value": "x"}},
            }
        }
    )


async def test_b2c_results_are_counted_by_originator_id_apart_from_queue_timeouts(
    receiver_url: str,
) -> None:
    async with aiohttp.ClientSession() as session:
        for originator_id, code in [("bench-1", 0), ("bench-2", 2001), ("bench-1", 0)]:
            async with session.post(
                f"{receiver_url}/b2c/payout/result", data=b2c_result(originator_id, code)
            ) as response:
                assert response.status == 200
                assert orjson.loads(await response.read()) == {
                    "ResultCode": 0,
                    "ResultDesc": "Accepted",
                }
        async with session.post(f"{receiver_url}/b2c/payout/result", data=b"{}") as response:
            assert response.status == 200
        async with session.post(
            f"{receiver_url}/b2c/payout/timeout", data=b2c_result("bench-3", 1)
        ) as response:
            assert response.status == 200
        async with session.get(f"{receiver_url}/stats/payout") as response:
            results = orjson.loads(await response.read())
        async with session.get(f"{receiver_url}/stats/payout.timeout") as response:
            timeouts = orjson.loads(await response.read())
        async with session.get(f"{receiver_url}/events/payout") as response:
            events = orjson.loads(await response.read())

    assert results["received"] == 4
    assert results["unique"] == 2
    assert results["duplicates"] == 1 and results["duplicated_ids"] == 1
    assert results["malformed"] == 1
    assert results["result_codes"] == {"0": 1, "2001": 1}
    # First arrivals only, in order, with their ResultCode; timeouts never count as Results.
    assert [(event[0], event[2]) for event in events] == [("bench-1", 0), ("bench-2", 2001)]
    assert timeouts["unique"] == 1 and timeouts["received"] == 1


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b'{"Result": {}}',
        b'{"Result": {"OriginatorConversationID": 7}}',
        b'{"Result": {"OriginatorConversationID": ""}}',
        b'{"Body": {"stkCallback": {"CheckoutRequestID": "ws_CO_1"}}}',
    ],
)
def test_parse_b2c_result_rejects_what_is_not_a_result(body: bytes) -> None:
    assert parse_b2c_result(body) is None


def test_parse_b2c_result_reads_the_originator_id_and_code() -> None:
    assert parse_b2c_result(b2c_result("bench-9", 2001)) == ("bench-9", 2001)
    assert parse_b2c_result(b'{"Result": {"OriginatorConversationID": "x"}}') == ("x", None)


def test_tally_reports_first_sighting_only() -> None:
    tally = CallbackTally()
    assert tally.record("b", "id-1", 0, at=1.0) is True
    assert tally.record("b", "id-1", 0, at=2.0) is False
    assert tally.events("b", 0) == [("id-1", 1.0, 0)]
    assert tally.stats("b")["last_at"] == 2.0


@pytest.mark.parametrize(
    "body",
    [b"", b"[]", b'{"Body": {}}', b'{"Body": {"stkCallback": {"CheckoutRequestID": 7}}}'],
)
def test_parse_callback_rejects_what_is_not_an_stk_callback(body: bytes) -> None:
    assert parse_callback(body) is None


def test_receiver_process_announces_its_port() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.receiver", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith(b"READY ")
        assert int(line.split()[1]) > 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == 0
