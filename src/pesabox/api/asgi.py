"""Entry point for uvicorn's workers: each builds its own app from PESABOX_* settings."""

from __future__ import annotations

from litestar import Litestar

from pesabox.api.app import create_app
from pesabox.settings import Settings


def create_from_env() -> Litestar:
    return create_app(Settings())
