"""Bodies of pesabox's own sandbox control API (snake_case: not a Daraja API)."""

from __future__ import annotations

import msgspec

from pesabox.money import shillings_to_cents
from pesabox.sandbox.scenarios import Action, CallbackMode, Scenario, ValidationMode


class PinEntry(msgspec.Struct, frozen=True):
    pin: str


class ClockAdvance(msgspec.Struct, frozen=True):
    advance_s: float


class ScenarioIn(msgspec.Struct, frozen=True):
    action: Action
    msisdn: str | None = None
    amount: int | None = None
    name: str | None = None
    result_code: int | None = None
    delay_s: float | None = None
    callback_mode: CallbackMode = CallbackMode.DELIVER
    callback_fail_times: int = 0
    callback_delay_s: float = 0.0
    validation_mode: ValidationMode = ValidationMode.DELIVER
    description: str = ""

    def to_scenario(self) -> Scenario:
        return Scenario(
            name=self.name or f"runtime-{self.msisdn or self.amount}",
            action=self.action,
            description=self.description or f"set at run time: {self.action}",
            msisdn=self.msisdn,
            amount_cents=shillings_to_cents(self.amount) if self.amount is not None else None,
            result_code=self.result_code,
            delay_s=self.delay_s,
            callback_mode=self.callback_mode,
            callback_fail_times=self.callback_fail_times,
            callback_delay_s=self.callback_delay_s,
            validation_mode=self.validation_mode,
            source="runtime",
        )


def scenario_out(scenario: Scenario) -> dict[str, object]:
    return {
        "id": scenario.id,
        "name": scenario.name,
        "msisdn": scenario.msisdn,
        "amount": scenario.amount_cents // 100 if scenario.amount_cents is not None else None,
        "action": str(scenario.action),
        "result_code": scenario.result_code,
        "delay_s": scenario.delay_s,
        "callback_mode": str(scenario.callback_mode),
        "callback_fail_times": scenario.callback_fail_times,
        "callback_delay_s": scenario.callback_delay_s,
        "validation_mode": str(scenario.validation_mode),
        "description": scenario.description,
        "source": scenario.source,
    }
