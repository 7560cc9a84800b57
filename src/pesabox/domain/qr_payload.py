"""The text a Dynamic QR code carries, and its parser.

Daraja does not publish what its QR codes contain, so pesabox uses the layout of EMVCo's
merchant-presented QR (EMV QRCPS-MPM), which bank and wallet scanners already read: a run of
data objects, each a two-digit ID, a two-digit length and that many characters, closed by a
CRC-16/CCITT-FALSE checksum. The sample request encodes as (spaces added)::

    00 02 01                      payload format indicator, version 01
    01 02 12                      point of initiation 12: dynamic, made for one payment
    26 33                         merchant account template (IDs 26-51 are for schemes)
       00 13 pesabox.mpesa          whose scheme the template follows
       01 02 BG                     TrxCode
       02 06 373132                 CPI, the credit party
    53 03 404                     currency: Kenya shilling (ISO 4217)
    54 01 1                       amount in whole shillings
    58 02 KE                      country
    59 16 TEST SUPERMARKET        merchant name
    62 16                         additional data template
       05 12 Invoice Test           reference label: RefNo
    63 04 D40B                    CRC of everything before it, "6304" included

Lengths count characters; the checksum is over the UTF-8 bytes. The checksum catches a bad
scan or a hand edit; it is not a signature, and anyone can compute it. What protects the payer
is what protects them on M-Pesa: the handset shows the merchant name and amount before the PIN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from pesabox.money import CENTS_PER_SHILLING, MAX_PARSED_SHILLINGS

__all__ = [
    "InvalidQrPayload",
    "QrPayment",
    "QrTransactionCode",
    "crc16_ccitt",
    "decode",
    "encode",
]


class QrTransactionCode(StrEnum):
    """Daraja's `TrxCode`: what kind of payment the code asks for."""

    BUY_GOODS = "BG"
    WITHDRAW_AT_AGENT = "WA"
    PAYBILL = "PB"
    SEND_MONEY = "SM"
    # Sent to a business, but the CPI is written as a phone number (Daraja's wording).
    SEND_TO_BUSINESS = "SB"


# For these codes the CPI is a phone number; for the others it is a till or business number.
MSISDN_CODES = frozenset({QrTransactionCode.SEND_MONEY, QrTransactionCode.SEND_TO_BUSINESS})


@dataclass(frozen=True, slots=True)
class QrPayment:
    """One payment a QR code asks for. `decode(encode(payment)) == payment`."""

    transaction_code: QrTransactionCode  # TrxCode
    credit_party: str  # CPI: a till, agent till or business number, or a 254… MSISDN
    amount_cents: int  # a whole number of shillings, in cents
    reference: str  # RefNo: the account number for PayBill
    merchant_name: str  # MerchantName, shown to the payer before the PIN


class InvalidQrPayload(ValueError):
    """A payload that is not one pesabox made: corrupted, edited, truncated or foreign."""


GLOBALLY_UNIQUE_ID = "pesabox.mpesa"
MAX_PAYLOAD_LENGTH = 512  # the longest valid payload is 299 characters
# A two-digit length caps a value at 99 characters; the reference sits inside a template,
# whose own 99 characters include the reference's four-character header.
MAX_NAME_LENGTH = 99
MAX_REFERENCE_LENGTH = 95

