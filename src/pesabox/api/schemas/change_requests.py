"""Change-request wire shapes for the developer-facing onboarding API.

The body names the kind, the production organisation and shortcode, then the kind's fields:
go_live `app_name` and `products`; url_change Daraja's own `ConfirmationURL`, `ValidationURL`
and `ResponseType`; certificate `csr` (one PEM certificate request)."""

from __future__ import annotations

from typing import Any

import msgspec

from pesabox.domain import change_requests as crq
from pesabox.domain.change_requests import ChangeRequest, ChangeRequestError, Kind, TrailEvent


class ChangeRequestCreateRequest(msgspec.Struct, frozen=True):
    kind: Any = None
    organisation_id: Any = None
    shortcode: Any = None
    app_name: Any = None
    products: Any = None
    ConfirmationURL: Any = None
    ValidationURL: Any = None
    ResponseType: Any = None
    csr: Any = None

    def to_payload(self) -> crq.Payload:
        """The kind's payload, checked; ChangeRequestError names the first bad field."""
        if self.kind == Kind.GO_LIVE:
            products = self.products
            if not isinstance(products, list) or not all(isinstance(p, str) for p in products):
                raise ChangeRequestError("products must be a list of product names")
            return crq.go_live(_text(self.app_name, "app_name"), products)
        if self.kind == Kind.URL_CHANGE:
            return crq.url_change(
                _text(self.ConfirmationURL, "ConfirmationURL"),
                _text(self.ValidationURL, "ValidationURL"),
                _text(self.ResponseType, "ResponseType"),
            )
        if self.kind == Kind.CERTIFICATE:
            return crq.certificate_signing(_text(self.csr, "csr"))
        raise ChangeRequestError("kind must be go_live, url_change or certificate")

    def organisation(self) -> int:
        value = self.organisation_id
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**62:
            raise ChangeRequestError("organisation_id must be the production organisation's id")
        return value

    def shortcode_text(self) -> str:
        value = self.shortcode
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.isdigit() or not 5 <= len(value) <= 7:
            raise ChangeRequestError("shortcode must be the organisation's shortcode")
        return value


class ConfirmRequest(msgspec.Struct, frozen=True):
    code: Any = None


class CommentRequest(msgspec.Struct, frozen=True):
    text: Any = None


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise ChangeRequestError(f"{field} is required")
    return value


def event_out(event: TrailEvent) -> dict[str, Any]:
    return {
        "at": event.at,
        "actor": {"kind": event.actor.kind.value, "name": event.actor.name},
        "action": event.action,
        "from": event.from_state.value if event.from_state else None,
        "to": event.to_state.value if event.to_state else None,
        "text": event.text,
    }


def change_request_out(request: ChangeRequest, trail: list[TrailEvent]) -> dict[str, Any]:
    return {
        "number": request.number,
        "kind": request.kind.value,
        "state": request.state.value,
        "organisation_id": request.organisation_id,
        "shortcode": request.shortcode,
        "requested_by": {"kind": request.requester.kind.value, "name": request.requester.name},
        "payload": request.payload,
        "reason": request.reason,
        "app_consumer_key": request.app_consumer_key,
        "certificate_ready": request.certificate_pem is not None,
        "created_at": request.created_at,
        "updated_at": request.updated_at,
        "trail": [event_out(event) for event in trail],
    }
