"""The sandbox's seeded platform operator: someone to review applications in /ui/admin."""

from __future__ import annotations

from functools import lru_cache

from pesabox.security.credentials import pin_digest
from pesabox.storage import onboarding_store
from pesabox.storage.types import Connection

PLATFORM_OPERATOR_NAME = "platform"
PLATFORM_OPERATOR_PASSWORD = "Pesabox#2026"  # noqa: S105 - a public sandbox value


@lru_cache(maxsize=1)
def _digest() -> str:
    return pin_digest(PLATFORM_OPERATOR_PASSWORD)


def seed_platform_operator(conn: Connection, now: float) -> None:
    """Add the `platform` operator if missing (an existing one keeps its password)."""
    if onboarding_store.find_platform_operator(conn, PLATFORM_OPERATOR_NAME) is None:
        onboarding_store.add_platform_operator(
            conn,
            username=PLATFORM_OPERATOR_NAME,
            name="Pesabox platform operator",
            password_digest=_digest(),
            now=now,
        )
