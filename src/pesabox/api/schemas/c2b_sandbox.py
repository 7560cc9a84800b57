"""Bodies of the sandbox's C2B control API: the handset's M-PESA menu and registrations."""

from __future__ import annotations

from typing import Any

import msgspec

from pesabox.api import validation as check
from pesabox.api.schemas.c2b import checked_as_c2b
from pesabox.domain import c2b, qr_payload
from pesabox.domain.services.c2b_payment import PaymentOrder
from pesabox.errors import C2bBadRequest
from pesabox.storage.c2b_store import Payment


class PayBillEntry(msgspec.Struct, frozen=True):
    business_number: Any = None
    account_number: Any = None
    amount: Any = None
    pin: str = ""

    def to_order(self, msisdn: str, idempotency_key: str | None) -> PaymentOrder:
        return checked_as_c2b(
            lambda: PaymentOrder(
                channel="handset",
                msisdn=check.msisdn(msisdn, "msisdn"),
                shortcode=check.shortcode(self.business_number, "business_number"),
                transaction_type=c2b.PAY_BILL,
                bill_ref_number=check.text(
                    self.account_number, "account_number", max_length=c2b.MAX_BILL_REF_CHARS
                ),
                amount_cents=check.amount_cents(self.amount, "amount"),
                idempotency_key=idempotency_key,
            )
        )


class BuyGoodsEntry(msgspec.Struct, frozen=True):
    till_number: Any = None
    amount: Any = None
    pin: str = ""

    def to_order(self, msisdn: str, idempotency_key: str | None) -> PaymentOrder:
        return checked_as_c2b(
            lambda: PaymentOrder(
                channel="handset",
                msisdn=check.msisdn(msisdn, "msisdn"),
                shortcode=check.shortcode(self.till_number, "till_number"),
                transaction_type=c2b.BUY_GOODS,
                bill_ref_number="",
                amount_cents=check.amount_cents(self.amount, "amount"),
                idempotency_key=idempotency_key,
            )
        )


class QrEntry(msgspec.Struct, frozen=True):
    """A scanned Dynamic QR code's text (what `/mpesa/qrcode/v1/generate` encodes)."""

    payload: Any = None
    pin: str = ""

    def to_order(self, msisdn: str, idempotency_key: str | None) -> PaymentOrder:
        if not isinstance(self.payload, str):
            raise C2bBadRequest("payload")
        try:
            scanned = qr_payload.decode(self.payload)
        except qr_payload.InvalidQrPayload as error:
            raise C2bBadRequest("payload", str(error)) from None
        kind = _QR_PAYMENTS.get(scanned.transaction_code)
        if kind is None:
            # Send Money, agent withdrawal and Pochi codes move money between customers or to
            # an agent, not to a PayBill or till: they are not C2B payments.
            raise C2bBadRequest(
                "payload", f"a {scanned.transaction_code} code is not a PayBill or till payment"
            )
        if kind == c2b.PAY_BILL and len(scanned.reference) > c2b.MAX_BILL_REF_CHARS:
            raise C2bBadRequest("payload", "the account number (RefNo) is over 20 characters")
        return checked_as_c2b(
            lambda: PaymentOrder(
                channel="qr",
                msisdn=check.msisdn(msisdn, "msisdn"),
                shortcode=scanned.credit_party,
                transaction_type=kind,
                bill_ref_number=scanned.reference if kind == c2b.PAY_BILL else "",
                amount_cents=scanned.amount_cents,
                idempotency_key=idempotency_key,
            )
        )


_QR_PAYMENTS = {
    qr_payload.QrTransactionCode.BUY_GOODS: c2b.BUY_GOODS,
    qr_payload.QrTransactionCode.PAYBILL: c2b.PAY_BILL,
}


HandsetEntry = PayBillEntry | BuyGoodsEntry | QrEntry


class MsisdnFormatEntry(msgspec.Struct, frozen=True):
    msisdn_format: c2b.MsisdnFormat


def payment_out(payment: Payment) -> dict[str, Any]:
    """A payment as the handset and the inspector show it (Daraja's names where it has one)."""
    return {
        "TransID": payment.trans_id,
        "TransactionType": payment.transaction_type,
        "BusinessShortCode": payment.shortcode,
        "BillRefNumber": payment.bill_ref_number,
        "Amount": payment.amount_cents // 100,
        "MSISDN": payment.msisdn,
        "channel": payment.channel,
        "status": payment.status,
        "ResultCode": payment.result_code,
        "ResultDesc": payment.result_desc,
        "validation_result": payment.validation_result,
        "ThirdPartyTransID": payment.third_party_trans_id,
        "customer_fee": payment.customer_fee_cents / 100,
        "business_fee": payment.business_fee_cents / 100,
        "OrgAccountBalance": (
            payment.org_balance_cents / 100 if payment.org_balance_cents is not None else None
        ),
        "created_at": payment.created_at,
        "completed_at": payment.completed_at,
    }
