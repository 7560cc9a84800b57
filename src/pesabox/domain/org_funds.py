"""An organisation's own money: moving it from Utility to Working and withdrawing it to the
bank account registered at onboarding (mpesa-domain-and-g2.md §2.6-2.7).

Rules chosen here where the sources are silent (docs/concepts/settlement.md):
- Withdrawals come from the Working account and carry no charge: §2.7 names no fee, and
  bank transfers out of M-Pesa have been free since 2020.
- Money leaves M-Pesa when the withdrawal is made (it moves to the platform's bank
  settlement account, `accounts.BANK_SETTLEMENT`) and reaches the bank the next Kenyan
  business day after the EAT day of the withdrawal, as the integration FAQ says ("settled
  ... the following day").
- Amounts are whole shillings, from KES 1 up to KES 999,999,999 per withdrawal or move.

Who may move or withdraw is in `portal_roles`; the bank account's own rules in
`bank_details`.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

from pesabox.clock import eat_datetime
from pesabox.domain.business_days import next_business_day
from pesabox.money import CENTS_PER_SHILLING

# Far above any organisation's balance in the sandbox, and safe in every integer column.
AMOUNT_SHILLINGS_MAX = 999_999_999
AMOUNT_TEXT_LENGTH_MAX = len(f"{AMOUNT_SHILLINGS_MAX:,}.00")
_AMOUNT_TEXT = re.compile(r"[0-9]{1,3}(,?[0-9]{3})*(\.0{1,2})?")


class FundsRefusal(ValueError):
    """A move or withdrawal that cannot be made; the message says why, for the operator."""


class WithdrawalStatus(StrEnum):
    PENDING = "pending"
    SETTLED = "settled"


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


def bank_reference(withdrawal_id: str, day: date) -> str:
    """The reference the bank credit carries: the settlement day and the withdrawal."""
    return f"STL{day:%Y%m%d}{withdrawal_id}"
