"""Change requests (CRQs): how a business asks the platform for something in production.

Safaricom raised a CRQ to authorise and track each API integration (mpesa-domain-and-g2.md
§1.1, §3.1). In pesabox a CRQ is raised by a developer or an organisation's operator for one
of three things: going live (a production app), changing the production C2B URLs, or having
a CSR signed for mutual TLS. Platform operators review it and approve or reject it; approval
is then implemented (a certificate signed, URLs replaced, an app created after a one-time
code), and every step is an audit event.

The legal moves are the table `TRANSITIONS`; storage applies each one with a conditional
UPDATE on the state it expects, so a race or a replay cannot make an illegal one.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from pesabox.domain.c2b import ResponseType, forbidden_word
from pesabox.domain.products import Product

NUMBER_PREFIX = "CRQ"
NUMBER_DIGITS = 12
_NUMBER = re.compile(rf"{NUMBER_PREFIX}\d{{{NUMBER_DIGITS}}}")
# A rejection must say why; the business reads this.
REASON_LENGTH_MAX = 1000
COMMENT_LENGTH_MAX = 2000


class ChangeRequestError(ValueError):
    """A CRQ action that breaks a rule; the message says which, in words for the user."""


class IllegalTransition(ChangeRequestError):
    """The CRQ is not in a state that allows this action (or someone else moved it first)."""


class ChangeRequestNotFound(ChangeRequestError):
    """No such CRQ, or not one the asker may see."""


class CodeRefused(ChangeRequestError):
    """A go-live code that was wrong, expired, used up or never sent."""


class Kind(StrEnum):
    GO_LIVE = "go_live"
    URL_CHANGE = "url_change"
    CERTIFICATE = "certificate"


class State(StrEnum):
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    IMPLEMENTED = "implemented"
    # The requester took it back before anyone decided.
    WITHDRAWN = "withdrawn"


class Action(StrEnum):
    REVIEW = "review"
    APPROVE = "approve"
    REJECT = "reject"
    IMPLEMENT = "implement"
    WITHDRAW = "withdraw"
    # Not a move: a note on the CRQ's trail, allowed in every state.
    COMMENT = "comment"
    # Not a move either: a one-time code went out (go-live), recorded on the trail.
    CODE_SENT = "code_sent"
    # Nor this: a go-live code was accepted, and its confirmation is making the production app.
    CODE_CONFIRMED = "code_confirmed"


class ActorKind(StrEnum):
    DEVELOPER = "developer"
    ORG_OPERATOR = "org_operator"
    PLATFORM_OPERATOR = "platform_operator"
    # pesabox itself, implementing an approval.
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    name: str


SYSTEM = Actor(ActorKind.SYSTEM, "pesabox")

# (state, action) -> the state it leads to; anything absent is illegal.
TRANSITIONS: dict[tuple[State, Action], State] = {
    (State.SUBMITTED, Action.REVIEW): State.IN_REVIEW,
    (State.IN_REVIEW, Action.APPROVE): State.APPROVED,
    (State.IN_REVIEW, Action.REJECT): State.REJECTED,
    (State.APPROVED, Action.IMPLEMENT): State.IMPLEMENTED,
    (State.SUBMITTED, Action.WITHDRAW): State.WITHDRAWN,
    (State.IN_REVIEW, Action.WITHDRAW): State.WITHDRAWN,
}
# Who may take each move: platform operators decide, the requester may withdraw, and only
# pesabox implements (after the CA signed, the URLs were replaced, the code was confirmed).
MOVERS: dict[Action, frozenset[ActorKind]] = {
    Action.REVIEW: frozenset({ActorKind.PLATFORM_OPERATOR}),
    Action.APPROVE: frozenset({ActorKind.PLATFORM_OPERATOR}),
    Action.REJECT: frozenset({ActorKind.PLATFORM_OPERATOR}),
    Action.IMPLEMENT: frozenset({ActorKind.SYSTEM}),
    Action.WITHDRAW: frozenset({ActorKind.DEVELOPER, ActorKind.ORG_OPERATOR}),
}
FINAL_STATES = frozenset({State.REJECTED, State.IMPLEMENTED, State.WITHDRAWN})


def next_state(state: State, action: Action) -> State:
    """Where `action` takes a CRQ in `state`; IllegalTransition when it may not."""
    target = TRANSITIONS.get((state, action))
    if target is None:
        raise IllegalTransition(f"a CRQ that is {state.value} cannot be {_past(action)}")
    return target


def check_mover(action: Action, actor: Actor) -> None:
    if actor.kind not in MOVERS.get(action, frozenset()):
        raise ChangeRequestError(f"a {actor.kind.value} may not {action.value} a CRQ")


def _past(action: Action) -> str:
    return {
        Action.REVIEW: "taken into review",
        Action.APPROVE: "approved",
        Action.REJECT: "rejected",
        Action.IMPLEMENT: "implemented",
        Action.WITHDRAW: "withdrawn",
    }.get(action, action.value)


def new_number() -> str:
    """`CRQ` + 12 random digits; the database's unique key decides, and a clash draws again."""
    return f"{NUMBER_PREFIX}{secrets.randbelow(10**NUMBER_DIGITS):0{NUMBER_DIGITS}d}"


def is_number(text: str) -> bool:
    return bool(_NUMBER.fullmatch(text))


