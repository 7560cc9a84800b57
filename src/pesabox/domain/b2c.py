"""B2C and B2Pochi values (daraja-api.md §6, §19.2): commands, result codes, Result fields."""

from __future__ import annotations

from enum import StrEnum

from pesabox.clock import eat_datetime
from pesabox.domain.results import Outcome

B2C_COMMANDS = ("SalaryPayment", "BusinessPayment", "PromotionPayment")
POCHI_COMMANDS = ("BusinessPayToPochi",)
# Daraja's B2C limits (FAQ 9): KES 10 to KES 250,000 a payment.
MIN_AMOUNT_CENTS = 10 * 100
MAX_AMOUNT_CENTS = 250_000 * 100
REMARKS_MIN, REMARKS_MAX = 2, 100


class B2cResult(StrEnum):
    SUCCESS = "0"
    INSUFFICIENT_FUNDS = "1"
    BELOW_MINIMUM = "2"
    ABOVE_MAXIMUM = "3"
    DAILY_LIMIT = "4"
    ABOVE_BALANCE_LIMIT = "8"
    DEBIT_PARTY_INVALID = "11"
    INITIATOR_NOT_ALLOWED = "21"
    INITIATOR_INVALID = "2001"
    ACCOUNT_RULE = "2006"
    NOT_PERMITTED = "2028"
    UNREGISTERED_RECIPIENT = "2040"
    CREDENTIAL_LOCKED = "8006"
    NO_SUCH_OPERATOR = "SFC_IC0003"


DESCRIPTIONS: dict[str, str] = {
    "0": "The service request is processed successfully.",
    "1": "The balance is insufficient for the transaction.",
    "2": "Declined due to limit rule",
    "3": "Declined due to limit rule: greater than the maximum transaction amount.",
    "4": "Declined due to limit rule: would exceed daily transfer limit",
    "8": "Declined due to limit rule: would exceed the maximum balance.",
    "11": "The DebitParty is in an invalid state.",
    "21": "The initiator is not allowed to initiate this request",
    "2001": "The initiator information is invalid.",
    "2006": "Declined due to account rule: The account status does not allow this transaction.",
    "2028": "The request is not permitted according to product assignment.",
    "2040": (
        "Credit Party customer type (Unregistered or Registered Customer) can't be supported "
        "by the service."
    ),
    "8006": "The security credential is locked",
    "SFC_IC0003": "The operator does not exist.",
}


def failure(code: str) -> Outcome:
    return Outcome(code, DESCRIPTIONS[code])


def completed_at_text(epoch_s: float) -> str:
    """`TransactionCompletedDateTime` as Daraja writes it: `06.07.2024 22:48:52` (EAT)."""
    return eat_datetime(epoch_s).strftime("%d.%m.%Y %H:%M:%S")


def shillings(cents: int) -> float:
    # Result balances are JSON numbers with two decimals (`8959269.60`), not strings.
    return round(cents / 100, 2)
