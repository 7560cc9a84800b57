"""A Hypothesis state machine that drives LedgerStore like a busy, careless caller.

It opens accounts, funds wallets, posts random linked lists (many of which must be refused),
replays earlier ids, and reserves, posts and voids. A plain-Python model predicts every
outcome; after every step the database must verify clean and match the model exactly.
"""

from __future__ import annotations

import itertools
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from pesabox.domain import accounts as ledger_accounts
from pesabox.domain.accounts import AccountSpec
from pesabox.domain.ledger import Phase, PostingResult, PostingStatus, Purpose, TransferRequest
from pesabox.storage.db import make_engine, write_transaction
from pesabox.storage.ledger_queries import snapshot_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.ledger_verify import verify
from pesabox.storage.migrate import upgrade_to_head
from pesabox.storage.tables import accounts, transfers
from tests.databases import fresh_database_url
from tests.ledger import Totals

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
SETTINGS = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# Mostly amounts that fit, some that break any wallet's bounds.
AMOUNTS = st.one_of(st.integers(1, 3_000), st.integers(3_001, 60_000))
RESOLUTIONS = (Phase.POST_PENDING, Phase.VOID_PENDING)


# --- the model ----------------------------------------------------------------------------


@dataclass
class ModelAccount:
    min_balance_cents: int | None
    max_balance_cents: int | None
    # debits_posted, credits_posted, debits_pending, credits_pending
    totals: list[int] = field(default_factory=lambda: [0, 0, 0, 0])

    def fits(self, move: list[int]) -> bool:
        debits, credits, debits_pending, credits_pending = (
            total + change for total, change in zip(self.totals, move, strict=True)
        )
        balance = credits - debits
        if self.min_balance_cents is not None and balance - debits_pending < self.min_balance_cents:
            return False
        return self.max_balance_cents is None or balance + credits_pending <= self.max_balance_cents


def net_moves(requests: list[TransferRequest]) -> dict[str, list[int]]:
    """Each account's net change, keyed in the order the accounts first appear."""
    moves: dict[str, list[int]] = {}
    for request in requests:
        debit = moves.setdefault(request.debit_account, [0, 0, 0, 0])
        credit = moves.setdefault(request.credit_account, [0, 0, 0, 0])
        amount = request.amount_cents
        if request.phase in (Phase.POSTED, Phase.POST_PENDING):
            debit[0] += amount
            credit[1] += amount
        if request.phase == Phase.PENDING:
            debit[2] += amount
            credit[3] += amount
        if request.phase in RESOLUTIONS:
            debit[2] -= amount
            credit[3] -= amount
    return moves


class LedgerModel:
    """What the ledger should hold, and what each posting should answer, in plain Python."""

    def __init__(self) -> None:
        self.accounts: dict[str, ModelAccount] = {}
        self.transfers: dict[str, TransferRequest] = {}
        self.resolved: set[str] = set()

    def open(self, spec: AccountSpec) -> None:
        self.accounts.setdefault(
            spec.code, ModelAccount(spec.min_balance_cents, spec.max_balance_cents)
        )

    def pending(self) -> list[TransferRequest]:
        return [t for t in self.transfers.values() if t.phase == Phase.PENDING]

    def open_pending(self) -> list[TransferRequest]:
        return [t for t in self.pending() if t.id not in self.resolved]

    def expect(self, requests: list[TransferRequest]) -> PostingResult:
        status = self._replay_status(requests) or self._pending_status(requests)
        if status is not None:
            return PostingResult(status)
        for code, move in net_moves(requests).items():
            if not self.accounts[code].fits(move):
                is_debit = move[0] + move[2] > move[1] + move[3]
                refused = (
                    PostingStatus.EXCEEDS_DEBIT_BOUND
                    if is_debit
                    else PostingStatus.EXCEEDS_CREDIT_BOUND
                )
                return PostingResult(refused, account=code)
        return PostingResult(PostingStatus.OK)

    def apply(self, requests: list[TransferRequest]) -> None:
        for code, move in net_moves(requests).items():
            totals = self.accounts[code].totals
            totals[:] = [total + change for total, change in zip(totals, move, strict=True)]
        for request in requests:
            self.transfers[request.id] = request
            if request.pending_id is not None:
                self.resolved.add(request.pending_id)

    def _replay_status(self, requests: list[TransferRequest]) -> PostingStatus | None:
        existing = [self.transfers[r.id] for r in requests if r.id in self.transfers]
        if not existing:
            return None
        if existing != requests:
            return PostingStatus.EXISTS_WITH_DIFFERENT_FIELDS
        return PostingStatus.EXISTS

    def _pending_status(self, requests: list[TransferRequest]) -> PostingStatus | None:
        for request in requests:
            if request.pending_id is None:
                continue
            target = self.transfers.get(request.pending_id)
            if target is None or target.phase != Phase.PENDING:
                return PostingStatus.PENDING_NOT_FOUND
            if (target.debit_account, target.credit_account, target.amount_cents) != (
                request.debit_account,
                request.credit_account,
                request.amount_cents,
            ):
                return PostingStatus.EXISTS_WITH_DIFFERENT_FIELDS
            if request.pending_id in self.resolved:
                return PostingStatus.PENDING_ALREADY_RESOLVED
        return None


