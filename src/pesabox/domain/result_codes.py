"""Result codes delivered in callbacks: one catalogue, fed to the docs and the sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class StkResult(IntEnum):
    SUCCESS = 0
    INSUFFICIENT_FUNDS = 1
    BELOW_MINIMUM = 2
    ABOVE_MAXIMUM = 3
    DAILY_LIMIT = 4
    ABOVE_BALANCE_LIMIT = 8
    RULE_LIMITED = 17
    SYSTEM_BUSY = 26
    SUBSCRIBER_LOCKED = 1001
    EXPIRED = 1019
    PUSH_ERROR = 1025
    CANCELLED = 1032
    UNREACHABLE = 1037
    WRONG_PIN = 2001
    NOT_PERMITTED = 2028
    PIN_LOCKED = 8006


@dataclass(frozen=True, slots=True)
class ResultCodeInfo:
    code: int
    description: str
    meaning: str


STK_RESULTS: dict[int, ResultCodeInfo] = {
    info.code: info
    for info in (
        ResultCodeInfo(0, "The service request is processed successfully.", "success"),
        ResultCodeInfo(1, "The balance is insufficient for the transaction.", "wallet too low"),
        ResultCodeInfo(2, "Declined due to limit rule.", "below the minimum amount"),
        ResultCodeInfo(
            3,
            "Declined due to limit rule: greater than the maximum transaction amount.",
            "above the per-transaction maximum",
        ),
        ResultCodeInfo(
            4,
            "Declined due to limit rule: would exceed daily transfer limit.",
            "customer's daily limit",
        ),
        ResultCodeInfo(
            8,
            "Declined due to limit rule: would exceed the maximum balance.",
            "receiving account's balance cap",
        ),
        ResultCodeInfo(17, "Rule limited.", "same amount to the same customer too soon"),
        ResultCodeInfo(26, "System busy", "traffic blocking condition in place"),
        ResultCodeInfo(
            1001,
            "Unable to lock subscriber, a transaction is already in process for the current"
            " subscriber.",
            "concurrent session",
        ),
        ResultCodeInfo(1019, "Transaction has expired.", "not processed in time"),
        ResultCodeInfo(
            1025, "An error occurred while sending a push request.", "prompt too long or failed"
        ),
        ResultCodeInfo(1032, "Request cancelled by user", "customer cancelled"),
        ResultCodeInfo(1037, "DS timeout user cannot be reached", "no answer before timeout"),
        ResultCodeInfo(2001, "The initiator information is invalid.", "wrong PIN"),
        ResultCodeInfo(
            2028,
            "The request is not permitted according to product assignment.",
            "TransactionType does not fit PartyB",
        ),
        ResultCodeInfo(8006, "The security credential is locked.", "PIN locked"),
    )
}


def stk_description(code: int) -> str:
    info = STK_RESULTS.get(code)
    return info.description if info else "The service request failed."
