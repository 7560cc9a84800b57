"""Phase E's bookkeeping: every accepted payout is matched to one Result by its
OriginatorConversationID, a slot is given back exactly once, and strays are counted."""

from __future__ import annotations

from typing import Any

import orjson
from bench.loadgen import B2cRun, Prepared


class NoClient:
    async def send(self, prepared: Prepared, body: bytes | None = None) -> tuple[int, bytes]:
        raise AssertionError("not used here")

    async def warm(self, count: int) -> None:
        return None

    async def close(self) -> None:
        return None


def job(**overrides: Any) -> dict[str, Any]:
    return {
        "base_url": "http://127.0.0.1:1",
        "receiver_url": "http://127.0.0.1:2",
        "bucket": "payout",
        "initiator": "testapi",
        "security_credential": "C" * 344,
        "concurrency": 2,
        "max_in_flight": 2,
        "warmup_s": 0.0,
        "duration_s": 60.0,
        "msisdn_first": 10,
        "msisdn_stop": 12,
        **overrides,
    }


async def test_bodies_carry_fresh_ids_and_rotate_over_the_customers() -> None:
    run = B2cRun(job(), NoClient(), NoClient(), "token")
    sent = [run._next() for _ in range(3)]
    assert [originator for originator, _ in sent] == ["bench-1", "bench-2", "bench-3"]
    docs = [orjson.loads(body) for _, body in sent]
    assert [doc["PartyB"] for doc in docs] == ["254720000010", "254720000011", "254720000010"]
    assert docs[0]["OriginatorConversationID"] == "bench-1"
    assert docs[0]["SecurityCredential"] == "C" * 344
    assert docs[0]["ResultURL"] == "http://127.0.0.1:2/b2c/payout/result"
    assert docs[0]["QueueTimeOutURL"] == "http://127.0.0.1:2/b2c/payout/timeout"
    assert (docs[0]["PartyA"], docs[0]["CommandID"], docs[0]["Amount"]) == (
        "600996",
        "BusinessPayment",
        10,
    )


async def test_results_free_slots_once_and_strays_are_unknown() -> None:
    run = B2cRun(job(), NoClient(), NoClient(), "token")
    for _ in range(2):
        await run.slots.acquire()
    run.pending = {"bench-1": 1.0, "bench-2": 1.0}
    assert run.slots.locked()
    # bench-2's Result beats its failed acknowledgement: its slot comes back once only.
    run.on_results([["bench-2", 1.5, 0], ["stray", 1.6, 0]])
    run._failed("bench-2", "http 500")
    assert run.matched == 1 and run.unknown == 1
    assert run.e2e_latencies == [0.5]
    assert run.slots._value == 1
    run._failed("bench-1", "timed out")
    assert run.slots._value == 2
    assert run.pending == {}
    assert run.errors == {"http 500": 1, "timed out": 1}
