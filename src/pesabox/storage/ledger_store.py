"""The ledger on a database connection: accounts, transfers and their running totals.

Every function here runs inside a db transaction it is handed and never commits. Bounds are
checked by the UPDATE that moves the totals (its WHERE clause), so two processes posting to
the same wallet at once can never both pass the check: the database decides.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from pesabox.domain.accounts import AccountSpec
from pesabox.domain.ledger import (
    InvariantViolation,
    Phase,
    PostingResult,
    PostingStatus,
    TransferRequest,
)
from pesabox.storage.fastsql import Statement
from pesabox.storage.tables import accounts

# Moves posted totals unless the result would cross a bound. `available` leaves out money
# that a pending debit reserves, so a reservation cannot be spent twice.
_MOVE_POSTED = Statement(
    """
    UPDATE accounts
       SET debits_posted = debits_posted + :debit, credits_posted = credits_posted + :credit
     WHERE id = :id
       AND (min_balance_cents IS NULL OR :debit <= :credit
            OR credits_posted - debits_posted - debits_pending + :credit - :debit
               >= min_balance_cents)
       AND (max_balance_cents IS NULL OR :credit <= :debit
            OR credits_posted - debits_posted + credits_pending + :credit - :debit
               <= max_balance_cents)
    """
)
_MOVE_PENDING = Statement(
    """
    UPDATE accounts
       SET debits_pending = debits_pending + :debit, credits_pending = credits_pending + :credit
     WHERE id = :id
       AND (min_balance_cents IS NULL OR :debit = 0
            OR credits_posted - debits_posted - debits_pending - :debit >= min_balance_cents)
       AND (max_balance_cents IS NULL OR :credit = 0
            OR credits_posted - debits_posted + credits_pending + :credit <= max_balance_cents)
    """
)
_UNBOUNDED_MOVE = Statement(
    """
    UPDATE accounts
       SET debits_posted = debits_posted + :debit, credits_posted = credits_posted + :credit,
           debits_pending = debits_pending + :debit_pending,
           credits_pending = credits_pending + :credit_pending
     WHERE id = :id
    """
)
_ADD_DAILY = Statement(
    """
    INSERT INTO daily_totals (account_id, day, debits_cents)
    SELECT id, :day, :amount FROM accounts WHERE code = :code
    ON CONFLICT (account_id, day) DO UPDATE
       SET debits_cents = daily_totals.debits_cents + excluded.debits_cents
     WHERE daily_totals.debits_cents + excluded.debits_cents <= :limit
    """
)


_TRANSFER_FIELDS = (
    "debit_account_id",
    "credit_account_id",
    "amount_cents",
    "phase",
    "pending_id",
    "purpose",
    "transaction_id",
)
_ACCOUNT_ID = Statement("SELECT id FROM accounts WHERE code = :code")
_BALANCE = Statement("SELECT credits_posted - debits_posted FROM accounts WHERE code = :code")
_TRANSFER_BY_ID = Statement(
    """
    SELECT debit_account_id, credit_account_id, amount_cents, phase, pending_id, purpose,
           transaction_id
      FROM transfers WHERE id = :id
    """
)
# Resolving a reservation (C2B validation) reads its target twice; on the payment path.
_PENDING_TARGET = Statement(
    "SELECT phase, amount_cents, debit_account_id, credit_account_id FROM transfers WHERE id = :id"
)
_RESOLVED_BY = Statement("SELECT id FROM transfers WHERE pending_id = :id")
_INSERT_TRANSFER = Statement(
    """
    INSERT INTO transfers (id, debit_account_id, credit_account_id, amount_cents, phase,
                           pending_id, transaction_id, purpose, created_at)
    VALUES (:id, :debit_account_id, :credit_account_id, :amount_cents, :phase, :pending_id,
            :transaction_id, :purpose, :created_at)
    """
)


@dataclass(frozen=True, slots=True)
class _Move:
    """Net change to one account's four totals from one posting."""

    debit: int = 0
    credit: int = 0
    debit_pending: int = 0
    credit_pending: int = 0


