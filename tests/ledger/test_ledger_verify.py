"""verify() must notice a corrupted ledger: each test breaks one thing behind the store's back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, Engine, select

from pesabox.domain.ledger import Phase, Purpose
from pesabox.storage.db import write_transaction
from pesabox.storage.ledger_queries import snapshot_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.ledger_verify import Rule, Violation, verify
from pesabox.storage.tables import accounts, transfers
from tests.ledger import (
    FLOAT,
    NOW,
    UTILITY,
    WALLET_A,
    WALLET_B,
    open_standard_accounts,
    post,
    transfer,
    violations,
)


@pytest.fixture
def ledger(engine: Engine) -> Iterator[LedgerStore]:
    # Wallet A: 4,000 posted, 500 reserved for the utility by hold-1.
    store = LedgerStore()
    open_standard_accounts(engine, store)
    post(engine, store, [transfer("fund-a", FLOAT, WALLET_A, 5_000, purpose=Purpose.FUNDING)])
    post(engine, store, [transfer("pay-1", WALLET_A, UTILITY, 1_000, transaction_id="tx-1")])
    post(engine, store, [transfer("hold-1", WALLET_A, UTILITY, 500, phase=Phase.PENDING)])
    yield store


def _rules(found: list[Violation]) -> set[str]:
    return {violation.rule for violation in found}


def _account_id(conn: Connection, code: str) -> int:
    return int(conn.execute(select(accounts.c.id).where(accounts.c.code == code)).scalar_one())


def _insert_transfer(
    conn: Connection,
    transfer_id: str,
    debit_id: int,
    credit_id: int,
    amount_cents: int,
    *,
    phase: str = "posted",
    pending_id: str | None = None,
    transaction_id: str | None = None,
) -> None:
    conn.execute(
        transfers.insert().values(
            id=transfer_id,
            debit_account_id=debit_id,
            credit_account_id=credit_id,
            amount_cents=amount_cents,
            phase=phase,
            pending_id=pending_id,
            transaction_id=transaction_id,
            purpose="principal",
            created_at=NOW,
        )
    )


def _move_totals(conn: Connection, code: str, **changes: int) -> None:
    values = {name: getattr(accounts.c, name) + change for name, change in changes.items()}
    conn.execute(accounts.update().where(accounts.c.code == code).values(**values))


@contextmanager
def _tamper(engine: Engine) -> Iterator[Connection]:
    with write_transaction(engine) as conn:
        yield conn


def test_verify_clean_ledger(engine: Engine, ledger: LedgerStore) -> None:
    assert violations(engine) == []


def test_verify_empty_database(engine: Engine) -> None:
    assert violations(engine) == []


@pytest.mark.parametrize(
    ("total", "stored", "wanted"),
    [("debits_posted", 999, 1_000), ("credits_posted", 4_999, 5_000), ("debits_pending", 499, 500)],
)
def test_verify_tampered_total(
    engine: Engine, ledger: LedgerStore, total: str, stored: int, wanted: int
) -> None:
    with _tamper(engine) as conn:
        _move_totals(conn, WALLET_A, **{total: -1})

    found = violations(engine)

    detail = f"{WALLET_A}: {total} is {stored}, its transfers add up to {wanted}"
    assert Violation(Rule.ACCOUNT_TOTALS, detail) in found
    assert Rule.ZERO_SUM in _rules(found)


def test_verify_transfer_without_totals(engine: Engine, ledger: LedgerStore) -> None:
    # Appending a transfer without moving the totals: both accounts disagree with history.
    with _tamper(engine) as conn:
        a, b = _account_id(conn, WALLET_A), _account_id(conn, WALLET_B)
        _insert_transfer(conn, "ghost", a, b, 100)

    found = violations(engine)

    assert _rules(found) == {Rule.ACCOUNT_TOTALS}
    assert {
        code for code in (WALLET_A, WALLET_B) for v in found if v.detail.startswith(f"{code}: ")
    } == {
        WALLET_A,
        WALLET_B,
    }


def test_verify_self_transfer(engine: Engine, ledger: LedgerStore) -> None:
    with _tamper(engine) as conn:
        a = _account_id(conn, WALLET_A)
        _insert_transfer(conn, "self", a, a, 100)
        _move_totals(conn, WALLET_A, debits_posted=100, credits_posted=100)

    assert _rules(violations(engine)) == {Rule.TRANSFER_ACCOUNTS}


@pytest.mark.parametrize("amount_cents", [0, -100])
def test_verify_amount_not_positive(engine: Engine, ledger: LedgerStore, amount_cents: int) -> None:
    with _tamper(engine) as conn:
        a, b = _account_id(conn, WALLET_A), _account_id(conn, WALLET_B)
        # Debit the empty wallet B so a negative amount cannot also break its bound.
        _insert_transfer(conn, "odd", b, a, amount_cents)
        _move_totals(conn, WALLET_B, debits_posted=amount_cents)
        _move_totals(conn, WALLET_A, credits_posted=amount_cents)

    assert _rules(violations(engine)) == {Rule.TRANSFER_AMOUNT}


def test_verify_broken_bound_with_consistent_totals(engine: Engine, ledger: LedgerStore) -> None:
    # An overdraft written straight to the tables, totals and all: only the bound is wrong.
    with _tamper(engine) as conn:
        a, utility = _account_id(conn, WALLET_A), _account_id(conn, UTILITY)
        _insert_transfer(conn, "overdraft", a, utility, 9_000)
        _move_totals(conn, WALLET_A, debits_posted=9_000)
        _move_totals(conn, UTILITY, credits_posted=9_000)

    found = violations(engine)

    assert _rules(found) == {Rule.BOUNDS}
    assert found[0].detail.startswith(f"{WALLET_A}: balance -5000")


def test_verify_bound_counts_pending_debits(engine: Engine, ledger: LedgerStore) -> None:
    # 4,000 posted less 500 reserved: a minimum of 3,501 is broken only by the reservation.
    with _tamper(engine) as conn:
        conn.execute(
            accounts.update().where(accounts.c.code == WALLET_A).values(min_balance_cents=3_501)
        )

    assert _rules(violations(engine)) == {Rule.BOUNDS}


def test_verify_bound_on_maximum(engine: Engine, ledger: LedgerStore) -> None:
    with _tamper(engine) as conn:
        conn.execute(
            accounts.update().where(accounts.c.code == WALLET_A).values(max_balance_cents=3_999)
        )

    assert _rules(violations(engine)) == {Rule.BOUNDS}


def test_verify_resolution_of_a_posted_transfer(engine: Engine, ledger: LedgerStore) -> None:
    with _tamper(engine) as conn:
        a, utility = _account_id(conn, WALLET_A), _account_id(conn, UTILITY)
        _insert_transfer(
            conn, "void-pay", a, utility, 1_000, phase="void_pending", pending_id="pay-1"
        )

    assert Rule.PENDING_RESOLUTION in _rules(violations(engine))


@pytest.mark.parametrize(
    ("amount_cents", "debit", "credit"),
    [(400, WALLET_A, UTILITY), (500, WALLET_B, UTILITY), (500, WALLET_A, WALLET_B)],
    ids=["amount", "debit account", "credit account"],
)
def test_verify_resolution_mismatch(
    engine: Engine, ledger: LedgerStore, amount_cents: int, debit: str, credit: str
) -> None:
    with _tamper(engine) as conn:
        debit_id, credit_id = _account_id(conn, debit), _account_id(conn, credit)
        _insert_transfer(
            conn,
            "void-1",
            debit_id,
            credit_id,
            amount_cents,
            phase="void_pending",
            pending_id="hold-1",
        )

    found = violations(engine)

    assert any(
        v.rule == Rule.PENDING_RESOLUTION and "another amount or other accounts" in v.detail
        for v in found
    )


def test_verify_resolved_twice(engine: Engine, ledger: LedgerStore) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite cannot drop the unique constraint that normally forbids this")
    with _tamper(engine) as conn:
        conn.exec_driver_sql("ALTER TABLE transfers DROP CONSTRAINT uq_transfers_pending_id")
        a, utility = _account_id(conn, WALLET_A), _account_id(conn, UTILITY)
        for transfer_id in ("void-1", "void-1-again"):
            _insert_transfer(
                conn, transfer_id, a, utility, 500, phase="void_pending", pending_id="hold-1"
            )

    found = violations(engine)

    assert (
        Violation(Rule.PENDING_RESOLUTION, "pending transfer hold-1 is resolved 2 times") in found
    )


@pytest.mark.parametrize(
    ("phase", "pending_id"),
    [("bogus", None), ("post_pending", None), ("posted", "hold-1")],
    ids=["unknown phase", "post without target", "posted with target"],
)
def test_verify_phase_shape(
    engine: Engine, ledger: LedgerStore, phase: str, pending_id: str | None
) -> None:
    with _tamper(engine) as conn:
        a, b = _account_id(conn, WALLET_A), _account_id(conn, WALLET_B)
        _insert_transfer(conn, "odd", a, b, 1, phase=phase, pending_id=pending_id)

    assert Rule.TRANSFER_PHASE in _rules(violations(engine))


def test_verify_missing_account_unbalances_its_transaction(
    engine: Engine, ledger: LedgerStore
) -> None:
    _drop_foreign_keys_and_insert(engine, "orphan", WALLET_A, 999_999, "tx-orphan")

    found = violations(engine)

    assert (
        Violation(Rule.TRANSFER_ACCOUNTS, "transfer orphan: its credit account does not exist")
        in found
    )
    assert (
        Violation(Rule.TRANSACTION_BALANCE, "transaction tx-orphan: debits 100 but credits 0")
        in found
    )


def test_verify_limit_per_rule(engine: Engine, ledger: LedgerStore) -> None:
    with _tamper(engine) as conn:
        for code in (WALLET_A, WALLET_B, UTILITY):
            _move_totals(conn, code, credits_pending=1)

    with snapshot_transaction(engine) as conn:
        limited = verify(conn, limit_per_rule=2)
        with pytest.raises(ValueError):
            verify(conn, limit_per_rule=0)

    assert [v.rule for v in limited].count(Rule.ACCOUNT_TOTALS) == 2


def _drop_foreign_keys_and_insert(
    engine: Engine, transfer_id: str, debit: str, missing_id: int, transaction_id: str
) -> None:
    """Insert a transfer whose credit account does not exist, which the schema forbids."""
    with snapshot_transaction(engine) as conn:
        debit_id = _account_id(conn, debit)
    values = (transfer_id, debit_id, missing_id, transaction_id, NOW)
    insert = (
        "INSERT INTO transfers (id, debit_account_id, credit_account_id, amount_cents, phase,"
        " transaction_id, purpose, created_at) VALUES ({}, {}, {}, 100, 'posted', {},"
        " 'principal', {})"
    )
    if engine.dialect.name == "sqlite":
        # SQLite: foreign keys are a per-connection switch, honoured only outside a
        # transaction; the connection is thrown away afterwards so the pool stays strict.
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA foreign_keys=OFF")
            cursor.execute(insert.format("?", "?", "?", "?", "?"), values)
            cursor.execute(
                "UPDATE accounts SET debits_posted = debits_posted + 100 WHERE id = ?", (debit_id,)
            )
            cursor.close()
        finally:
            raw.invalidate()
        return
    with write_transaction(engine) as conn:
        conn.exec_driver_sql(
            "ALTER TABLE transfers DROP CONSTRAINT fk_transfers_credit_account_id_accounts"
        )
        conn.exec_driver_sql(insert.format("%s", "%s", "%s", "%s", "%s"), values)
        _move_totals(conn, debit, debits_posted=100)
