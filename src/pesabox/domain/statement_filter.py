"""What an organisation account's statement shows: the portal's filters, as values."""

from __future__ import annotations

from dataclasses import dataclass

# A statement line is a debit or a credit of the account the statement is for.
DIRECTIONS = ("debit", "credit")


@dataclass(frozen=True, slots=True)
class StatementFilter:
    """Every field left None leaves that filter off."""

    # Epoch seconds, inclusive start and exclusive end.
    since: float | None = None
    until: float | None = None
    direction: str | None = None
    # A transfer purpose: principal | fee | funding | reversal.
    purpose: str | None = None
    # A receipt or transaction id, matched exactly.
    receipt: str | None = None
