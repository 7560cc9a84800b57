"""LedgerStore.post as a table: one row per outcome, in the documented order of precedence.

Every row starts from the same ledger (see `ledger`), posts one linked list and checks the
status, the refusing account, that a refusal leaves no trace, and that the ledger verifies.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from pesabox.domain.ledger import (
    InvariantViolation,
    Phase,
    PostingStatus,
    Purpose,
    TransferRequest,
)
from pesabox.storage.ledger_store import LedgerStore
from tests.ledger import (
    CHARGES,
    FLOAT,
    REVENUE,
    UTILITY,
    WALLET_A,
    WALLET_B,
    WORKING,
    account_totals,
    open_standard_accounts,
    post,
    transfer,
    transfer_count,
    violations,
)

POST = Phase.POST_PENDING
VOID = Phase.VOID_PENDING
PENDING = Phase.PENDING

# The ledger every row starts from. Wallet A: balance 4,000, of which 500 is held by the open
# reservation hold-1, so 3,500 is available. Utility: 1,000. Wallet B: empty, max 5,000.
SETUP: list[list[TransferRequest]] = [
    [transfer("fund-a", FLOAT, WALLET_A, 5_000, purpose=Purpose.FUNDING)],
    [transfer("pay-1", WALLET_A, UTILITY, 1_000, transaction_id="tx-1")],
    [transfer("hold-1", WALLET_A, UTILITY, 500, phase=PENDING)],
    [transfer("hold-2", WALLET_A, UTILITY, 300, phase=PENDING)],
    [transfer("void-2", WALLET_A, UTILITY, 300, phase=VOID, pending_id="hold-2")],
]


@dataclass(frozen=True)
class Row:
    requests: list[TransferRequest]
    status: PostingStatus
    account: str | None = None


ROWS: dict[str, Row] = {
    # --- exists ---------------------------------------------------------------------------
    "exists: replay of a posted transfer": Row(
        [transfer("pay-1", WALLET_A, UTILITY, 1_000, transaction_id="tx-1")], PostingStatus.EXISTS
    ),
    "exists: replay of a void beats pending_already_resolved": Row(
        [transfer("void-2", WALLET_A, UTILITY, 300, phase=VOID, pending_id="hold-2")],
        PostingStatus.EXISTS,
    ),
    # --- exists_with_different_fields -----------------------------------------------------
    "different: amount": Row(
        [transfer("pay-1", WALLET_A, UTILITY, 999, transaction_id="tx-1")],
        PostingStatus.EXISTS_WITH_DIFFERENT_FIELDS,
    ),
    "different: purpose": Row(
        [transfer("pay-1", WALLET_A, UTILITY, 1_000, purpose=Purpose.FEE, transaction_id="tx-1")],
        PostingStatus.EXISTS_WITH_DIFFERENT_FIELDS,
    ),
    "different: transaction": Row(
        [transfer("pay-1", WALLET_A, UTILITY, 1_000, transaction_id="tx-other")],
        PostingStatus.EXISTS_WITH_DIFFERENT_FIELDS,
    ),
    "different: only part of the list exists": Row(
        [
            transfer("pay-1", WALLET_A, UTILITY, 1_000, transaction_id="tx-1"),
            transfer("fee-1", WALLET_A, REVENUE, 10),
        ],
        PostingStatus.EXISTS_WITH_DIFFERENT_FIELDS,
    ),
    "different: resolution amount is not the reservation's": Row(
        [transfer("post-1", WALLET_A, UTILITY, 400, phase=POST, pending_id="hold-1")],
        PostingStatus.EXISTS_WITH_DIFFERENT_FIELDS,
    ),
    "different: resolution accounts are not the reservation's": Row(
        [transfer("post-1", WALLET_B, UTILITY, 500, phase=POST, pending_id="hold-1")],
        PostingStatus.EXISTS_WITH_DIFFERENT_FIELDS,
    ),
    # --- pending_not_found ----------------------------------------------------------------
    "pending not found: unknown id": Row(
        [transfer("post-x", WALLET_A, UTILITY, 500, phase=POST, pending_id="nope")],
        PostingStatus.PENDING_NOT_FOUND,
    ),
    "pending not found: target was posted, not reserved": Row(
        [transfer("void-x", WALLET_A, UTILITY, 1_000, phase=VOID, pending_id="pay-1")],
        PostingStatus.PENDING_NOT_FOUND,
    ),
    "pending not found: beats a broken bound in the same list": Row(
        [
            transfer("big", WALLET_A, UTILITY, 999_999),
            transfer("post-x", WALLET_A, UTILITY, 500, phase=POST, pending_id="nope"),
        ],
        PostingStatus.PENDING_NOT_FOUND,
    ),
    # --- pending_already_resolved ---------------------------------------------------------
    "already resolved: post after void": Row(
        [transfer("post-2", WALLET_A, UTILITY, 300, phase=POST, pending_id="hold-2")],
        PostingStatus.PENDING_ALREADY_RESOLVED,
    ),
    "already resolved: beats a broken bound in the same list": Row(
        [
            transfer("big", WALLET_A, UTILITY, 999_999),
            transfer("void-2b", WALLET_A, UTILITY, 300, phase=VOID, pending_id="hold-2"),
        ],
        PostingStatus.PENDING_ALREADY_RESOLVED,
    ),
    # --- exceeds_debit_bound --------------------------------------------------------------
    "debit bound: spend more than is available": Row(
        [transfer("spend", WALLET_A, UTILITY, 3_501)],
        PostingStatus.EXCEEDS_DEBIT_BOUND,
        WALLET_A,
    ),
    "debit bound: reserve more than is available": Row(
        [transfer("hold", WALLET_A, UTILITY, 3_501, phase=PENDING)],
        PostingStatus.EXCEEDS_DEBIT_BOUND,
        WALLET_A,
    ),
    "debit bound: the fee breaks a linked list whose principal fits": Row(
        [
            transfer("principal", WALLET_A, UTILITY, 3_000),
            transfer("fee", WALLET_A, REVENUE, 501, purpose=Purpose.FEE),
        ],
        PostingStatus.EXCEEDS_DEBIT_BOUND,
        WALLET_A,
    ),
    "debit bound: a void in the same list frees only what it held": Row(
        [
            transfer("void-1", WALLET_A, UTILITY, 500, phase=VOID, pending_id="hold-1"),
            transfer("spend", WALLET_A, UTILITY, 4_001),
        ],
        PostingStatus.EXCEEDS_DEBIT_BOUND,
        WALLET_A,
    ),
    "debit bound: an organisation's utility account": Row(
        [transfer("sweep", UTILITY, WORKING, 1_001)],
        PostingStatus.EXCEEDS_DEBIT_BOUND,
        UTILITY,
    ),
    # --- exceeds_credit_bound -------------------------------------------------------------
    "credit bound: fund a wallet past its limit": Row(
        [transfer("fund-b", FLOAT, WALLET_B, 5_001, purpose=Purpose.FUNDING)],
        PostingStatus.EXCEEDS_CREDIT_BOUND,
        WALLET_B,
    ),
    "credit bound: reserve a credit past the limit": Row(
        [transfer("hold-b", FLOAT, WALLET_B, 5_001, phase=PENDING)],
        PostingStatus.EXCEEDS_CREDIT_BOUND,
        WALLET_B,
    ),
    "credit bound: two credits that fit alone": Row(
        [
            transfer("send", WALLET_A, WALLET_B, 1_000),
            transfer("fund-b", FLOAT, WALLET_B, 4_001, purpose=Purpose.FUNDING),
        ],
        PostingStatus.EXCEEDS_CREDIT_BOUND,
        WALLET_B,
    ),
    # --- ok -------------------------------------------------------------------------------
    "ok: spend exactly what is available": Row(
        [transfer("spend", WALLET_A, UTILITY, 3_500)], PostingStatus.OK
    ),
    "ok: principal and fee together": Row(
        [
            transfer("principal", WALLET_A, UTILITY, 3_000, transaction_id="tx-2"),
            transfer("fee", WALLET_A, REVENUE, 500, purpose=Purpose.FEE, transaction_id="tx-2"),
            transfer("charge", CHARGES, REVENUE, 30, purpose=Purpose.FEE, transaction_id="tx-2"),
        ],
        PostingStatus.OK,
    ),
    "ok: post a reservation": Row(
        [transfer("post-1", WALLET_A, UTILITY, 500, phase=POST, pending_id="hold-1")],
        PostingStatus.OK,
    ),
    "ok: void a reservation and spend what it held": Row(
        [
            transfer("void-1", WALLET_A, UTILITY, 500, phase=VOID, pending_id="hold-1"),
            transfer("spend", WALLET_A, UTILITY, 4_000),
        ],
        PostingStatus.OK,
    ),
    "ok: fill a wallet to its limit": Row(
        [transfer("fund-b", FLOAT, WALLET_B, 5_000, purpose=Purpose.FUNDING)], PostingStatus.OK
    ),
}


@pytest.fixture
def ledger(engine: Engine) -> Iterator[LedgerStore]:
    store = LedgerStore()
    open_standard_accounts(engine, store)
    for requests in SETUP:
        assert post(engine, store, requests).status is PostingStatus.OK
    yield store


@pytest.mark.parametrize("row", list(ROWS.values()), ids=list(ROWS))
def test_post_outcome(engine: Engine, ledger: LedgerStore, row: Row) -> None:
    before, count_before = account_totals(engine), transfer_count(engine)

    result = post(engine, ledger, row.requests)

    assert (result.status, result.account) == (row.status, row.account)
    if result.status is PostingStatus.OK:
        assert transfer_count(engine) == count_before + len(row.requests)
    else:
        assert account_totals(engine) == before
        assert transfer_count(engine) == count_before
    assert violations(engine) == []


def test_post_replay_moves_nothing(engine: Engine, ledger: LedgerStore) -> None:
    requests = [transfer("spend", WALLET_A, UTILITY, 1_000), transfer("fee", WALLET_A, REVENUE, 5)]
    assert post(engine, ledger, requests).status is PostingStatus.OK
    after_first = account_totals(engine)

    for _ in range(3):
        assert post(engine, ledger, requests).status is PostingStatus.EXISTS

    assert account_totals(engine) == after_first


def test_post_two_phase_moves(engine: Engine, ledger: LedgerStore) -> None:
    # hold-1 reserves 500 of wallet A for the utility; posting it moves the money.
    assert account_totals(engine)[WALLET_A] == (1_000, 5_000, 500, 0)
    assert account_totals(engine)[UTILITY] == (0, 1_000, 0, 500)

    post(
        engine,
        ledger,
        [transfer("post-1", WALLET_A, UTILITY, 500, phase=POST, pending_id="hold-1")],
    )

    assert account_totals(engine)[WALLET_A] == (1_500, 5_000, 0, 0)
    assert account_totals(engine)[UTILITY] == (0, 1_500, 0, 0)


def test_post_void_releases_without_moving(engine: Engine, ledger: LedgerStore) -> None:
    post(
        engine,
        ledger,
        [transfer("void-1", WALLET_A, UTILITY, 500, phase=VOID, pending_id="hold-1")],
    )

    assert account_totals(engine)[WALLET_A] == (1_000, 5_000, 0, 0)
    assert account_totals(engine)[UTILITY] == (0, 1_000, 0, 0)


@pytest.mark.parametrize(
    "request_",
    [
        transfer("zero", WALLET_A, UTILITY, 0),
        transfer("negative", WALLET_A, UTILITY, -1),
        transfer("self", WALLET_A, WALLET_A, 1),
        transfer("orphan-post", WALLET_A, UTILITY, 1, phase=POST),
        transfer("pending-with-target", WALLET_A, UTILITY, 1, pending_id="hold-1"),
    ],
    ids=lambda request: request.id,
)
def test_post_malformed_request_raises(
    engine: Engine, ledger: LedgerStore, request_: TransferRequest
) -> None:
    # A malformed request is a caller bug, not a business outcome: it fails loudly.
    with pytest.raises(InvariantViolation):
        post(engine, ledger, [request_])
    assert violations(engine) == []
