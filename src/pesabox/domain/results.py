"""The asynchronous `Result` an initiator API POSTs to its ResultURL (daraja-api.md §17).

One envelope for B2C, B2Pochi, the B2B family, balance, status and reversal. Daraja's quirks
are kept: `ResultParameter` and `ReferenceItem` are a list when there are several and a single
object when there is one; codes are numbers where Daraja's samples have numbers and strings
where M-Pesa's codes are not numeric (`SFC_IC0003`, `R000002`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

# Where each API's results come from on M-Pesa (its internal queue URL, not the caller's).
REFERENCE_URLS = {
    "b2c": "https://internalsandbox.safaricom.co.ke/mpesa/b2cresults/v1/submit",
    "b2pochi": "https://internalsandbox.safaricom.co.ke/mpesa/b2cresults/v1/submit",
    "b2b": "https://internalsandbox.safaricom.co.ke/mpesa/b2bresults/v1/submit",
    # Tax Remittance rides the B2B path (§13).
    "tax": "https://internalsandbox.safaricom.co.ke/mpesa/b2bresults/v1/submit",
    "balance": "https://internalsandbox.safaricom.co.ke/mpesa/abresults/v1/submit",
    "status": "https://internalsandbox.safaricom.co.ke/mpesa/tsresults/v1/submit",
    "reversal": "https://internalsandbox.safaricom.co.ke/mpesa/reversalresults/v1/submit",
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What processing decided: the code, its description, and what the Result reports."""

    code: str
    description: str
    transaction_id: str = ""
    parameters: Sequence[tuple[str, Any]] = field(default_factory=tuple)
    # ReferenceData items before the QueueTimeoutURL one (B2B's BillReferenceNumber, §7.2).
    references: Sequence[tuple[str, Any]] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.code == "0"


def wire_code(code: str) -> int | str:
    """Numeric codes go out as numbers, as in Daraja's samples; the others as strings."""
    return int(code) if code.isdigit() else code


def _one_or_many(items: list[dict[str, Any]]) -> dict[str, Any] | list[dict[str, Any]]:
    return items[0] if len(items) == 1 else items


def _item(key: str, value: Any) -> dict[str, Any]:
    # Daraja leaves `Value` out of an item that has none (`{"Key": "TransactionReason"}`).
    return {"Key": key} if value is None else {"Key": key, "Value": value}


def _reference_tail(api: str, occasion: str) -> tuple[str, Any]:
    # Transaction Status echoes the request's Occasion instead, even in a failed Result (§8).
    if api == "status":
        return ("Occasion", occasion or None)
    return ("QueueTimeoutURL", REFERENCE_URLS.get(api, ""))


def result_payload(
    *,
    api: str,
    outcome: Outcome,
    originator_conversation_id: str,
    conversation_id: str,
    result_type: int = 0,
    occasion: str = "",
) -> str:
    result: dict[str, Any] = {
        "ResultType": result_type,
        "ResultCode": wire_code(outcome.code),
        "ResultDesc": outcome.description,
        "OriginatorConversationID": originator_conversation_id,
        "ConversationID": conversation_id,
        "TransactionID": outcome.transaction_id,
    }
    if outcome.parameters:
        result["ResultParameters"] = {
            "ResultParameter": _one_or_many(
                [_item(key, value) for key, value in outcome.parameters]
            )
        }
    references = [*outcome.references, _reference_tail(api, occasion)]
    result["ReferenceData"] = {
        "ReferenceItem": _one_or_many([_item(key, value) for key, value in references])
    }
    return orjson.dumps({"Result": result}).decode()


# Daraja publishes no code for it; 1037 is M-Pesa's generic "timed out" code (the STK DS timeout).
QUEUE_TIMEOUT_CODE = "1037"
QUEUE_TIMEOUT_DESC = "The request timed out while waiting in the queue to be processed."


def queue_timeout_payload(
    *, api: str, originator_conversation_id: str, conversation_id: str
) -> str:
    """What goes to the QueueTimeOutURL instead of a Result. Daraja publishes no sample;
    SDKs model it as the Result envelope with a non-zero code (§17), which this is."""
    return result_payload(
        api=api,
        outcome=Outcome(QUEUE_TIMEOUT_CODE, QUEUE_TIMEOUT_DESC),
        originator_conversation_id=originator_conversation_id,
        conversation_id=conversation_id,
        result_type=1,
    )
