"""Settings for serving tests' databases."""

from __future__ import annotations

from pathlib import Path

from pesabox.settings import Settings


def sqlite_settings(directory: Path) -> Settings:
    """The platform database as a SQLite file in `directory`; production's beside it."""
    return Settings(
        database_url=f"sqlite:///{directory}/pesabox.db", environments="sandbox,production"
    )
