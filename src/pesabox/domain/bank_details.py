"""An organisation's bank account as registered at onboarding, and the checks it must pass
(the org portal's withdrawals are paid to it)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Bank account numbers in Kenya run 10 to 16 digits; IBAN-length room costs nothing.
ACCOUNT_NUMBER_LENGTH_MAX = 34
TEXT_LENGTH_MAX = 100
_ACCOUNT_NUMBER = re.compile(r"[0-9A-Za-z-]{4,34}")


class BankDetailsError(ValueError):
    """Bank details that break a rule; the message names every field that is wrong."""


@dataclass(frozen=True, slots=True)
class BankDetails:
    bank_name: str
    branch: str
    account_number: str
    account_name: str


def check_bank_details(
    *, bank_name: str, branch: str, account_number: str, account_name: str
) -> BankDetails:
    """Bank details with spaces trimmed, or BankDetailsError naming every wrong field."""
    problems = []
    named = {"bank name": bank_name, "branch": branch, "account name": account_name}
    clean = {label: " ".join(value.split()) for label, value in named.items()}
    for label, value in clean.items():
        if not value or len(value) > TEXT_LENGTH_MAX or not value.isprintable():
            problems.append(f"{label} must be 1 to {TEXT_LENGTH_MAX} printable characters")
    number = account_number.strip().replace(" ", "")
    if not _ACCOUNT_NUMBER.fullmatch(number):
        problems.append(
            f"account number must be 4 to {ACCOUNT_NUMBER_LENGTH_MAX} letters, digits or hyphens"
        )
    if problems:
        raise BankDetailsError("; ".join(problems))
    return BankDetails(clean["bank name"], clean["branch"], number, clean["account name"])