def reason_text(text: str | None, *, what: str = "reason") -> str:
    """A rejection reason or a comment: required, trimmed, bounded, printable."""
    cleaned = (text or "").strip()
    limit = REASON_LENGTH_MAX if what == "reason" else COMMENT_LENGTH_MAX
    if not cleaned:
        raise ChangeRequestError(f"a {what} is required")
    if len(cleaned) > limit:
        raise ChangeRequestError(f"the {what} is longer than {limit} characters")
    if "\x00" in cleaned:
        raise ChangeRequestError(f"the {what} holds a NUL character")
    return cleaned


@dataclass(frozen=True, slots=True)
class Business:
    """What a CRQ needs to know about the business behind a production organisation."""

    organisation_id: int
    name: str
    shortcodes: tuple[str, ...]
    admin_username: str
    # The Business Administrator's phone (2547…): the go-live code goes there.
    admin_phone: str
    developer_id: int | None


@dataclass(frozen=True, slots=True)
class ChangeRequest:
    number: str
    kind: Kind
    state: State
    # The production organisation, and the shortcode the request is about.
    organisation_id: int
    shortcode: str
    requester: Actor
    developer_id: int | None
    # The kind's fields as submitted (see `payload_fields`).
    payload: dict[str, Any]
    # Why it was rejected.
    reason: str | None
    # Go-live: the production app made for it.
    app_consumer_key: str | None
    app_id: int | None
    # Certificate: the signed client certificate.
    certificate_pem: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class TrailEvent:
    """One line of a CRQ's audit trail: a move (from, to) or a comment (text)."""

    number: str
    at: float
    actor: Actor
    action: str
    from_state: State | None
    to_state: State | None
    text: str | None


# --- what each kind asks for -------------------------------------------------------------

APP_NAME_LENGTH_MAX = 100
URL_LENGTH_MAX = 1024
CSR_LENGTH_MAX = 16_384


@dataclass(frozen=True, slots=True)
class GoLive:
    app_name: str
    products: frozenset[Product]


@dataclass(frozen=True, slots=True)
class UrlChange:
    confirmation_url: str
    validation_url: str
    response_type: str


@dataclass(frozen=True, slots=True)
class CertificateSigning:
    csr_pem: str


Payload = GoLive | UrlChange | CertificateSigning
KIND_OF: dict[type, Kind] = {
    GoLive: Kind.GO_LIVE,
    UrlChange: Kind.URL_CHANGE,
    CertificateSigning: Kind.CERTIFICATE,
}


def go_live(app_name: str, products: list[str] | tuple[str, ...]) -> GoLive:
    name = (app_name or "").strip()
    if not name or len(name) > APP_NAME_LENGTH_MAX or not name.isprintable():
        raise ChangeRequestError(
            f"the app name must be 1 to {APP_NAME_LENGTH_MAX} printable characters"
        )
    try:
        chosen = frozenset(Product(product) for product in products)
    except ValueError:
        known = ", ".join(sorted(Product))
        raise ChangeRequestError(f"unknown product; the products are {known}") from None
    if not chosen:
        raise ChangeRequestError("choose at least one product")
    return GoLive(app_name=name, products=chosen)


def url_change(confirmation_url: str, validation_url: str, response_type: str) -> UrlChange:
    if response_type not in tuple(ResponseType):
        raise ChangeRequestError("ResponseType must be Completed or Cancelled")
    return UrlChange(
        confirmation_url=production_url(confirmation_url, "ConfirmationURL"),
        validation_url=production_url(validation_url, "ValidationURL"),
        response_type=response_type,
    )


def production_url(url: str, field: str) -> str:
    """Daraja's rules for a production callback URL (§3.2): https, a host, none of the words
    Daraja refuses."""
    if not isinstance(url, str) or url != url.strip() or " " in url or "\x00" in url:
        raise ChangeRequestError(f"{field} is not a URL")
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        raise ChangeRequestError(f"{field} is not a URL") from None
    if parts.scheme != "https" or not parts.hostname or not port_ok:
        raise ChangeRequestError(f"{field} must be an https URL in production")
    if len(url) > URL_LENGTH_MAX:
        raise ChangeRequestError(f"{field} is longer than {URL_LENGTH_MAX} characters")
    word = forbidden_word(url)
    if word is not None:
        raise ChangeRequestError(f"{field} has the word {word}, which Daraja refuses")
    return url


def certificate_signing(csr_pem: str) -> CertificateSigning:
    pem = (csr_pem or "").strip()
    if "BEGIN CERTIFICATE REQUEST" not in pem or len(pem) > CSR_LENGTH_MAX:
        raise ChangeRequestError("the CSR must be one PEM certificate request")
    return CertificateSigning(csr_pem=pem + "\n")


def payload_fields(payload: Payload) -> dict[str, Any]:
    """The payload as stored (and shown): plain JSON values."""
    if isinstance(payload, GoLive):
        return {"app_name": payload.app_name, "products": sorted(payload.products)}
    if isinstance(payload, UrlChange):
        return {
            "confirmation_url": payload.confirmation_url,
            "validation_url": payload.validation_url,
            "response_type": payload.response_type,
        }
    return {"csr_pem": payload.csr_pem}


def go_live_of(request: ChangeRequest) -> GoLive:
    return GoLive(
        app_name=request.payload["app_name"],
        products=frozenset(Product(p) for p in request.payload["products"]),
    )


def url_change_of(request: ChangeRequest) -> UrlChange:
    return UrlChange(
        confirmation_url=request.payload["confirmation_url"],
        validation_url=request.payload["validation_url"],
        response_type=request.payload["response_type"],
    )
