"""What the inspector keeps of one inbound API request: pure functions over its bytes.

A request is captured on the request path as raw bytes and turned into a row only later, in
the background flush, so none of this parsing costs a payment anything. Secrets never reach
a row: the Authorization header is not kept at all, and every field whose name says it holds
a password, a credential, a PIN, a secret or a token has its value masked before the body is
cut to its excerpt.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import orjson

# Bodies are kept as excerpts: enough to read a Daraja request or answer whole (they are a
# few hundred bytes), bounded so a 64 KB body cannot bloat the table.
EXCERPT_BYTES_MAX = 8 * 1024
MASK = "****"
MASK_JSON = b'"****"'
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
# Field names repeat from one request to the next, so each is judged once and remembered in
# one of two sets; a body's names are then settled by set operations, without a Python step
# per field (the flush does this for every request at full load).
_secret_names: set[str] = set()
_plain_names: set[str] = set()
_NAMES_MAX = 4096


class NotJson:
    """A body that is not JSON (empty, a form, broken): masked field by field as text."""


NOT_JSON = NotJson()


def is_secret_field(name: str) -> bool:
    lowered = name.lower()
    return lowered.endswith("pin") or any(word in lowered for word in _SECRET_WORDS)


def _secret_keys(names: Any) -> set[str]:
    """Which of these field names hold secrets."""
    if names <= _plain_names:
        # Most answers: every name already judged plain, settled by one comparison.
        return set()
    unknown = names - _secret_names - _plain_names
    if unknown:
        if len(_secret_names) + len(_plain_names) >= _NAMES_MAX:
            _secret_names.clear()
            _plain_names.clear()
        for name in unknown:
            (_secret_names if is_secret_field(name) else _plain_names).add(name)
    return names & _secret_names  # type: ignore[no-any-return]


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


def _masked_flat(body: bytes, parsed: dict[str, Any]) -> bytes | None:
    """A flat JSON object's own bytes with its secret string values masked in place (so the
    client's formatting is kept), or None when that cannot be done safely."""
    secrets = _secret_keys(parsed.keys())
    for key in secrets:
        value = parsed[key]
        if not isinstance(value, str):
            return None
        encoded = orjson.dumps(value)
        if encoded not in body:
            # The client escaped it its own way (PHP writes `/` as `\/`, some write `\u0063`):
            # the caller then re-serialises the parsed body with the value masked.
            return None
        # Every occurrence of the value as a JSON string goes: masking more is harmless.
        body = body.replace(encoded, MASK_JSON)
    return body


def _masked_text(body: bytes, parsed: Any) -> str:
    # Most Daraja bodies are flat objects: one `{`, no `[` (a brace or bracket inside a
    # string only sends the body the longer way, which is correct too).
    if isinstance(parsed, dict) and body.count(b"{") == 1 and b"[" not in body:
        flat = _masked_flat(body, parsed)
        if flat is not None:
            return flat.decode("utf-8", "replace")
    masked, changed = _masked(parsed)
    return orjson.dumps(masked).decode() if changed else body.decode("utf-8", "replace")


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
        text = _masked_text(body, parsed)
    # A character is at most 4 bytes: most bodies are known to fit without encoding them.
    if len(text) * 4 <= limit_bytes:
        return text
    encoded = text.encode("utf-8")
    if len(encoded) <= limit_bytes:
        return text
    return encoded[:limit_bytes].decode("utf-8", errors="ignore") + TRUNCATED_MARK


class RequestFacts(NamedTuple):
    """The fields the inspector filters and links on, read from a request and its answer.

    A NamedTuple, not a frozen dataclass: the flush builds one for every recorded request,
    and a frozen dataclass's constructor cost four times as much (0.8 µs)."""

    result_code: str | None = None
    checkout_request_id: str | None = None
    merchant_request_id: str | None = None
    conversation_id: str | None = None
    originator_conversation_id: str | None = None
    trans_id: str | None = None
    shortcode: str | None = None
    msisdn: str | None = None


# Where each fact is read from: (fact, rank); a lower rank wins. The answer is read before
# the request, so an id the answer gives wins over one the request echoes.
_ANSWER_KEYS: dict[str, tuple[str, int]] = {
    # ResultCode first: an STK query answers ResponseCode 0 and the outcome in ResultCode.
    "ResultCode": ("result_code", 0),
    "errorCode": ("result_code", 1),
    "ResponseCode": ("result_code", 2),
    "CheckoutRequestID": ("checkout_request_id", 0),
    "MerchantRequestID": ("merchant_request_id", 0),
    "ConversationID": ("conversation_id", 0),
    "OriginatorConversationID": ("originator_conversation_id", 0),
    "OriginatorCoversationID": ("originator_conversation_id", 1),
    "TransID": ("trans_id", 0),
    "TransactionID": ("trans_id", 1),
    "MpesaReceiptNumber": ("trans_id", 2),
}
_REQUEST_KEYS: dict[str, tuple[str, int]] = {
    "CheckoutRequestID": ("checkout_request_id", 10),
    "MerchantRequestID": ("merchant_request_id", 10),
    "ConversationID": ("conversation_id", 10),
    "OriginatorConversationID": ("originator_conversation_id", 10),
    "TransID": ("trans_id", 10),
    "TransactionID": ("trans_id", 11),
    "BusinessShortCode": ("shortcode", 0),
    "ShortCode": ("shortcode", 1),
    "PhoneNumber": ("msisdn", 0),
    "MSISDN": ("msisdn", 1),
    "Msisdn": ("msisdn", 2),
}
# PartyA/PartyB hold a shortcode or an MSISDN depending on the API: each counts as whichever
# it looks like, after the fields that say so by name.
_PARTIES = {"PartyA": 20, "PartyB": 21}


def _text(value: Any) -> str | None:
    # Clients send shortcodes and amounts as numbers or strings alike; ids are strings.
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


def looks_like_msisdn(value: str) -> bool:
    return bool(_MSISDN.match(value))


def _collect(
    found: dict[str, tuple[int, str]], body: Any, keys: dict[str, tuple[str, int]]
) -> None:
    if not isinstance(body, dict):
        return
    # Only the few names present matter; the set intersection finds them in C.
    for key in body.keys() & keys.keys():
        text = _text(body[key])
        if text is None:
            continue
        fact, rank = keys[key]
        held = found.get(fact)
        if held is None or rank < held[0]:
            found[fact] = (rank, text)


def _collect_parties(found: dict[str, tuple[int, str]], body: Any) -> None:
    if not isinstance(body, dict):
        return
    for key in body.keys() & _PARTIES.keys():
        text = _text(body[key])
        if text is None:
            continue
        fact, rank = ("msisdn" if looks_like_msisdn(text) else "shortcode"), _PARTIES[key]
        held = found.get(fact)
        if held is None or rank < held[0]:
            found[fact] = (rank, text)


def read_facts(path: str, request_body: Any, response_body: Any) -> RequestFacts:
    """Facts from the parsed bodies (`parse_body`); anything but a JSON object has none."""
    found: dict[str, tuple[int, str]] = {}
    _collect(found, response_body, _ANSWER_KEYS)
    _collect(found, request_body, _REQUEST_KEYS)
    if "shortcode" not in found or "msisdn" not in found:
        # The parties rank after the named fields, so they matter only when one is missing.
        _collect_parties(found, request_body)
    if "msisdn" not in found and "/handsets/" in path:
        handset = _HANDSET_PATH.search(path)
        if handset is not None:
            found["msisdn"] = (99, handset.group(1))
    return RequestFacts(**{fact: text for fact, (_, text) in found.items()})