# --- the machine --------------------------------------------------------------------------


class LedgerMachine(RuleBasedStateMachine):
    # Set by the test on a subclass: which database, and where SQLite files may go.
    database_kind: ClassVar[str] = "sqlite"
    root: ClassVar[Path] = Path(tempfile.gettempdir())

    def __init__(self) -> None:
        super().__init__()
        self.resources = ExitStack()
        # Every example gets a database of its own, migrated from nothing.
        directory = tempfile.mkdtemp(dir=self.root)
        url = self.resources.enter_context(fresh_database_url(self.database_kind, directory))
        self.engine = make_engine(url, pool_size=2)
        self.resources.callback(self.engine.dispose)
        upgrade_to_head(self.engine)
        self.store = LedgerStore()
        self.model = LedgerModel()
        self.accepted: list[list[TransferRequest]] = []
        self.ids = itertools.count()
        self.now = 1_700_000_000.0

    def teardown(self) -> None:
        self.resources.close()

    # --- accounts -------------------------------------------------------------------------

    @initialize(max_balance_cents=st.integers(1_000, 50_000))
    def open_starting_accounts(self, max_balance_cents: int) -> None:
        # Platform accounts, one wallet and one organisation, so bounds matter from step one.
        self._open(ledger_accounts.PLATFORM_ACCOUNTS)
        self.open_wallet(0, max_balance_cents)
        self.open_organisation("600100")

    @rule(number=st.integers(0, 5), max_balance_cents=st.integers(1_000, 50_000))
    def open_wallet(self, number: int, max_balance_cents: int) -> None:
        msisdn = f"25470000000{number}"
        self._open([ledger_accounts.customer_wallet(msisdn, max_balance_cents=max_balance_cents)])

    @rule(shortcode=st.sampled_from(["600100", "600200"]))
    def open_organisation(self, shortcode: str) -> None:
        self._open(ledger_accounts.org_accounts(shortcode))

    # --- postings -------------------------------------------------------------------------

    @precondition(lambda self: self._wallets())
    @rule(data=st.data(), amount_cents=AMOUNTS)
    def fund_wallet(self, data: st.DataObject, amount_cents: int) -> None:
        wallet = data.draw(st.sampled_from(self._wallets()))
        funding = self._transfer(
            ledger_accounts.FLOAT.code, wallet, amount_cents, purpose=Purpose.FUNDING
        )
        self._submit([funding])

    @rule(data=st.data(), amount_cents=st.integers(1, 3_000))
    def reserve(self, data: st.DataObject, amount_cents: int) -> None:
        # A reservation on a bounded account (a wallet or an organisation's), as STK does.
        bounded = st.sampled_from(self._bounded())
        debit, credit = data.draw(
            st.lists(st.one_of(bounded, self._accounts([])), min_size=2, max_size=2, unique=True)
        )
        self._submit([self._transfer(debit, credit, amount_cents, phase=Phase.PENDING)])

    @rule(data=st.data())
    def post_linked(self, data: st.DataObject) -> None:
        requests: list[TransferRequest] = []
        for _ in range(data.draw(st.integers(1, 3))):
            kind = data.draw(st.sampled_from(["posted", "posted", "pending", "resolve"]))
            if kind == "resolve":
                drawn = self._draw_resolution(data, requests)
            else:
                drawn = self._draw_transfer(data, Phase(kind), requests)
            if drawn is not None:
                requests.append(drawn)
        if requests:
            self._submit(requests)

    @precondition(lambda self: self.accepted)
    @rule(data=st.data(), change=st.sampled_from(["none", "amount", "purpose", "extra"]))
    def replay(self, data: st.DataObject, change: str) -> None:
        earlier = data.draw(st.sampled_from(self.accepted))
        if change == "none":
            assert self._submit(list(earlier)).status is PostingStatus.EXISTS
            return
        if change == "extra":
            changed = [*earlier, replace(earlier[0], id=self._new_id())]
        else:
            first = earlier[0]
            changed_first = (
                replace(first, amount_cents=first.amount_cents + 1)
                if change == "amount"
                else replace(first, purpose=Purpose.REVERSAL)
            )
            changed = [changed_first, *earlier[1:]]
        assert self._submit(changed).status is PostingStatus.EXISTS_WITH_DIFFERENT_FIELDS

    @precondition(lambda self: self.model.open_pending())
    @rule(data=st.data(), phase=st.sampled_from(RESOLUTIONS), again=st.sampled_from(RESOLUTIONS))
    def resolve_pending(self, data: st.DataObject, phase: Phase, again: Phase) -> None:
        target = data.draw(st.sampled_from(self.model.open_pending()))
        assert self._submit([self._resolution(target, phase)]).ok
        # A reservation resolves once: a second post or void, under a new id, is refused.
        second = self._submit([self._resolution(target, again)])
        assert second.status is PostingStatus.PENDING_ALREADY_RESOLVED

    @precondition(lambda self: self.model.open_pending())
    @rule(data=st.data(), phase=st.sampled_from(RESOLUTIONS), amount_cents=AMOUNTS)
    def resolve_and_move(self, data: st.DataObject, phase: Phase, amount_cents: int) -> None:
        # Resolving a reservation loosens a bound on each of its accounts; a transfer in the
        # same linked list that tightens that bound again must be checked against the rest.
        bounded = set(self._bounded())
        open_pending = self.model.open_pending()
        on_bounded = [t for t in open_pending if {t.debit_account, t.credit_account} & bounded]
        target = data.draw(st.sampled_from(on_bounded or open_pending))
        others = sorted(set(self.model.accounts) - {target.debit_account, target.credit_account})
        other = data.draw(st.sampled_from(others))
        if target.debit_account in bounded:
            move = self._transfer(target.debit_account, other, amount_cents)
        else:
            move = self._transfer(other, target.credit_account, amount_cents)
        self._submit(data.draw(st.permutations([self._resolution(target, phase), move])))

    # --- the check after every step ------------------------------------------------------

    @invariant()
    def database_verifies_and_matches_model(self) -> None:
        query = select(
            accounts.c.code,
            accounts.c.debits_posted,
            accounts.c.credits_posted,
            accounts.c.debits_pending,
            accounts.c.credits_pending,
        )
        with snapshot_transaction(self.engine) as conn:
            problems = verify(conn)
            stored: dict[str, Totals] = {
                row[0]: (row[1], row[2], row[3], row[4]) for row in conn.execute(query)
            }
            stored_ids = set(conn.execute(select(transfers.c.id)).scalars())
        assert problems == []
        assert stored == {code: tuple(a.totals) for code, a in self.model.accounts.items()}
        assert stored_ids == set(self.model.transfers)

    # --- helpers --------------------------------------------------------------------------

    def _open(self, specs: list[AccountSpec]) -> None:
        with write_transaction(self.engine) as conn:
            self.store.ensure_accounts(conn, specs, self.now)
        for spec in specs:
            self.model.open(spec)

    def _bounded(self) -> list[str]:
        return [
            code
            for code, account in self.model.accounts.items()
            if account.min_balance_cents is not None or account.max_balance_cents is not None
        ]

    def _wallets(self) -> list[str]:
        return [code for code in self.model.accounts if code.startswith("wallet:")]

    def _new_id(self) -> str:
        return f"t{next(self.ids)}"

    def _transfer(
        self,
        debit: str,
        credit: str,
        amount_cents: int,
        *,
        purpose: Purpose = Purpose.PRINCIPAL,
        phase: Phase = Phase.POSTED,
    ) -> TransferRequest:
        return TransferRequest(
            self._new_id(), debit, credit, amount_cents, purpose, f"tx{self.now}", phase
        )

    def _resolution(self, target: TransferRequest, phase: Phase) -> TransferRequest:
        return replace(target, id=self._new_id(), phase=phase, pending_id=target.id)

    def _draw_transfer(
        self, data: st.DataObject, phase: Phase, so_far: list[TransferRequest]
    ) -> TransferRequest:
        debit, credit = data.draw(
            st.lists(self._accounts(so_far), min_size=2, max_size=2, unique=True)
        )
        return self._transfer(debit, credit, data.draw(AMOUNTS), phase=phase)

    def _accounts(self, so_far: list[TransferRequest]) -> st.SearchStrategy[str]:
        # Lean towards accounts the list already touches: linked transfers that share an
        # account are where netting, bounds and releases interact.
        every = st.sampled_from(sorted(self.model.accounts))
        touched = sorted({code for r in so_far for code in (r.debit_account, r.credit_account)})
        return st.one_of(st.sampled_from(touched), every) if touched else every

    def _draw_resolution(
        self, data: st.DataObject, so_far: list[TransferRequest]
    ) -> TransferRequest | None:
        # Mostly a reservation still open; else any, resolved or not, or one never made.
        never_made = self._transfer(*self._first_two(), 100, phase=Phase.PENDING)
        anything = st.sampled_from([*self.model.pending(), never_made])
        open_pending = self.model.open_pending()
        targets = st.one_of(st.sampled_from(open_pending), anything) if open_pending else anything
        target = data.draw(targets)
        if any(r.pending_id == target.id for r in so_far):
            # Two resolutions of one reservation in one list are a caller bug, not an outcome.
            return None
        resolution = self._resolution(target, data.draw(st.sampled_from(RESOLUTIONS)))
        return self._maybe_mismatch(data, resolution, so_far)

    def _maybe_mismatch(
        self, data: st.DataObject, resolution: TransferRequest, so_far: list[TransferRequest]
    ) -> TransferRequest:
        change = data.draw(st.sampled_from(["none", "none", "none", "amount", "account"]))
        if change == "amount":
            return replace(resolution, amount_cents=resolution.amount_cents + 1)
        if change == "account":
            other = data.draw(self._accounts(so_far))
            if other not in (resolution.debit_account, resolution.credit_account):
                return replace(resolution, credit_account=other)
        return resolution

    def _first_two(self) -> tuple[str, str]:
        first, second = sorted(self.model.accounts)[:2]
        return first, second

    def _submit(self, requests: list[TransferRequest]) -> PostingResult:
        expected = self.model.expect(requests)
        self.now += 1.0
        with write_transaction(self.engine) as conn:
            actual = self.store.post(conn, requests, now=self.now)
        assert actual == expected, f"posting {requests}"
        event(f"posting: {actual.status}")
        if actual.status is PostingStatus.OK:
            self.model.apply(requests)
            self.accepted.append(requests)
        return actual


@pytest.mark.parametrize("database_kind", DATABASES)
def test_ledger_state_machine_keeps_invariants(database_kind: str, tmp_path: Path) -> None:
    machine = type(
        "LedgerMachineOn" + database_kind.title(),
        (LedgerMachine,),
        {"database_kind": database_kind, "root": tmp_path},
    )
    run_state_machine_as_test(machine, settings=SETTINGS)
