"""Crash recovery: `kill -9` a real server in the middle of a burst of STK pushes, restart
it on the same database, and check that nothing acknowledged was lost, nothing was paid
twice, every callback arrived (at least once, and always with the same content), and the
ledger still balances.

The receiver holds every answer back a little during the burst, so at the moment of the
kill the dead process holds callbacks it has claimed, POSTed, or not yet sent: the restarted
server must take them over once their lease runs out.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from pesabox.callbacks.worker import LEASE_S_MIN
from pesabox.domain.accounts import org_utility
from pesabox.domain.ledger import Purpose
from pesabox.sandbox.seed import bulk_msisdn
from pesabox.storage.tables import accounts, callbacks, stk_requests, transfers
from tests.e2e import (
    HTTP_TIMEOUT_S,
    SHORTCODE,
    LaunchServer,
    PesaboxServer,
    Sandbox,
    bearer,
    database,
    fetch_token,
    prepare_sandbox,
    push_body,
    query_body,
    run_cli,
)
from tests.e2e.receiver import CallbackReceiver

pytestmark = pytest.mark.e2e

BULK_CUSTOMERS = 2000
PUSHES = 900
CONCURRENCY = 32
# Kill once this many pushes were acknowledged: well into the burst, far from its end.
KILL_AFTER_ACKS = 250
# The receiver holds each answer this long and the server may have only this many POSTs
# open: callbacks queue up in the outbox during the burst, so the kill finds some claimed
# or mid-POST and many more not yet sent.
RECEIVER_STALL_S = 0.3
CALLBACK_CONCURRENCY = 8
# Rows the dead process had claimed come back when its lease lapses (LEASE_S_MIN); allow
# that, plus time to deliver everything.
RECOVERY_TIMEOUT_S = LEASE_S_MIN + 25.0
SETTLED = ("completed", "failed")


@dataclass
class Burst:
    acknowledged: dict[str, str] = field(default_factory=dict)  # CheckoutRequestID -> MSISDN
    refused: Counter[int] = field(default_factory=Counter)  # HTTP status -> count
    transport_errors: int = 0
    killed_at_acks: int | None = None


@pytest.fixture
def bulk_sandbox(database_url: str) -> Sandbox:
    # Funded customers 254720000000...: one push each, so the subscriber lock (one pending
    # prompt per MSISDN) never refuses a push in the burst.
    return prepare_sandbox(database_url, customers=BULK_CUSTOMERS)


def amount_for(index: int) -> int:
    # Varied amounts, so a payment credited under the wrong request shows up in the sums.
    return 1 + index % 97


async def fire_burst(server: PesaboxServer, token: str, callback_url: str) -> Burst:
    """PUSHES concurrent pushes to distinct customers; SIGKILL the server mid-way."""
    burst = Burst()
    slots = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)

    async def push(client: httpx.AsyncClient, index: int) -> None:
        msisdn = bulk_msisdn(index)
        body = push_body(phone=msisdn, amount=amount_for(index), callback_url=callback_url)
        async with slots:
            try:
                response = await client.post(
                    f"{server.base_url}/mpesa/stkpush/v1/processrequest",
                    json=body,
                    headers=bearer(token),
                )
            except httpx.TransportError:
                burst.transport_errors += 1  # the server died under this request
                return
        if response.status_code != 200:
            burst.refused[response.status_code] += 1
            return
        burst.acknowledged[response.json()["CheckoutRequestID"]] = msisdn
        if burst.killed_at_acks is None and len(burst.acknowledged) >= KILL_AFTER_ACKS:
            burst.killed_at_acks = len(burst.acknowledged)
            server.kill()

    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S, limits=limits) as client:
        await asyncio.gather(*(push(client, index) for index in range(PUSHES)))
    return burst


@dataclass(frozen=True)
class Snapshot:
    requests: dict[str, Any]  # CheckoutRequestID -> stk_requests row
    callback_rows: list[Any]

    @property
    def drained(self) -> bool:
        return all(row.status in SETTLED for row in self.requests.values()) and all(
            row.status != "pending" for row in self.callback_rows
        )

    def describe(self) -> str:
        statuses = Counter(row.status for row in self.requests.values())
        outbox = Counter(row.status for row in self.callback_rows)
        return f"requests {dict(statuses)}, callbacks {dict(outbox)}"


def snapshot(database_url: str) -> Snapshot:
    with database(database_url) as engine, engine.connect() as conn:
        requests = {row.checkout_request_id: row for row in conn.execute(select(stk_requests))}
        callback_rows = list(conn.execute(select(callbacks)))
    return Snapshot(requests, callback_rows)


def wait_for_recovery(
    database_url: str, receiver: CallbackReceiver, *, timeout_s: float
) -> Snapshot:
    """Until every request is settled, the outbox has nothing pending, and the receiver has
    seen a callback for every request; bounded by `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        state = snapshot(database_url)
        if state.drained and set(receiver.by_checkout()) >= set(state.requests):
            return state
        if time.monotonic() > deadline:
            missing = len(set(state.requests) - set(receiver.by_checkout()))
            raise AssertionError(
                f"not recovered after {timeout_s:g} s: {state.describe()}, "
                f"{missing} requests without a callback at the receiver"
            )
        time.sleep(0.25)


async def test_kill_9_mid_burst_loses_and_doubles_nothing(
    bulk_sandbox: Sandbox, receiver: CallbackReceiver, launch_server: LaunchServer
) -> None:
    database_url = bulk_sandbox.database_url
    settings = {
        "PESABOX_CUSTOMER_DELAY_S": "0",
        "PESABOX_CALLBACK_CONCURRENCY": str(CALLBACK_CONCURRENCY),
    }
    server = await asyncio.to_thread(launch_server, bulk_sandbox, settings)
    with httpx.Client(timeout=HTTP_TIMEOUT_S) as http:
        token = fetch_token(http, server.base_url, bulk_sandbox)
    receiver.stall(RECEIVER_STALL_S)

    burst = await fire_burst(server, token, receiver.url("/crash"))

    # The kill really came mid-burst: some pushes were acknowledged, later ones were not.
    assert burst.killed_at_acks is not None, f"never reached {KILL_AFTER_ACKS} acks: {burst}"
    assert not server.running
    assert burst.transport_errors > 0, "the burst had ended before the kill"
    assert not burst.refused, f"pushes refused before the kill: {burst.refused}"
    at_kill = len(receiver.by_checkout())
    assert at_kill < len(burst.acknowledged), "every callback was in before the kill"
    # What the dead process left behind: work only the restarted one can finish.
    left = await asyncio.to_thread(snapshot, database_url)

    receiver.stall(0)
    await asyncio.to_thread(server.start)
    state = await asyncio.to_thread(
        wait_for_recovery, database_url, receiver, timeout_s=RECOVERY_TIMEOUT_S
    )

    redelivered = sum(len(posts) - 1 for posts in receiver.by_checkout().values())
    # Shown when the test fails (or with -s): how hard the crash actually hit.
    sys.stderr.write(
        f"burst: {len(burst.acknowledged)} acknowledged, {burst.transport_errors} cut off, "
        f"{at_kill} callbacks in before the kill; left behind: {left.describe()}; "
        f"after recovery: {len(state.requests)} "
        f"requests, {redelivered} re-deliveries\n"
    )
    check_nothing_lost(burst, state)
    check_nothing_doubled(database_url, state)
    check_callbacks(receiver, state)
    check_ledger(database_url)
    # The restarted server answers queries about requests the dead one acknowledged.
    with httpx.Client(timeout=HTTP_TIMEOUT_S) as http:
        for checkout_id in list(burst.acknowledged)[:10]:
            answer = http.post(
                f"{server.base_url}/mpesa/stkpushquery/v1/query",
                json=query_body(checkout_id),
                headers=bearer(token),
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["ResultCode"] == "0"


def check_nothing_lost(burst: Burst, state: Snapshot) -> None:
    """Every acknowledged push is in the database, for the right customer, and paid."""
    lost = set(burst.acknowledged) - set(state.requests)
    assert not lost, f"{len(lost)} acknowledged pushes are not in the database: {sorted(lost)[:5]}"
    for checkout_id, msisdn in burst.acknowledged.items():
        assert state.requests[checkout_id].msisdn == msisdn
    # Pushes whose answer the crash swallowed may be in the database too: they count alike.
    # Every customer here is funded and answers at once, so every request must succeed.
    unpaid = {cid: (r.status, r.result_code) for cid, r in state.requests.items()
              if r.status != "completed" or r.result_code != 0}  # fmt: skip
    assert not unpaid, f"{len(unpaid)} requests did not succeed: {list(unpaid.items())[:5]}"
    assert len({row.receipt for row in state.requests.values()}) == len(state.requests)


def check_nothing_doubled(database_url: str, state: Snapshot) -> None:
    """One principal transfer per paid request, of its amount, and nothing else moved."""
    with database(database_url) as engine, engine.connect() as conn:
        principals = list(
            conn.execute(
                select(transfers.c.id, transfers.c.transaction_id, transfers.c.amount_cents).where(
                    transfers.c.purpose == str(Purpose.PRINCIPAL)
                )
            )
        )
        utility = conn.execute(
            select(accounts.c.credits_posted, accounts.c.debits_posted).where(
                accounts.c.code == org_utility(SHORTCODE).code
            )
        ).one()
    per_request = Counter(row.transaction_id for row in principals)
    assert set(per_request) == set(state.requests)
    doubled = {cid: n for cid, n in per_request.items() if n != 1}
    assert not doubled, f"requests paid more than once: {doubled}"
    for row in principals:
        assert row.id == f"{row.transaction_id}:principal"
        assert row.amount_cents == state.requests[row.transaction_id].amount_cents
    # The paybill's utility account was empty before the burst: it holds exactly the sum.
    paid = sum(r.amount_cents for r in state.requests.values())
    assert utility.credits_posted - utility.debits_posted == paid


def check_callbacks(receiver: CallbackReceiver, state: Snapshot) -> None:
    """One outbox row per request, all delivered; the receiver got each request's callback,
    and any repeat is a re-delivery of the very same payload."""
    per_request = Counter(row.transaction_id for row in state.callback_rows)
    assert set(per_request) == set(state.requests)
    assert all(n == 1 for n in per_request.values()), "a request has two callback rows"
    undelivered = Counter(row.status for row in state.callback_rows if row.status != "delivered")
    assert not undelivered, f"callbacks not delivered: {undelivered}"

    seen = receiver.by_checkout()
    assert set(seen) == set(state.requests), "callbacks for unknown requests, or missing ones"
    stored = {row.transaction_id: json.loads(row.payload) for row in state.callback_rows}
    for checkout_id, posts in seen.items():
        bodies = {post.body for post in posts}
        assert len(bodies) == 1, f"{checkout_id} got {len(bodies)} different callbacks"
        delivered = posts[0].json()
        assert delivered == stored[checkout_id]
        callback = delivered["Body"]["stkCallback"]
        assert callback["ResultCode"] == 0
        items = {item["Name"]: item.get("Value") for item in callback["CallbackMetadata"]["Item"]}
        assert items["MpesaReceiptNumber"] == state.requests[checkout_id].receipt


def check_ledger(database_url: str) -> None:
    verified = run_cli(["ledger", "verify"], database_url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    with database(database_url) as engine, engine.connect() as conn:
        totals = conn.execute(
            select(
                func.sum(accounts.c.credits_posted),
                func.sum(accounts.c.debits_posted),
                func.sum(accounts.c.credits_pending),
                func.sum(accounts.c.debits_pending),
            )
        ).one()
    credits_posted, debits_posted, credits_pending, debits_pending = map(int, totals)
    assert credits_posted == debits_posted, "money was created or destroyed"
    assert credits_posted > 0
    assert credits_pending == debits_pending