class LedgerStore:
    """Account lookups (cached: accounts are never deleted) and atomic postings."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    # --- accounts ---------------------------------------------------------------------

    def ensure_accounts(self, conn: Connection, specs: Iterable[AccountSpec], now: float) -> None:
        for spec in specs:
            if self.find_account_id(conn, spec.code) is not None:
                continue
            conn.execute(
                accounts.insert().values(
                    code=spec.code,
                    kind=str(spec.kind),
                    owner=spec.owner,
                    min_balance_cents=spec.min_balance_cents,
                    max_balance_cents=spec.max_balance_cents,
                    created_at=now,
                )
            )

    def find_account_id(self, conn: Connection, code: str) -> int | None:
        cached = self._ids.get(code)
        if cached is not None:
            return cached
        row = _ACCOUNT_ID.one_or_none(conn, {"code": code})
        if row is None:
            return None
        self._ids[code] = int(row[0])
        return self._ids[code]

    def account_id(self, conn: Connection, code: str) -> int:
        found = self.find_account_id(conn, code)
        if found is None:
            raise InvariantViolation(f"no ledger account {code}")
        return found

    def balance_cents(self, conn: Connection, code: str) -> int:
        row = _BALANCE.one_or_none(conn, {"code": code})
        if row is None:
            raise InvariantViolation(f"no ledger account {code}")
        return int(row[0])

    def forget(self) -> None:
        """Drop cached ids; called after a rollback that may have undone new accounts."""
        self._ids.clear()

    # --- postings ---------------------------------------------------------------------

    def post(
        self,
        conn: Connection,
        requests: Sequence[TransferRequest],
        *,
        now: float,
        known_new: bool = False,
    ) -> PostingResult:
        """Post linked transfers all together, or none of them.

        Replaying the same ids returns EXISTS and moves nothing; the same ids with other
        fields is EXISTS_WITH_DIFFERENT_FIELDS. A refused posting leaves no trace.
        `known_new` skips the replay lookup for a caller that knows its ids are unused; the
        primary key still refuses a duplicate (as an IntegrityError).
        """
        for request in requests:
            request.check()
        replay = None if known_new else self._replay_status(conn, requests)
        if replay is not None:
            return PostingResult(replay)
        resolved = self._check_pending_targets(conn, requests)
        if resolved is not None:
            return PostingResult(resolved)
        moves = self._net_moves(requests)
        refused = self._apply_moves(conn, moves)
        if refused is not None:
            return refused
        _INSERT_TRANSFER.executemany(conn, [self._row(conn, r, now) for r in requests])
        return PostingResult(PostingStatus.OK)

    def add_daily_debit(
        self, conn: Connection, *, account_code: str, day: str, amount_cents: int, limit_cents: int
    ) -> bool:
        """Count a debit against the account's daily limit; False if it would exceed it."""
        if amount_cents > limit_cents:
            return False
        params = {"code": account_code, "day": day, "amount": amount_cents, "limit": limit_cents}
        return _ADD_DAILY.rowcount(conn, params) > 0

    def _replay_status(
        self, conn: Connection, requests: Sequence[TransferRequest]
    ) -> PostingStatus | None:
        existing: dict[str, dict[str, Any]] = {}
        for request in requests:
            row = _TRANSFER_BY_ID.one_or_none(conn, {"id": request.id})
            if row is not None:
                existing[request.id] = dict(zip(_TRANSFER_FIELDS, row, strict=True))
        if not existing:
            return None
        if len(existing) != len(requests):
            return PostingStatus.EXISTS_WITH_DIFFERENT_FIELDS
        for request in requests:
            if not self._same(conn, request, existing[request.id]):
                return PostingStatus.EXISTS_WITH_DIFFERENT_FIELDS
        return PostingStatus.EXISTS

    def _same(self, conn: Connection, request: TransferRequest, row: Any) -> bool:
        return bool(
            row["debit_account_id"] == self.account_id(conn, request.debit_account)
            and row["credit_account_id"] == self.account_id(conn, request.credit_account)
            and row["amount_cents"] == request.amount_cents
            and row["phase"] == request.phase
            and row["pending_id"] == request.pending_id
            and row["purpose"] == request.purpose
            and row["transaction_id"] == request.transaction_id
        )

    def _check_pending_targets(
        self, conn: Connection, requests: Sequence[TransferRequest]
    ) -> PostingStatus | None:
        for request in requests:
            if request.pending_id is None:
                continue
            target = _PENDING_TARGET.one_or_none(conn, {"id": request.pending_id})
            if target is None or target[0] != Phase.PENDING:
                return PostingStatus.PENDING_NOT_FOUND
            _, amount_cents, debit_account_id, credit_account_id = target
            # Resolving releases the reservation from the request's accounts, so they must be
            # the reservation's own: otherwise one account's pending totals go negative and the
            # other's reservation is never released.
            if (
                amount_cents != request.amount_cents
                or debit_account_id != self.account_id(conn, request.debit_account)
                or credit_account_id != self.account_id(conn, request.credit_account)
            ):
                return PostingStatus.EXISTS_WITH_DIFFERENT_FIELDS
            if _RESOLVED_BY.one_or_none(conn, {"id": request.pending_id}) is not None:
                return PostingStatus.PENDING_ALREADY_RESOLVED
        return None

    @staticmethod
    def _net_moves(requests: Sequence[TransferRequest]) -> dict[str, _Move]:
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for r in requests:
            debit, credit = totals[r.debit_account], totals[r.credit_account]
            if r.phase == Phase.POSTED:
                debit[0] += r.amount_cents
                credit[1] += r.amount_cents
            elif r.phase == Phase.PENDING:
                debit[2] += r.amount_cents
                credit[3] += r.amount_cents
            else:
                # Resolving a reservation releases it; posting it also moves the money.
                debit[2] -= r.amount_cents
                credit[3] -= r.amount_cents
                if r.phase == Phase.POST_PENDING:
                    debit[0] += r.amount_cents
                    credit[1] += r.amount_cents
        return {code: _Move(*values) for code, values in totals.items()}

    def _apply_moves(self, conn: Connection, moves: dict[str, _Move]) -> PostingResult | None:
        applied: list[tuple[int, _Move]] = []
        for code, move in moves.items():
            account_id = self.account_id(conn, code)
            if not self._apply_bounded(conn, account_id, move):
                for done_id, done in applied:
                    self._apply_unbounded(conn, done_id, done, sign=-1)
                is_debit = move.debit + move.debit_pending > move.credit + move.credit_pending
                status = (
                    PostingStatus.EXCEEDS_DEBIT_BOUND
                    if is_debit
                    else PostingStatus.EXCEEDS_CREDIT_BOUND
                )
                return PostingResult(status, account=code)
            applied.append((account_id, move))
        return None

    @staticmethod
    def _apply_bounded(conn: Connection, account_id: int, move: _Move) -> bool:
        # Releasing a reservation only loosens bounds (they were checked when it was made),
        # so the release goes first, unchecked, and everything else the same linked posting
        # moves on this account is checked against what is left. Checking nothing at all
        # whenever a release was part of the move let a wallet go below its bound.
        release = _Move(
            debit_pending=min(move.debit_pending, 0), credit_pending=min(move.credit_pending, 0)
        )
        rest = _Move(
            move.debit, move.credit, max(move.debit_pending, 0), max(move.credit_pending, 0)
        )
        releases = release != _Move()
        if releases:
            LedgerStore._apply_unbounded(conn, account_id, release, sign=1)
        if LedgerStore._apply_checked(conn, account_id, rest):
            return True
        if releases:
            LedgerStore._apply_unbounded(conn, account_id, release, sign=-1)
        return False

    @staticmethod
    def _apply_checked(conn: Connection, account_id: int, move: _Move) -> bool:
        if move.debit or move.credit:
            posted = _MOVE_POSTED.rowcount(
                conn, {"id": account_id, "debit": move.debit, "credit": move.credit}
            )
            if not posted:
                return False
        if move.debit_pending or move.credit_pending:
            pending = _MOVE_PENDING.rowcount(
                conn,
                {"id": account_id, "debit": move.debit_pending, "credit": move.credit_pending},
            )
            if not pending:
                LedgerStore._apply_unbounded(
                    conn, account_id, _Move(debit=move.debit, credit=move.credit), sign=-1
                )
                return False
        return True

    @staticmethod
    def _apply_unbounded(conn: Connection, account_id: int, move: _Move, *, sign: int) -> None:
        _UNBOUNDED_MOVE.rowcount(
            conn,
            {
                "id": account_id,
                "debit": sign * move.debit,
                "credit": sign * move.credit,
                "debit_pending": sign * move.debit_pending,
                "credit_pending": sign * move.credit_pending,
            },
        )

    def _row(self, conn: Connection, request: TransferRequest, now: float) -> dict[str, Any]:
        return {
            "id": request.id,
            "debit_account_id": self.account_id(conn, request.debit_account),
            "credit_account_id": self.account_id(conn, request.credit_account),
            "amount_cents": request.amount_cents,
            "phase": str(request.phase),
            "pending_id": request.pending_id,
            "transaction_id": request.transaction_id,
            "purpose": str(request.purpose),
            "created_at": now,
        }
