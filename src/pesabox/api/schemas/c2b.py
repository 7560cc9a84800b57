"""C2B wire shapes (daraja-api.md §5), PascalCase exactly as on the wire."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from pesabox.api import validation as check
from pesabox.core.c2b import RegisterCommand
from pesabox.domain import c2b
from pesabox.domain.services.c2b_payment import PaymentOrder
from pesabox.errors import BadRequest, C2bBadRequest

T = TypeVar("T")
_RESPONSE_TYPES = tuple(str(t) for t in c2b.ResponseType)


def checked_as_c2b(check_fields: Callable[[], T]) -> T:
    """Run field checks, reporting a bad field the C2B way: the shared checks speak the STK
    family's 400.002.02, C2B answers 400.003.02."""
    try:
        return check_fields()
    except BadRequest as error:
        raise C2bBadRequest(error.field) from None


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
        # Keyword arguments are evaluated in order: the first bad field is the one named.
        return checked_as_c2b(
            lambda: RegisterCommand(
                shortcode=check.shortcode(self.ShortCode, "ShortCode"),
                # Spelled exactly: "completed" or "Canceled" are refused, as on Daraja.
                response_type=check.one_of(self.ResponseType, "ResponseType", _RESPONSE_TYPES),
                confirmation_url=_url(
                    self.ConfirmationURL, "ConfirmationURL", https_only=https_only
                ),
                validation_url=_url(self.ValidationURL, "ValidationURL", https_only=https_only),
                api_version=api_version,
            )
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
        return checked_as_c2b(lambda: self._order(app_id, idempotency_key))

    def _order(self, app_id: int, idempotency_key: str | None) -> PaymentOrder:
        shortcode = check.shortcode(self.ShortCode, "ShortCode")
        command = check.one_of(self.CommandID, "CommandID", tuple(c2b.COMMAND_IDS))
        amount_cents = check.amount_cents(self.Amount)
        msisdn = check.msisdn(self.Msisdn, "Msisdn")
        transaction_type = c2b.COMMAND_IDS[command]
        # The account number is what a PayBill validates. A till has none: whatever a client
        # sends for one is dropped, as a customer paying a till cannot type an account.
        bill_ref = check.text(
            self.BillRefNumber,
            "BillRefNumber",
            required=transaction_type == c2b.PAY_BILL,
            max_length=c2b.MAX_BILL_REF_CHARS,
        )
        if transaction_type == c2b.BUY_GOODS:
            bill_ref = ""
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