_PAYLOAD_FORMAT, _POINT_OF_INITIATION = "00", "01"
_MERCHANT_ACCOUNT, _CURRENCY, _AMOUNT, _COUNTRY = "26", "53", "54", "58"
_MERCHANT_NAME, _ADDITIONAL_DATA, _CRC = "59", "62", "63"
_SCHEME, _TRANSACTION_CODE, _CREDIT_PARTY = "00", "01", "02"
_REFERENCE_LABEL = "05"
_TOP_LEVEL_IDS = frozenset(
    {_PAYLOAD_FORMAT, _POINT_OF_INITIATION, _MERCHANT_ACCOUNT, _CURRENCY, _AMOUNT, _COUNTRY}
    | {_MERCHANT_NAME, _ADDITIONAL_DATA}
)
# Values every payload carries unchanged: format 01, dynamic code, KES, Kenya.
_FIXED_VALUES = {_PAYLOAD_FORMAT: "01", _POINT_OF_INITIATION: "12", _CURRENCY: "404"} | {
    _COUNTRY: "KE"
}
_CRC_SUFFIX = re.compile(r"6304([0-9A-F]{4})")
_AMOUNT_TEXT = re.compile(r"[1-9][0-9]*")
_MSISDN = re.compile(r"254[17][0-9]{8}")
_SHORTCODE = re.compile(r"[0-9]{5,7}")


