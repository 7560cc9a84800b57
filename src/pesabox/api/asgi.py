"""Entry point for uvicorn's workers: each builds its own app from PESABOX_* settings."""

from __future__ import annotations

from pesabox.api.app import create_app
from pesabox.api.fastpath import FastPaths
from pesabox.settings import Settings


def create_from_env() -> FastPaths:
    return create_app(Settings())
