"""Scenarios are data: rules that decide what a simulated customer does with a prompt.

A rule matches on a magic MSISDN, an exact amount, or both. Rules set at run time through
the control API win over the built-in ones, and among equals the more specific and then the
newer rule wins. The CLI, the API and the README all list the same table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from pesabox.domain.result_codes import StkResult
from pesabox.money import shillings_to_cents as kes

_MSISDN = re.compile(r"254[17][0-9]{8}")
_MAX_AMOUNT_CENTS = kes(1_000_000)
_MAX_DELAY_S = 86_400.0
_MAX_FAIL_TIMES = 100
_MAX_CALLBACK_DELAY_S = 300.0


class Action(StrEnum):
    ACCEPT = "accept"  # enter the right PIN; the wallet balance then decides
    DECLINE = "decline"  # press cancel: 1032
    IGNORE = "ignore"  # never answer: 1037 when the prompt times out
    WRONG_PIN = "wrong_pin"  # enter a wrong PIN: 2001
    EXPIRE = "expire"  # answer too late: 1019 when the prompt times out
    PUSH_ERROR = "push_error"  # the prompt never reaches the phone: 1025
    RESULT = "result"  # any other result code, given in the rule


class CallbackMode(StrEnum):
    DELIVER = "deliver"
    NEVER = "never"  # the callback is recorded but never sent
    FAIL = "fail"  # the first N attempts fail, then it is delivered
    SLOW = "slow"  # every attempt is held back by a delay


class ValidationMode(StrEnum):
    """C2B only: what happens to the validation request M-Pesa sends the business."""

    DELIVER = "deliver"
    SLOW = "slow"  # held back until the validation timeout passes: ResponseType decides
    DOWN = "down"  # the ValidationURL cannot be reached: ResponseType decides


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    action: Action
    description: str
    msisdn: str | None = None
    amount_cents: int | None = None
    result_code: int | None = None
    delay_s: float | None = None
    callback_mode: CallbackMode = CallbackMode.DELIVER
    callback_fail_times: int = 0
    callback_delay_s: float = 0.0
    validation_mode: ValidationMode = ValidationMode.DELIVER
    source: str = "builtin"
    id: int | None = field(default=None, compare=False)

    def matches(self, msisdn: str, amount_cents: int) -> bool:
        if self.msisdn is not None and self.msisdn != msisdn:
            return False
        if self.amount_cents is not None and self.amount_cents != amount_cents:
            return False
        return self.msisdn is not None or self.amount_cents is not None

    def check(self) -> None:
        if self.msisdn is None and self.amount_cents is None:
            raise ValueError("a scenario needs an msisdn, an amount, or both")
        if self.msisdn is not None and not _MSISDN.fullmatch(self.msisdn):
            raise ValueError("msisdn must be 12 digits, 2547XXXXXXXX or 2541XXXXXXXX")
        if self.amount_cents is not None and not 0 < self.amount_cents <= _MAX_AMOUNT_CENTS:
            raise ValueError("amount must be between 1 and 1,000,000 shillings")
        if len(self.name) > 64 or len(self.description) > 200:
            raise ValueError("name is at most 64 characters, description at most 200")
        if self.action == Action.RESULT and self.result_code is None:
            raise ValueError("action 'result' needs a result_code")
        if self.result_code is not None and not 0 < self.result_code < 2**31:
            # A success needs money to move and a receipt: that is what 'accept' does.
            raise ValueError("result_code must be a positive failure code; use 'accept' for 0")
        self._check_timing()

    def _check_timing(self) -> None:
        if self.delay_s is not None and not 0 <= self.delay_s <= _MAX_DELAY_S:
            raise ValueError("delay_s must be between 0 and 86400")
        if not 0 <= self.callback_fail_times <= _MAX_FAIL_TIMES:
            raise ValueError("callback_fail_times must be between 0 and 100")
        if not 0 <= self.callback_delay_s <= _MAX_CALLBACK_DELAY_S:
            raise ValueError("callback_delay_s must be between 0 and 300")
        if self.callback_mode == CallbackMode.FAIL and self.callback_fail_times <= 0:
            raise ValueError("callback_mode 'fail' needs callback_fail_times > 0")


def _specificity(scenario: Scenario) -> int:
    return (scenario.msisdn is not None) * 2 + (scenario.amount_cents is not None)


def match(scenarios: Iterable[Scenario], *, msisdn: str, amount_cents: int) -> Scenario | None:
    candidates = [s for s in scenarios if s.matches(msisdn, amount_cents)]
    if not candidates:
        return None
    return max(candidates, key=lambda s: (s.source == "runtime", _specificity(s), s.id or 0))


def _magic(number: int, action: Action, description: str, **extra: object) -> Scenario:
    return Scenario(
        name=f"msisdn-{number:02d}",
        msisdn=f"2547110000{number:02d}",
        action=action,
        description=description,
        **extra,  # type: ignore[arg-type]
    )


def _amount(shillings: int, action: Action, description: str, **extra: object) -> Scenario:
    return Scenario(
        name=f"amount-{shillings}",
        amount_cents=kes(shillings),
        action=action,
        description=description,
        **extra,  # type: ignore[arg-type]
    )


BUILTIN: tuple[Scenario, ...] = (
    _magic(1, Action.DECLINE, "customer cancels the prompt: 1032"),
    _magic(2, Action.IGNORE, "customer never answers: 1037 when the prompt times out"),
    _magic(3, Action.WRONG_PIN, "customer enters a wrong PIN: 2001"),
    _magic(5, Action.EXPIRE, "customer answers too late: 1019 when the prompt times out"),
    _magic(
        6,
        Action.ACCEPT,
        "payment succeeds; the callback is never sent",
        callback_mode=CallbackMode.NEVER,
    ),
    _magic(
        7,
        Action.ACCEPT,
        "payment succeeds; the callback fails 3 times, then arrives",
        callback_mode=CallbackMode.FAIL,
        callback_fail_times=3,
    ),
    _magic(
        8,
        Action.ACCEPT,
        "payment succeeds; each callback attempt is held back 5 s",
        callback_mode=CallbackMode.SLOW,
        callback_delay_s=5.0,
    ),
    _magic(9, Action.PUSH_ERROR, "the prompt cannot be sent to the phone: 1025"),
    _magic(
        10, Action.RESULT, "the customer's PIN is locked: 8006", result_code=StkResult.PIN_LOCKED
    ),
    _magic(11, Action.RESULT, "M-Pesa is too busy: 26", result_code=StkResult.SYSTEM_BUSY),
    _magic(
        12,
        Action.ACCEPT,
        "C2B: the validation request is held back past the timeout; ResponseType decides",
        validation_mode=ValidationMode.SLOW,
    ),
    _magic(
        13,
        Action.ACCEPT,
        "C2B: the ValidationURL cannot be reached; ResponseType decides",
        validation_mode=ValidationMode.DOWN,
    ),
    _amount(1032, Action.DECLINE, "any customer cancels: 1032"),
    _amount(1037, Action.IGNORE, "any customer never answers: 1037"),
    _amount(2001, Action.WRONG_PIN, "any customer enters a wrong PIN: 2001"),
    _amount(1019, Action.EXPIRE, "any customer answers too late: 1019"),
    _amount(1025, Action.PUSH_ERROR, "the prompt cannot be sent: 1025"),
)
