"""An organisation's own money: moving it from Utility to Working and withdrawing it to the
bank account registered at onboarding (mpesa-domain-and-g2.md §2.6-2.7).

Rules chosen here where the sources are silent (docs/concepts/settlement.md):
- Withdrawals come from the Working account and carry no charge: §2.7 names no fee, and
  bank transfers out of M-Pesa have been free since 2020.
- Money leaves M-Pesa when the withdrawal is made (it moves to the platform's bank
  settlement account) and reaches the bank the next Kenyan business day after the EAT day of
  the withdrawal, as the integration FAQ says ("settled ... the following day").
- Amounts are whole shillings, from KES 1 up to KES 999,999,999 per withdrawal or move.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

from pesabox.clock import EAT, eat_datetime
from pesabox.domain.accounts import AccountKind, AccountSpec
from pesabox.domain.business_days import next_business_day
from pesabox.domain.operators import OperatorRole
from pesabox.money import CENTS_PER_SHILLING

# Far above any organisation's balance in the sandbox, and safe in every integer column.
AMOUNT_SHILLINGS_MAX = 999_999_999
AMOUNT_TEXT_LENGTH_MAX = len(f"{AMOUNT_SHILLINGS_MAX:,}.00")
# Bank account numbers in Kenya run 10 to 16 digits; IBAN-length room costs nothing.
ACCOUNT_NUMBER_LENGTH_MAX = 34
TEXT_LENGTH_MAX = 100
_AMOUNT_TEXT = re.compile(r"[0-9]{1,3}(,?[0-9]{3})*(\.0{1,2})?")
_ACCOUNT_NUMBER = re.compile(r"[0-9A-Za-z-]{4,34}")

# Where withdrawn money waits between leaving M-Pesa and reaching the bank. Settling moves it
# on to the float account: the e-money is redeemed, so circulation shrinks by the amount.
BANK_SETTLEMENT = AccountSpec(
    "platform:bank_settlement", AccountKind.BANK_SETTLEMENT, "platform", 0, None
)

# Who may do what in the portal (§2.7: withdrawing needs a Business Manager).
MOVE_FUNDS_ROLES = frozenset({OperatorRole.BUSINESS_MANAGER})
WITHDRAW_ROLES = frozenset({OperatorRole.BUSINESS_MANAGER})
ADMINISTER_ROLES = frozenset({OperatorRole.BUSINESS_ADMINISTRATOR})


# A statement line is a debit or a credit of the account the statement is for.
DIRECTIONS = ("debit", "credit")


@dataclass(frozen=True, slots=True)
class StatementFilter:
    """What the portal's statement shows: every field left None leaves that filter off."""

    # Epoch seconds, inclusive start and exclusive end.
    since: float | None = None
    until: float | None = None
    direction: str | None = None
    # A transfer purpose: principal | fee | funding | reversal.
    purpose: str | None = None
    # A receipt or transaction id, matched exactly.
    receipt: str | None = None


class FundsRefusal(ValueError):
    """A move or withdrawal that cannot be made; the message says why, for the operator."""


class WithdrawalStatus(StrEnum):
    PENDING = "pending"
    SETTLED = "settled"


@dataclass(frozen=True, slots=True)
class BankDetails:
    bank_name: str
    branch: str
    account_number: str
    account_name: str


def check_bank_details(
    *, bank_name: str, branch: str, account_number: str, account_name: str
) -> BankDetails:
    """Bank details with spaces trimmed, or FundsRefusal naming every field that is wrong."""
    problems = []
    named = {"bank name": bank_name, "branch": branch, "account name": account_name}
    clean = {label: " ".join(value.split()) for label, value in named.items()}
    for label, value in clean.items():
        if not value or len(value) > TEXT_LENGTH_MAX or not value.isprintable():
            problems.append(f"{label} must be 1 to {TEXT_LENGTH_MAX} printable characters")
    number = account_number.strip().replace(" ", "")
    if not _ACCOUNT_NUMBER.fullmatch(number):
        problems.append("account number must be 4 to 34 letters, digits or hyphens")
    if problems:
        raise FundsRefusal("; ".join(problems))
    return BankDetails(clean["bank name"], clean["branch"], number, clean["account name"])


def parse_amount(text: str) -> int:
    """A form's amount in whole shillings (`1500`, `1,500`, `1500.00`) as cents."""
    clean = text.strip()
    # Bounded before the pattern and int(): int() refuses more than 4,300 digits with a
    # ValueError, and no allowed amount ("999,999,999.00") is longer than this.
    if len(clean) > AMOUNT_TEXT_LENGTH_MAX or not _AMOUNT_TEXT.fullmatch(clean):
        raise FundsRefusal("enter the amount in whole shillings, for example 1500")
    shillings = int(clean.split(".")[0].replace(",", ""))
    if not 1 <= shillings <= AMOUNT_SHILLINGS_MAX:
        raise FundsRefusal(f"the amount must be between KES 1 and KES {AMOUNT_SHILLINGS_MAX:,}")
    return shillings * CENTS_PER_SHILLING


def settlement_day(withdrawn_at: float) -> date:
    """The business day the bank is credited: the first one after the withdrawal's EAT day."""
    return next_business_day(eat_datetime(withdrawn_at).date())


def day_start(day: date) -> float:
    """Midnight EAT at the start of `day`, in epoch seconds: when its settlements fall due."""
    return datetime.combine(day, time(0, 0), tzinfo=EAT).timestamp()


def bank_reference(withdrawal_id: str, day: date) -> str:
    """The reference the bank credit carries: the settlement day and the withdrawal."""
    return f"STL{day:%Y%m%d}{withdrawal_id}"
