"""What the inspector keeps of one inbound API request: pure functions over its bytes.

A request is captured on the request path as raw bytes and turned into a row only later, in
the background flush, so none of this parsing costs a payment anything. Secrets never reach
a row: the Authorization header is not kept at all, and every field whose name says it holds
a password, a credential, a PIN, a secret or a token has its value masked before the body is
cut to its excerpt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

# Bodies are kept as excerpts: enough to read a Daraja request or answer whole (they are a
# few hundred bytes), bounded so a 64 KB body cannot bloat the table.
EXCERPT_BYTES_MAX = 8 * 1024
MASK = "****"
TRUNCATED_MARK = "…[truncated]"

_JSON_FIELD = re.compile(r'"([A-Za-z_][A-Za-z0-9_]*)"(\s*:\s*)("(?:[^"\\]|\\.)*"|[^,}\]\s]+)')
_FORM_FIELD = re.compile(r"(^|&)([A-Za-z_][A-Za-z0-9_]*)=([^&]*)")
# Handset paths name the customer: /sandbox/v1/handsets/2547…/prompts/…
_HANDSET_PATH = re.compile(r"/handsets/(\d{9,15})(?:/|$)")
_MSISDN = re.compile(r"^(?:254|0)[17]\d{8}$")


def is_secret_field(name: str) -> bool:
    lowered = name.lower()
    if any(word in lowered for word in ("password", "credential", "secret", "token")):
        return True
    # pin, bonga_pin, new_pin: a field whose name ends in "pin" holds one.
    return lowered.endswith("pin")


def redact(text: str) -> str:
    """`text` with the value of every secret field masked, in JSON and in form bodies."""

    def json_field(match: re.Match[str]) -> str:
        if not is_secret_field(match.group(1)):
            return match.group(0)
        return f'"{match.group(1)}"{match.group(2)}"{MASK}"'

    def form_field(match: re.Match[str]) -> str:
        if not is_secret_field(match.group(2)):
            return match.group(0)
        return f"{match.group(1)}{match.group(2)}={MASK}"

    return _FORM_FIELD.sub(form_field, _JSON_FIELD.sub(json_field, text))


def excerpt(body: bytes, *, limit_bytes: int = EXCERPT_BYTES_MAX) -> str:
    """The redacted body, cut to `limit_bytes` (whole characters) with a mark when cut.

    Redaction runs on the whole body first, so a secret that straddles the cut is masked too.
    """
    text = redact(body.decode("utf-8", errors="replace"))
    encoded = text.encode("utf-8")
    if len(encoded) <= limit_bytes:
        return text
    return encoded[:limit_bytes].decode("utf-8", errors="ignore") + TRUNCATED_MARK


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """The fields the inspector filters and links on, read from a request and its answer."""

    result_code: str | None = None
    checkout_request_id: str | None = None
    merchant_request_id: str | None = None
    conversation_id: str | None = None
    originator_conversation_id: str | None = None
    trans_id: str | None = None
    shortcode: str | None = None
    msisdn: str | None = None


def _object(body: bytes) -> dict[str, Any]:
    if not body or body[:1] not in (b"{", b" ", b"\n", b"\r", b"\t"):
        return {}
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _text(value: Any) -> str | None:
    # Clients send shortcodes and amounts as numbers or strings alike; ids are strings.
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


def _first(keys: tuple[str, ...], *sources: dict[str, Any]) -> str | None:
    for source in sources:
        for key in keys:
            found = _text(source.get(key))
            if found is not None:
                return found
    return None


def looks_like_msisdn(value: str) -> bool:
    return bool(_MSISDN.match(value))


def _parties(request: dict[str, Any]) -> tuple[str | None, str | None]:
    """Shortcode and MSISDN from PartyA/PartyB, whichever way round the API puts them."""
    shortcode = msisdn = None
    for key in ("PartyA", "PartyB"):
        value = _text(request.get(key))
        if value is None:
            continue
        if looks_like_msisdn(value):
            msisdn = msisdn or value
        else:
            shortcode = shortcode or value
    return shortcode, msisdn


def read_facts(path: str, request_body: bytes, response_body: bytes) -> RequestFacts:
    request = _object(request_body)
    response = _object(response_body)
    party_shortcode, party_msisdn = _parties(request)
    handset = _HANDSET_PATH.search(path)
    return RequestFacts(
        # ResultCode first: an STK query answers ResponseCode 0 and the outcome in ResultCode.
        result_code=_first(("ResultCode", "errorCode", "ResponseCode"), response),
        checkout_request_id=_first(("CheckoutRequestID",), response, request),
        merchant_request_id=_first(("MerchantRequestID",), response, request),
        conversation_id=_first(("ConversationID",), response, request),
        originator_conversation_id=_first(
            ("OriginatorConversationID", "OriginatorCoversationID"), response, request
        ),
        trans_id=_first(("TransID", "TransactionID", "MpesaReceiptNumber"), response, request),
        shortcode=_first(("BusinessShortCode", "ShortCode"), request) or party_shortcode,
        msisdn=_first(("PhoneNumber", "MSISDN", "Msisdn"), request)
        or party_msisdn
        or (handset.group(1) if handset else None),
    )
