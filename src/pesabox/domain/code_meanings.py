"""What a code the inspector shows means, read from the catalogues that produce the codes.

Three families share numbers with different meanings (STK's 2001 is a wrong PIN, an
initiator's 2001 a bad credential), so a lookup says which family it is in: `gateway` for the
synchronous `errorCode` and `ResponseCode` of an answer, `stk` for M-Pesa Express results,
`initiator` for the Results of B2C, B2B, balance, status and reversal, and `c2b` for a
business's validation answer.
"""

from __future__ import annotations

from typing import Literal

from pesabox.domain import b2b, b2c, c2b
from pesabox.domain.result_codes import STK_RESULTS
from pesabox.domain.services import reversal

Family = Literal["gateway", "stk", "initiator", "c2b"]

# The synchronous error codes of `pesabox.errors`, with the cause docs/reference/result-codes.md
# gives; a test keeps every code that module raises in this table.
GATEWAY_MEANINGS: dict[str, str] = {
    "0": "accepted for processing",
    "400.002.02": "a field fails its check (Bad Request - Invalid <Field>)",
    "400.002.05": "malformed or oversized body (Invalid Request Payload)",
    "400.003.01": "C2B or Transaction Status: access token unknown or expired",
    "400.003.02": "C2B: a field fails its check",
    "400.008.01": "token endpoint: Basic credentials missing or wrong",
    "400.008.02": "token endpoint: grant_type is not client_credentials",
    "401.002.01": "initiator APIs: access token unknown or expired",
    "401.003.01": "the app lacks this API's product",
    "403.009.01": "production: the request came over plain http (HTTPS is required)",
    "403.009.02": "production: this API needs the organisation's client certificate",
    "403.009.03": "production: the client certificate belongs to another organisation",
    "403.009.04": "production: the app belongs to no organisation",
    "404.001.01": "resource not found",
    "404.001.03": "M-Pesa Express or Reversal: access token unknown or expired",
    "404.001.04": "no Authorization: Bearer header",
    "404.003.01": "C2B simulate is not available in production",
    "405.001": "wrong HTTP method",
    "409.001.01": "the handset prompt is no longer pending",
    "500.001.1001": "merchant error: unknown shortcode, wrong password or subscriber locked",
    "500.002.1001": "duplicate OriginatorConversationID",
    "500.003.1001": "internal server error, or URLs already registered",
}

_INITIATOR_MEANINGS: dict[str, str] = {
    **b2c.DESCRIPTIONS,
    **b2b.DESCRIPTIONS,
    **reversal.DESCRIPTIONS,
    "1037": "The request timed out while waiting in the queue to be processed.",
}
_C2B_MEANINGS: dict[str, str] = {
    c2b.ACCEPT_CODE: "accepted by the business",
    **c2b.REJECTION_REASONS,
}


def _stk_meaning(code: str) -> str | None:
    try:
        info = STK_RESULTS.get(int(code))
    except ValueError:
        return None
    return f"{info.description} ({info.meaning})" if info else None


def meaning(code: str | None, *, family: Family) -> str | None:
    """The catalogue's words for `code`, or None when the catalogue does not list it."""
    if code is None:
        return None
    if family == "stk":
        return _stk_meaning(code)
    if family == "initiator":
        return _INITIATOR_MEANINGS.get(code)
    if family == "c2b":
        return _C2B_MEANINGS.get(code)
    return GATEWAY_MEANINGS.get(code)


def family_of_callback(kind: str) -> Family:
    """The family of the ResultCode inside a callback of this outbox kind."""
    if kind == "stk":
        return "stk"
    if kind.startswith("c2b_"):
        return "c2b"
    return "initiator"


def family_of_request(path: str) -> Family:
    """The STK query answers the push's outcome in ResultCode; other answers are gateway's."""
    return "stk" if path.startswith("/mpesa/stkpushquery/") else "gateway"
