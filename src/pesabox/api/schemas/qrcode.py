"""Dynamic QR wire shapes (Daraja PascalCase exactly as on the wire)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from pesabox.api import validation as check
from pesabox.domain.c2b import MAX_BILL_REF_CHARS
from pesabox.domain.qr_payload import MSISDN_CODES, QrPayment, QrTransactionCode
from pesabox.errors import BadRequest

TRANSACTION_CODES = tuple(code.value for code in QrTransactionCode)
# Daraja does not say what sizes it draws; these keep an image scannable and its base64 small.
MIN_SIZE_PX, MAX_SIZE_PX = 100, 1000


@dataclass(frozen=True, slots=True)
class QrCodeCommand:
    payment: QrPayment
    size_px: int


class DynamicQrRequest(msgspec.Struct, frozen=True):
    # Typed loosely on purpose, as the STK request is: each field is checked in the order
    # Daraja lists them so the first bad one is named.
    MerchantName: Any = None
    RefNo: Any = None
    Amount: Any = None
    TrxCode: Any = None
    CPI: Any = None
    Size: Any = None

    def to_command(self) -> QrCodeCommand:
        merchant_name = _printable_text(self.MerchantName, "MerchantName")
        reference = _printable_text(self.RefNo, "RefNo")
        amount_cents = check.amount_cents(self.Amount)
        transaction_code = QrTransactionCode(
            check.one_of(self.TrxCode, "TrxCode", TRANSACTION_CODES)
        )
        credit_party = (
            check.msisdn(self.CPI, "CPI")
            if transaction_code in MSISDN_CODES
            else check.shortcode(self.CPI, "CPI")
        )
        if transaction_code == QrTransactionCode.PAYBILL and len(reference) > MAX_BILL_REF_CHARS:
            # RefNo is the PayBill account number, which M-Pesa caps at 20 characters: a longer
            # one would make a code no phone can pay.
            raise BadRequest("RefNo")
        payment = QrPayment(
            transaction_code=transaction_code,
            credit_party=credit_party,
            amount_cents=amount_cents,
            reference=reference,
            merchant_name=merchant_name,
        )
        return QrCodeCommand(payment=payment, size_px=_size_px(self.Size))


class DynamicQrResponse(msgspec.Struct, frozen=True):
    ResponseCode: str
    RequestID: str
    ResponseDescription: str
    QRCode: str


def _printable_text(value: Any, field: str) -> str:
    # The payer's handset shows these; a control character could hide part of the name.
    text = check.text(value, field)
    if not text.isprintable():
        raise BadRequest(field)
    return text


def _size_px(value: Any) -> int:
    size_px = int(check.digits(value, "Size", min_length=3, max_length=4))
    if not MIN_SIZE_PX <= size_px <= MAX_SIZE_PX:
        raise BadRequest("Size")
    return size_px
