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

# The field names that hold secrets: a name containing password, credential, secret or token,
# or ending in pin (pin, bonga_pin, new_pin).
_SECRET_WORDS = ("password", "credential", "secret", "token")
# For bodies that are not JSON (a form, or JSON too broken to parse): field by field.
_TEXT_FIELD = re.compile(r'"([A-Za-z_][A-Za-z0-9_]*)"(\s*:\s*)("(?:[^"\\]|\\.)*"|[^,}\]\s]+)')
_FORM_FIELD = re.compile(r"(^|&)([A-Za-z_][A-Za-z0-9_]*)=([^&]*)")
# Handset paths name the customer: /sandbox/v1/handsets/2547…/prompts/…
_HANDSET_PATH = re.compile(r"/handsets/(\d{9,15})(?:/|$)")
_MSISDN = re.compile(r"^(?:254|0)[17]\d{8}$")
# Field names repeat from one request to the next, so each is judged once.
_secret_names: dict[str, bool] = {}
_SECRET_NAMES_MAX = 4096


class NotJson:
    """A body that is not JSON (empty, a form, broken): masked field by field as text."""


NOT_JSON = NotJson()


def is_secret_field(name: str) -> bool:
    known = _secret_names.get(name)
    if known is None:
        lowered = name.lower()
        known = lowered.endswith("pin") or any(word in lowered for word in _SECRET_WORDS)
        if len(_secret_names) >= _SECRET_NAMES_MAX:
            _secret_names.clear()
        _secret_names[name] = known
    return known


def parse_body(body: bytes) -> Any:
    """The body's JSON value, or `NOT_JSON`. Parsed once: facts and masking both read it."""
    if not body:
        return NOT_JSON
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return NOT_JSON


def _masked(value: Any) -> tuple[Any, bool]:
    """`value` with every secret field's value masked, and whether anything was."""
    if isinstance(value, dict):
        changed = False
        result: dict[Any, Any] = {}
        for key, item in value.items():
            if is_secret_field(key):
                result[key], changed = MASK, True
            else:
                result[key], inner = _masked(item)
                changed = changed or inner
        return (result, True) if changed else (value, False)
    if isinstance(value, list):
        items = [_masked(item) for item in value]
        if any(inner for _, inner in items):
            return [item for item, _ in items], True
    return value, False


def redact(text: str) -> str:
    """`text`, not parseable as JSON, with every secret field masked (JSON-like or form)."""

    def json_field(match: re.Match[str]) -> str:
        if not is_secret_field(match.group(1)):
            return match.group(0)
        return f'"{match.group(1)}"{match.group(2)}"{MASK}"'

    def form_field(match: re.Match[str]) -> str:
        if not is_secret_field(match.group(2)):
            return match.group(0)
        return f"{match.group(1)}{match.group(2)}={MASK}"

    return _FORM_FIELD.sub(form_field, _TEXT_FIELD.sub(json_field, text))


def excerpt(body: bytes, parsed: Any = None, *, limit_bytes: int = EXCERPT_BYTES_MAX) -> str:
    """The body with secrets masked, cut to `limit_bytes` (whole characters), marked if cut.

    `parsed` is `parse_body(body)` when the caller has it. A JSON body with a secret is
    written back compactly with the value masked; one without keeps its own text. Masking
    runs on the whole body first, so a secret that straddles the cut is masked too.
    """
    if parsed is None:
        parsed = parse_body(body)
    if isinstance(parsed, NotJson):
        text = redact(body.decode("utf-8", errors="replace"))
    else:
        masked, changed = _masked(parsed)
        text = orjson.dumps(masked).decode() if changed else body.decode("utf-8", "replace")
    # A character is at most 4 bytes: most bodies are known to fit without encoding them.
    if len(text) * 4 <= limit_bytes:
        return text
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


def _object(parsed: Any) -> dict[str, Any]:
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


def read_facts(path: str, request_body: Any, response_body: Any) -> RequestFacts:
    """Facts from the parsed bodies (`parse_body`); anything but a JSON object has none."""
    request = _object(request_body)
    response = _object(response_body)
    party_shortcode, party_msisdn = _parties(request)
    handset = _HANDSET_PATH.search(path) if "/handsets/" in path else None
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
