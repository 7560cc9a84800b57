"""Bodies of the sandbox's organisation and shortcode API (snake_case: not a Daraja API)."""

from __future__ import annotations

import msgspec

from pesabox.storage.orgs_store import OrganisationRecord
from pesabox.storage.parties_store import ShortcodeRecord


class OrganisationCreateRequest(msgspec.Struct, frozen=True):
    name: str


class ShortcodeCreateRequest(msgspec.Struct, frozen=True):
    # Shortcodes arrive as JSON numbers as often as strings, in Daraja bodies and here alike.
    shortcode: str | int
    organisation: str
    kind: str
    name: str
    tariff_profile: str
    products: list[str]
    store_shortcode: str | int | None = None
    passkey: str | None = None


class ProductsUpdateRequest(msgspec.Struct, frozen=True):
    products: list[str]


class ValidationUpdateRequest(msgspec.Struct, frozen=True):
    enabled: bool


def shortcode_out(record: ShortcodeRecord) -> dict[str, object]:
    # The passkey is a credential: a listing says whether one is set, never what it is.
    return {
        "shortcode": record.shortcode,
        "organisation": record.organisation_name,
        "kind": record.kind,
        "name": record.name,
        "tariff_profile": record.tariff_profile,
        "products": sorted(record.products),
        "store_shortcode": record.store_shortcode,
        "validation_enabled": record.validation_enabled,
        "passkey_set": record.passkey is not None,
    }


def organisation_out(record: OrganisationRecord) -> dict[str, object]:
    return {
        "id": record.id,
        "name": record.name,
        "created_at": record.created_at,
        "shortcodes": [shortcode_out(s) for s in record.shortcodes],
    }
