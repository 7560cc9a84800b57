"""Balances, an owner's accounts and statements, read back from a small known ledger."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from pesabox.domain.ledger import Phase, Purpose
from pesabox.storage.ledger_queries import (
    STATEMENT_LIMIT_MAX,
    LedgerSize,
    account_balance,
    accounts_for_owner,
    ledger_size,
    snapshot_transaction,
    statement,
)
from pesabox.storage.ledger_store import LedgerStore
from tests.ledger import (
    CHARGES,
    FLOAT,
    MSISDN_A,
    NOW,
    REVENUE,
    SHORTCODE,
    UTILITY,
    WALLET_A,
    WALLET_A_MAX_CENTS,
    WORKING,
    open_standard_accounts,
    post,
    transfer,
)


@pytest.fixture
def ledger(engine: Engine) -> Iterator[LedgerStore]:
    # One posting per second, so "newest first" is unambiguous.
    store = LedgerStore()
    open_standard_accounts(engine, store)
    postings = [
        [transfer("fund-a", FLOAT, WALLET_A, 5_000, purpose=Purpose.FUNDING)],
        [
            transfer("pay-1", WALLET_A, UTILITY, 1_000, transaction_id="tx-1"),
            transfer("fee-1", WALLET_A, REVENUE, 50, purpose=Purpose.FEE, transaction_id="tx-1"),
        ],
        [transfer("hold-1", WALLET_A, UTILITY, 500, phase=Phase.PENDING, transaction_id="tx-2")],
        [transfer("post-1", WALLET_A, UTILITY, 500, phase=Phase.POST_PENDING, pending_id="hold-1")],
        [transfer("hold-2", WALLET_A, UTILITY, 300, phase=Phase.PENDING, transaction_id="tx-3")],
    ]
    for offset_s, requests in enumerate(postings):
        assert post(engine, store, requests, now=NOW + offset_s).ok
    yield store


def test_account_balance_of_a_wallet(engine: Engine, ledger: LedgerStore) -> None:
    with snapshot_transaction(engine) as conn:
        found = account_balance(conn, WALLET_A)

    assert found == {
        "code": WALLET_A,
        "kind": "customer_wallet",
        "owner": MSISDN_A,
        "balance_cents": 3_450,
        "available_cents": 3_150,
        "debits_posted_cents": 1_550,
        "credits_posted_cents": 5_000,
        "debits_pending_cents": 300,
        "credits_pending_cents": 0,
        "min_balance_cents": 0,
        "max_balance_cents": WALLET_A_MAX_CENTS,
    }


def test_account_balance_unknown(engine: Engine, ledger: LedgerStore) -> None:
    with snapshot_transaction(engine) as conn:
        assert account_balance(conn, "wallet:000") is None


def test_accounts_for_owner_shortcode(engine: Engine, ledger: LedgerStore) -> None:
    with snapshot_transaction(engine) as conn:
        found = accounts_for_owner(conn, SHORTCODE)

    assert [a["code"] for a in found] == [UTILITY, WORKING, CHARGES]
    assert [a["balance_cents"] for a in found] == [1_500, 0, 0]
    assert found[0]["credits_pending_cents"] == 300
    assert found[2]["min_balance_cents"] is None


def test_accounts_for_owner_msisdn_and_unknown(engine: Engine, ledger: LedgerStore) -> None:
    with snapshot_transaction(engine) as conn:
        assert [a["code"] for a in accounts_for_owner(conn, MSISDN_A)] == [WALLET_A]
        assert accounts_for_owner(conn, "254799999999") == []


def test_statement_newest_first_with_running_balance(engine: Engine, ledger: LedgerStore) -> None:
    with snapshot_transaction(engine) as conn:
        lines = statement(conn, WALLET_A)

    summary = [
        (
            line["transfer_id"],
            line["direction"],
            line["amount_cents"],
            line["counterparty"],
            line["phase"],
            line["balance_after_cents"],
        )
        for line in lines
    ]
    # fee-1 and pay-1 share a time; the id breaks the tie, newest-looking (largest) first.
    assert summary == [
        ("hold-2", "debit", 300, UTILITY, "pending", 3_450),
        ("post-1", "debit", 500, UTILITY, "post_pending", 3_450),
        ("hold-1", "debit", 500, UTILITY, "pending", 3_950),
        ("pay-1", "debit", 1_000, UTILITY, "posted", 3_950),
        ("fee-1", "debit", 50, REVENUE, "posted", 4_950),
        ("fund-a", "credit", 5_000, FLOAT, "posted", 5_000),
    ]
    assert lines[0]["transaction_id"] == "tx-3"
    assert lines[1]["pending_id"] == "hold-1"
    assert lines[4]["purpose"] == "fee"
    assert lines[-1]["created_at"] == NOW


def test_statement_of_the_counterparty(engine: Engine, ledger: LedgerStore) -> None:
    with snapshot_transaction(engine) as conn:
        lines = statement(conn, UTILITY, limit=2)

    assert [(line["transfer_id"], line["direction"]) for line in lines] == [
        ("hold-2", "credit"),
        ("post-1", "credit"),
    ]
    assert [line["balance_after_cents"] for line in lines] == [1_500, 1_500]


def test_statement_limit_and_unknown(engine: Engine, ledger: LedgerStore) -> None:
    with snapshot_transaction(engine) as conn:
        assert len(statement(conn, WALLET_A, limit=1)) == 1
        assert statement(conn, "wallet:000") == []
        for limit in (0, STATEMENT_LIMIT_MAX + 1):
            with pytest.raises(ValueError):
                statement(conn, WALLET_A, limit=limit)


def test_ledger_size(engine: Engine, ledger: LedgerStore) -> None:
    with snapshot_transaction(engine) as conn:
        assert ledger_size(conn) == LedgerSize(accounts=8, transfers=6)
