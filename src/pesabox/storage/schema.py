"""Every table the migrations build, on one `MetaData`: `tables.py` and the modules that add
their tables to it. Alembic and the schema test compare the database with this."""

from __future__ import annotations

from pesabox.storage import tables_change_requests, tables_onboarding, tables_pki
from pesabox.storage.tables import metadata

__all__ = ["metadata", "tables_change_requests", "tables_onboarding", "tables_pki"]
