"""Onboarding's API bodies (snake_case: pesabox's own API, not Daraja's)."""

from __future__ import annotations

import msgspec

from pesabox.storage.onboarding_store import DeveloperApp, DeveloperRecord


class DeveloperSignUpRequest(msgspec.Struct, frozen=True):
    email: str
    name: str
    phone: str
    password: str


class AppCreateRequest(msgspec.Struct, frozen=True):
    name: str
    # ["mpesa_express", "c2b"] or "mpesa_express,c2b"
    products: list[str] | str


def developer_out(developer: DeveloperRecord) -> dict[str, object]:
    return {
        "id": developer.id,
        "email": developer.email,
        "name": developer.name,
        "phone": developer.phone,
        "created_at": developer.created_at,
    }


def app_out(app: DeveloperApp, *, consumer_secret: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {
        "id": app.app_id,
        "name": app.name,
        "consumer_key": app.consumer_key,
        "products": sorted(app.products),
        "created_at": app.created_at,
    }
    if consumer_secret is not None:
        # Shown once, at creation; only its digest is kept.
        body["consumer_secret"] = consumer_secret
    return body
