"""The handle services pass to storage functions; services never build SQL themselves."""

from __future__ import annotations

from sqlalchemy import Connection, Engine

__all__ = ["Connection", "Engine"]
