"""Ledger values: transfers as the caller asks for them, and the outcomes of posting them.

A business transaction is posted as a small list of linked transfers (principal, fee) that
succeed or fail together. Ids are chosen by the caller, so posting the same list again
returns the first outcome instead of moving money twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Phase(StrEnum):
    POSTED = "posted"
    PENDING = "pending"
    POST_PENDING = "post_pending"
    VOID_PENDING = "void_pending"


class Purpose(StrEnum):
    PRINCIPAL = "principal"
    FEE = "fee"
    FUNDING = "funding"
    REVERSAL = "reversal"


class PostingStatus(StrEnum):
    """Outcomes in the order they are checked; each posting gets exactly one."""

    OK = "ok"
    EXISTS = "exists"
    EXISTS_WITH_DIFFERENT_FIELDS = "exists_with_different_fields"
    PENDING_NOT_FOUND = "pending_not_found"
    PENDING_ALREADY_RESOLVED = "pending_already_resolved"
    EXCEEDS_DEBIT_BOUND = "exceeds_debit_bound"
    EXCEEDS_CREDIT_BOUND = "exceeds_credit_bound"


class InvariantViolation(Exception):
    """A broken ledger rule: a bug, never a business outcome."""


@dataclass(frozen=True, slots=True)
class TransferRequest:
    id: str
    debit_account: str
    credit_account: str
    amount_cents: int
    purpose: Purpose
    transaction_id: str | None = None
    phase: Phase = Phase.POSTED
    pending_id: str | None = None

    def check(self) -> None:
        if self.amount_cents <= 0:
            raise InvariantViolation(f"transfer {self.id}: amount must be positive")
        if self.debit_account == self.credit_account:
            raise InvariantViolation(f"transfer {self.id}: debit and credit are the same")
        resolves = self.phase in (Phase.POST_PENDING, Phase.VOID_PENDING)
        if resolves != (self.pending_id is not None):
            raise InvariantViolation(f"transfer {self.id}: pending_id goes with post/void only")


@dataclass(frozen=True, slots=True)
class PostingResult:
    status: PostingStatus
    # The account whose bound refused the posting, when that is the reason.
    account: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in (PostingStatus.OK, PostingStatus.EXISTS)
