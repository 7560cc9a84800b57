"""Scenario rules and sandbox state (the clock offset) in the database, shared by processes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, select

from pesabox.sandbox.scenarios import Action, CallbackMode, Scenario, ValidationMode
from pesabox.storage.tables import sandbox_state, scenarios

CLOCK_OFFSET_KEY = "clock_offset_s"


def _scenario(row: Any) -> Scenario:
    return Scenario(
        id=row.id,
        name=row.name,
        msisdn=row.msisdn,
        amount_cents=row.amount_cents,
        action=Action(row.action),
        result_code=row.result_code,
        delay_s=row.delay_s,
        callback_mode=CallbackMode(row.callback_mode),
        callback_fail_times=row.callback_fail_times,
        callback_delay_s=row.callback_delay_s,
        validation_mode=ValidationMode(row.validation_mode),
        description=row.description,
        source=row.source,
    )


def load_scenarios(conn: Connection) -> list[Scenario]:
    return [_scenario(row) for row in conn.execute(select(scenarios).order_by(scenarios.c.id))]


def insert_scenario(conn: Connection, scenario: Scenario, *, now: float) -> int:
    result = conn.execute(
        scenarios.insert().values(
            name=scenario.name,
            msisdn=scenario.msisdn,
            amount_cents=scenario.amount_cents,
            action=str(scenario.action),
            result_code=scenario.result_code,
            delay_s=scenario.delay_s,
            callback_mode=str(scenario.callback_mode),
            callback_fail_times=scenario.callback_fail_times,
            callback_delay_s=scenario.callback_delay_s,
            validation_mode=str(scenario.validation_mode),
            description=scenario.description,
            source=scenario.source,
            created_at=now,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def delete_scenario(conn: Connection, scenario_id: int) -> bool:
    return bool(conn.execute(delete(scenarios).where(scenarios.c.id == scenario_id)).rowcount)


def builtin_names(conn: Connection) -> set[str]:
    rows = conn.execute(select(scenarios.c.name).where(scenarios.c.source == "builtin"))
    return {row.name for row in rows}


def read_state(conn: Connection, key: str) -> str | None:
    return conn.execute(select(sandbox_state.c.value).where(sandbox_state.c.key == key)).scalar()


def write_state(conn: Connection, key: str, value: str) -> None:
    updated = conn.execute(
        sandbox_state.update().where(sandbox_state.c.key == key).values(value=value)
    )
    if not updated.rowcount:
        conn.execute(sandbox_state.insert().values(key=key, value=value))
