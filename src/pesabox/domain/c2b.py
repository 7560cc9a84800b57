"""C2B values and rules (daraja-api.md §5): registration, the payer's MSISDN as the business
sees it, the validation answer, and the notification payload."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

from pesabox.money import cents_to_decimal_string

PAY_BILL = "Pay Bill"
BUY_GOODS = "Buy Goods"
# Daraja's simulate CommandID -> the TransactionType the business is told.
COMMAND_IDS: dict[str, str] = {
    "CustomerPayBillOnline": PAY_BILL,
    "CustomerBuyGoodsOnline": BUY_GOODS,
}
# M-Pesa's menu takes an account number of up to 20 characters (§5.3 BillRefNumber).
MAX_BILL_REF_CHARS = 20


class ResponseType(StrEnum):
    """What M-Pesa does when the ValidationURL gives no usable answer in time."""

    COMPLETED = "Completed"
    CANCELLED = "Cancelled"


class MsisdnFormat(StrEnum):
    FULL = "full"
    MASKED = "masked"  # "2547 ***** 126"
    HASHED = "hashed"  # SHA-256 of the 12-digit number, 64 hex characters


# Sources disagree on which version hides the number how (§5.5); pesabox follows
# mpesa-domain-and-g2.md §2.4, and each registration can choose another.
DEFAULT_MSISDN_FORMAT = {"v1": MsisdnFormat.HASHED, "v2": MsisdnFormat.MASKED}


class PaymentStatus(StrEnum):
    VALIDATING = "validating"  # money held, waiting for the business's answer
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # refused by validation, or no answer under ResponseType=Cancelled
    FAILED = "failed"  # the customer could not pay (PIN, balance, limits)


# Words Daraja refuses in callback URLs (§5.1), compared case-insensitively. The M-Pesa and
# Safaricom names are also found with separators removed ("M-PESA", "m_pesa").
_BRAND_WORDS = ("mpesa", "safaricom")
_COMMAND_WORDS = ("exec", "exe", "cmd", "sql", "query")
_NOT_ALNUM = re.compile(r"[^a-z0-9]")


def forbidden_word(url: str) -> str | None:
    """The first word Daraja would refuse in `url`, upper-cased as its error shows it."""
    lowered = url.lower()
    squeezed = _NOT_ALNUM.sub("", lowered)
    for word in _BRAND_WORDS:
        if word in squeezed:
            return word.upper()
    for word in _COMMAND_WORDS:
        if word in lowered:
            return word.upper()
    return None


def show_msisdn(msisdn: str, fmt: str) -> str:
    if fmt == MsisdnFormat.FULL:
        return msisdn
    if fmt == MsisdnFormat.HASHED:
        return hashlib.sha256(msisdn.encode()).hexdigest()
    return f"{msisdn[:4]} ***** {msisdn[-3:]}"


def split_name(name: str) -> tuple[str, str, str]:
    """A customer's registered name as M-Pesa's First/Middle/Last fields."""
    parts = name.upper().split()
    if not parts:
        return "", "", ""
    if len(parts) == 1:
        return parts[0], "", ""
    return parts[0], " ".join(parts[1:-1]), parts[-1]


# --- the business's validation answer (§5.4) -------------------------------------------------

ACCEPT_CODE = "0"
REJECTION_REASONS: dict[str, str] = {
    "C2B00011": "Invalid MSISDN",
    "C2B00012": "Invalid Account Number",
    "C2B00013": "Invalid Amount",
    "C2B00014": "Invalid KYC Details",
    "C2B00015": "Invalid Shortcode",
    "C2B00016": "Other Error",
}
# What `validation_result` records when there was no answer to read.
NO_ANSWER_TIMEOUT = "timeout"
NO_ANSWER_UNREACHABLE = "unreachable"
NO_ANSWER_UNREADABLE = "bad_answer"


@dataclass(frozen=True, slots=True)
class ValidationAnswer:
    # True: accept; False: reject; None: no usable answer, so ResponseType decides.
    accepted: bool | None
    # The business's ResultCode, or one of the NO_ANSWER_* markers.
    result: str
    third_party_trans_id: str = ""

    def decides(self, response_type: str) -> bool:
        """Whether the payment completes."""
        if self.accepted is None:
            return response_type == ResponseType.COMPLETED
        return self.accepted


def read_validation_answer(status_code: int | None, body: str | None) -> ValidationAnswer:
    """Sort the business's reply into accept, reject or no usable answer.

    A 2xx JSON object with ResultCode "0" (or 0) accepts; any other ResultCode rejects, as
    M-Pesa does ("any non-zero code cancels", and the legacy `1`). Anything else (an error
    status, no JSON, no ResultCode) is treated like no answer at all.
    """
    if status_code is None or not 200 <= status_code < 300 or not body:
        return ValidationAnswer(None, NO_ANSWER_UNREADABLE)
    try:
        parsed: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return ValidationAnswer(None, NO_ANSWER_UNREADABLE)
    if not isinstance(parsed, dict) or not _is_code(parsed.get("ResultCode")):
        return ValidationAnswer(None, NO_ANSWER_UNREADABLE)
    code = str(parsed["ResultCode"]).strip()[:16]
    third_party = parsed.get("ThirdPartyTransID")
    third_party_text = str(third_party)[:64] if _is_code(third_party) else ""
    return ValidationAnswer(code == ACCEPT_CODE, code, third_party_text)


def _is_code(value: Any) -> bool:
    # A code is a string or an integer; null, true or 0.0 is not an answer anyone meant.
    return isinstance(value, str | int) and not isinstance(value, bool)


def rejection_reason(result: str) -> str:
    return REJECTION_REASONS.get(result, "Other Error")


# --- the notification payload (§5.3) ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Notification:
    transaction_type: str
    trans_id: str
    trans_time: str
    amount_cents: int
    business_shortcode: str
    bill_ref_number: str
    org_balance_cents: int | None
    third_party_trans_id: str
    msisdn: str
    first_name: str
    middle_name: str
    last_name: str

    def payload(self) -> str:
        """The JSON M-Pesa POSTs; validation carries a blank OrgAccountBalance."""
        balance = (
            cents_to_decimal_string(self.org_balance_cents)
            if self.org_balance_cents is not None
            else ""
        )
        return orjson.dumps(
            {
                "TransactionType": self.transaction_type,
                "TransID": self.trans_id,
                "TransTime": self.trans_time,
                "TransAmount": cents_to_decimal_string(self.amount_cents),
                "BusinessShortCode": self.business_shortcode,
                "BillRefNumber": self.bill_ref_number,
                "InvoiceNumber": "",
                "OrgAccountBalance": balance,
                "ThirdPartyTransID": self.third_party_trans_id,
                "MSISDN": self.msisdn,
                "FirstName": self.first_name,
                "MiddleName": self.middle_name,
                "LastName": self.last_name,
            }
        ).decode()