def encode(payment: QrPayment) -> str:
    """The payload text for `payment`; raises InvalidQrPayload if it cannot be one."""
    _check_payment(payment)
    account = _data_objects(
        (_SCHEME, GLOBALLY_UNIQUE_ID),
        (_TRANSACTION_CODE, payment.transaction_code.value),
        (_CREDIT_PARTY, payment.credit_party),
    )
    body = _data_objects(
        (_PAYLOAD_FORMAT, _FIXED_VALUES[_PAYLOAD_FORMAT]),
        (_POINT_OF_INITIATION, _FIXED_VALUES[_POINT_OF_INITIATION]),
        (_MERCHANT_ACCOUNT, account),
        (_CURRENCY, _FIXED_VALUES[_CURRENCY]),
        (_AMOUNT, str(payment.amount_cents // CENTS_PER_SHILLING)),
        (_COUNTRY, _FIXED_VALUES[_COUNTRY]),
        (_MERCHANT_NAME, payment.merchant_name),
        (_ADDITIONAL_DATA, _data_objects((_REFERENCE_LABEL, payment.reference))),
    )
    return _with_crc(body)


def decode(payload: str) -> QrPayment:
    """The payment a payload asks for; raises InvalidQrPayload for anything encode did not make
    (a wrong checksum, a missing, repeated or unknown field, a value out of its rules)."""
    if not isinstance(payload, str) or len(payload) > MAX_PAYLOAD_LENGTH:
        raise InvalidQrPayload("not a payload: not text, or too long")
    body = _verified_body(payload)
    fields = _parse_data_objects(body, allowed=_TOP_LEVEL_IDS, where="payload")
    if next(iter(fields)) != _PAYLOAD_FORMAT:
        raise InvalidQrPayload("the payload format indicator (00) must come first")
    for field_id, expected in _FIXED_VALUES.items():
        if fields[field_id] != expected:
            raise InvalidQrPayload(f"field {field_id} must be {expected!r}")
    account = _parse_data_objects(
        fields[_MERCHANT_ACCOUNT],
        allowed=frozenset({_SCHEME, _TRANSACTION_CODE, _CREDIT_PARTY}),
        where="merchant account template (26)",
    )
    if account[_SCHEME] != GLOBALLY_UNIQUE_ID:
        raise InvalidQrPayload(f"merchant account template (26) is not {GLOBALLY_UNIQUE_ID}'s")
    extra = _parse_data_objects(
        fields[_ADDITIONAL_DATA],
        allowed=frozenset({_REFERENCE_LABEL}),
        where="additional data template (62)",
    )
    payment = QrPayment(
        transaction_code=_transaction_code(account[_TRANSACTION_CODE]),
        credit_party=account[_CREDIT_PARTY],
        amount_cents=_amount_cents(fields[_AMOUNT]),
        reference=extra[_REFERENCE_LABEL],
        merchant_name=fields[_MERCHANT_NAME],
    )
    _check_payment(payment)
    return payment


def crc16_ccitt(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF), the checksum EMV QR uses."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def _data_objects(*pairs: tuple[str, str]) -> str:
    return "".join(f"{field_id}{len(value):02d}{value}" for field_id, value in pairs)


def _with_crc(body: str) -> str:
    # The checksum covers its own ID and length, as EMV specifies.
    covered = body + _CRC + "04"
    return f"{covered}{crc16_ccitt(covered.encode()):04X}"


def _verified_body(payload: str) -> str:
    """The payload without its checksum, once the checksum has been verified."""
    suffix = _CRC_SUFFIX.fullmatch(payload[-8:])
    if suffix is None:
        raise InvalidQrPayload("the payload does not end in a checksum (6304XXXX)")
    try:
        covered = payload[:-4].encode()
    except UnicodeEncodeError:  # a lone surrogate, which no scanner produces
        raise InvalidQrPayload("the payload is not valid Unicode text") from None
    if crc16_ccitt(covered) != int(suffix.group(1), 16):
        raise InvalidQrPayload("checksum mismatch: the payload was damaged or edited")
    return payload[:-8]


def _parse_data_objects(text: str, *, allowed: frozenset[str], where: str) -> dict[str, str]:
    """ID -> value for a run of data objects holding each allowed ID exactly once."""
    fields: dict[str, str] = {}
    position = 0
    while position < len(text):
        field_id, length_text = text[position : position + 2], text[position + 2 : position + 4]
        if not (field_id.isascii() and field_id.isdigit()):
            raise InvalidQrPayload(f"{where}: bad field ID {field_id!r} at {position}")
        if not (length_text.isascii() and length_text.isdigit()):
            raise InvalidQrPayload(f"{where}: bad length for field {field_id}")
        end = position + 4 + int(length_text)
        if end > len(text):
            raise InvalidQrPayload(f"{where}: field {field_id} runs past the end")
        if field_id not in allowed:
            raise InvalidQrPayload(f"{where}: unknown field {field_id}")
        if field_id in fields:
            raise InvalidQrPayload(f"{where}: field {field_id} appears twice")
        fields[field_id] = text[position + 4 : end]
        position = end
    missing = sorted(allowed - fields.keys())
    if missing:
        raise InvalidQrPayload(f"{where}: missing field {missing[0]}")
    return fields


def _transaction_code(text: str) -> QrTransactionCode:
    try:
        return QrTransactionCode(text)
    except ValueError:
        raise InvalidQrPayload(f"unknown TrxCode {text!r}") from None


def _amount_cents(text: str) -> int:
    # Whole shillings without a sign, point or leading zero: one way to write each amount.
    if not _AMOUNT_TEXT.fullmatch(text):
        raise InvalidQrPayload(f"the amount {text!r} is not a whole number of shillings")
    return int(text) * CENTS_PER_SHILLING


def _check_payment(payment: QrPayment) -> None:
    """The rules a payment must meet to be written as, or read from, a payload."""
    if not isinstance(payment.transaction_code, QrTransactionCode):
        raise InvalidQrPayload(f"unknown TrxCode {payment.transaction_code!r}")
    pattern = _MSISDN if payment.transaction_code in MSISDN_CODES else _SHORTCODE
    if not pattern.fullmatch(payment.credit_party):
        raise InvalidQrPayload(
            f"CPI {payment.credit_party!r} is not valid for TrxCode {payment.transaction_code}"
        )
    shillings, cents = divmod(payment.amount_cents, CENTS_PER_SHILLING)
    if cents or not 0 < shillings <= MAX_PARSED_SHILLINGS:
        raise InvalidQrPayload(f"the amount {payment.amount_cents} cents is not whole shillings")
    _check_text(payment.merchant_name, "MerchantName", MAX_NAME_LENGTH)
    _check_text(payment.reference, "RefNo", MAX_REFERENCE_LENGTH)


def _check_text(value: str, field: str, max_length: int) -> None:
    # Printable only: a control or formatting character could hide part of the name the
    # payer is shown, and a lone surrogate cannot be written as UTF-8 at all.
    if not 0 < len(value) <= max_length or not value.isprintable():
        raise InvalidQrPayload(f"{field} must be 1 to {max_length} printable characters")
