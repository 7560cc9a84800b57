"""M-Pesa Express wire shapes (Daraja PascalCase exactly as on the wire)."""

from __future__ import annotations

from typing import Any

import msgspec

from pesabox.api import validation as check
from pesabox.domain.services.stk_push import TRANSACTION_TYPES, StkPushCommand, StkQueryCommand


class StkPushRequest(msgspec.Struct, frozen=True):
    # Typed loosely on purpose: real clients send numbers or strings for the same field,
    # and each field is checked in Daraja's order below so the first bad one is named.
    BusinessShortCode: Any = None
    Password: Any = None
    Timestamp: Any = None
    TransactionType: Any = None
    Amount: Any = None
    PartyA: Any = None
    PartyB: Any = None
    PhoneNumber: Any = None
    CallBackURL: Any = None
    AccountReference: Any = None
    TransactionDesc: Any = None

    def to_command(self, *, https_only: bool) -> StkPushCommand:
        business_shortcode = check.shortcode(self.BusinessShortCode, "BusinessShortCode")
        password = check.text(self.Password, "Password", max_length=512)
        timestamp = check.timestamp(self.Timestamp)
        transaction_type = check.one_of(self.TransactionType, "TransactionType", TRANSACTION_TYPES)
        amount_cents = check.amount_cents(self.Amount)
        # PartyA is checked loosely: SDKs send it as the user typed it (`07…`).
        party_a = check.digits(self.PartyA, "PartyA", min_length=9, max_length=12)
        party_b = check.shortcode(self.PartyB, "PartyB")
        phone_number = check.msisdn(self.PhoneNumber, "PhoneNumber")
        callback_url = check.callback_url(self.CallBackURL, "CallBackURL", https_only=https_only)
        account_reference = check.text(
            self.AccountReference,
            "AccountReference",
            required=transaction_type == "CustomerPayBillOnline",
        )
        description = check.text(self.TransactionDesc, "TransactionDesc", required=False)
        return StkPushCommand(
            business_shortcode=business_shortcode,
            password=password,
            timestamp=timestamp,
            transaction_type=transaction_type,
            amount_cents=amount_cents,
            party_a=party_a,
            party_b=party_b,
            phone_number=phone_number,
            callback_url=callback_url,
            account_reference=account_reference,
            description=description,
        )


class StkPushResponse(msgspec.Struct, frozen=True):
    MerchantRequestID: str
    CheckoutRequestID: str
    ResponseCode: str
    ResponseDescription: str
    CustomerMessage: str


class StkQueryRequest(msgspec.Struct, frozen=True):
    BusinessShortCode: Any = None
    Password: Any = None
    Timestamp: Any = None
    CheckoutRequestID: Any = None

    def to_command(self) -> StkQueryCommand:
        return StkQueryCommand(
            business_shortcode=check.shortcode(self.BusinessShortCode, "BusinessShortCode"),
            password=check.text(self.Password, "Password", max_length=512),
            timestamp=check.timestamp(self.Timestamp),
            checkout_request_id=check.text(
                self.CheckoutRequestID, "CheckoutRequestID", max_length=64
            ),
        )


class StkQueryResponse(msgspec.Struct, frozen=True):
    ResponseCode: str
    ResponseDescription: str
    MerchantRequestID: str
    CheckoutRequestID: str
    ResultCode: str
    ResultDesc: str
