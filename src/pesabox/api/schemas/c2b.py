"""C2B wire shapes (daraja-api.md §5), PascalCase exactly as on the wire."""

from __future__ import annotations

from typing import Any

import msgspec

from pesabox.api import validation as check
from pesabox.core.c2b import RegisterCommand
from pesabox.domain import c2b
from pesabox.domain.services.c2b_payment import PaymentOrder
from pesabox.errors import BadRequest, C2bBadRequest

_RESPONSE_TYPES = tuple(str(t) for t in c2b.ResponseType)


def _c2b_field(error: BadRequest) -> C2bBadRequest:
    # The shared field checks speak the STK family's 400.002.02; C2B answers 400.003.02.
    return C2bBadRequest(error.field)


def _url(value: Any, field: str, *, https_only: bool) -> str:
    url = check.callback_url(value, field, https_only=https_only)
    word = c2b.forbidden_word(url)
    if word is not None:
        raise C2bBadRequest(field, f"URL has the word {word}")
    return url


class RegisterUrlRequest(msgspec.Struct, frozen=True):
    ShortCode: Any = None
    ResponseType: Any = None
    ConfirmationURL: Any = None
    ValidationURL: Any = None

    def to_command(self, *, api_version: str, https_only: bool) -> RegisterCommand:
        try:
            shortcode = check.shortcode(self.ShortCode, "ShortCode")
            # Spelled exactly: "completed" or "Canceled" are refused, as on Daraja.
            response_type = check.one_of(self.ResponseType, "ResponseType", _RESPONSE_TYPES)
            confirmation_url = _url(self.ConfirmationURL, "ConfirmationURL", https_only=https_only)
            validation_url = _url(self.ValidationURL, "ValidationURL", https_only=https_only)
        except BadRequest as error:
            raise _c2b_field(error) from None
        return RegisterCommand(
            shortcode=shortcode,
            response_type=response_type,
            confirmation_url=confirmation_url,
            validation_url=validation_url,
            api_version=api_version,
        )


class RegisterUrlResponse(msgspec.Struct, frozen=True):
    # Daraja's misspelling, which most clients read, and the correct spelling, which others
    # (generated from the docs' prose) expect.
    OriginatorCoversationID: str
    OriginatorConversationID: str
    ConversationID: str
    ResponseCode: str
    ResponseDescription: str


class SimulateRequest(msgspec.Struct, frozen=True):
    ShortCode: Any = None
    CommandID: Any = None
    Amount: Any = None
    Msisdn: Any = None
    BillRefNumber: Any = None

    def to_order(self, *, app_id: int, idempotency_key: str | None) -> PaymentOrder:
        try:
            shortcode = check.shortcode(self.ShortCode, "ShortCode")
            command = check.one_of(self.CommandID, "CommandID", tuple(c2b.COMMAND_IDS))
            amount_cents = check.amount_cents(self.Amount)
            msisdn = check.msisdn(self.Msisdn, "Msisdn")
            transaction_type = c2b.COMMAND_IDS[command]
            # The account number is what a PayBill validates; a till has none (null or "").
            bill_ref = check.text(
                self.BillRefNumber,
                "BillRefNumber",
                required=transaction_type == c2b.PAY_BILL,
                max_length=c2b.MAX_BILL_REF_CHARS,
            )
        except BadRequest as error:
            raise _c2b_field(error) from None
        return PaymentOrder(
            channel="simulate",
            msisdn=msisdn,
            shortcode=shortcode,
            transaction_type=transaction_type,
            amount_cents=amount_cents,
            bill_ref_number=bill_ref,
            idempotency_key=idempotency_key,
            app_id=app_id,
        )


class SimulateResponse(msgspec.Struct, frozen=True):
    ConversationID: str
    OriginatorCoversationID: str
    OriginatorConversationID: str
    ResponseCode: str
    ResponseDescription: str
