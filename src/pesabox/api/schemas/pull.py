"""Pull Transactions wire shapes (Daraja's spelling exactly, lower-case row keys included)."""

from __future__ import annotations

from typing import Any

import msgspec

from pesabox.api import validation as check
from pesabox.domain import pull_transactions as pull
from pesabox.errors import BadRequest

# An offset past any real history: nine digits keep the number a plain database integer.
_MAX_OFFSET_DIGITS = 9


class PullRegisterRequest(msgspec.Struct, frozen=True):
    # Typed loosely, as for STK: each field is checked in order so the first bad one is named.
    ShortCode: Any = None
    RequestType: Any = None
    NominatedNumber: Any = None
    CallBackURL: Any = None

    def to_command(self, *, https_only: bool) -> pull.PullRegisterCommand:
        shortcode = check.shortcode(self.ShortCode, "ShortCode")
        check.one_of(self.RequestType, "RequestType", (pull.REQUEST_TYPE,))
        digits = check.digits(self.NominatedNumber, "NominatedNumber", min_length=10, max_length=12)
        nominated_number = pull.normalise_nominated_number(digits)
        if nominated_number is None:
            raise BadRequest("NominatedNumber")
        return pull.PullRegisterCommand(
            shortcode=shortcode,
            nominated_number=nominated_number,
            callback_url=check.callback_url(self.CallBackURL, "CallBackURL", https_only=https_only),
        )


class PullRegisterResponse(msgspec.Struct, frozen=True):
    ResponseRefID: str
    ResponseStatus: str
    ShortCode: str
    ResponseDescription: str


class PullQueryRequest(msgspec.Struct, frozen=True):
    ShortCode: Any = None
    StartDate: Any = None
    EndDate: Any = None
    OffSetValue: Any = None

    def to_query(self) -> pull.PullQuery:
        shortcode = check.shortcode(self.ShortCode, "ShortCode")
        start_s = _date(self.StartDate, "StartDate")
        end_s = _date(self.EndDate, "EndDate")
        if end_s < start_s:
            raise BadRequest("EndDate")
        return pull.PullQuery(
            shortcode=shortcode, start_s=start_s, end_s=end_s, offset=_offset(self.OffSetValue)
        )


class PullTransaction(msgspec.Struct, frozen=True):
    transactionId: str  # noqa: N815 - Daraja's own spelling
    trxDate: str  # noqa: N815
    # A JSON number, as in Daraja's sample.
    msisdn: int
    sender: str
    transactiontype: str
    billreference: str
    amount: str
    organizationname: str

    @classmethod
    def of(cls, payment: pull.PulledPayment) -> PullTransaction:
        return cls(
            transactionId=payment.trans_id,
            trxDate=pull.trx_date(payment.completed_at),
            msisdn=int(payment.msisdn),
            sender=pull.sender_name(payment),
            transactiontype=pull.transaction_type_name(payment.transaction_type),
            billreference=payment.bill_ref_number,
            amount=pull.amount_text(payment.amount_cents),
            organizationname=payment.organisation_name,
        )


class PullQueryResponse(msgspec.Struct, frozen=True):
    ResponseRefID: str
    ResponseCode: str
    ResponseMessage: str
    # One page is one inner array: Daraja nests the rows, `[[{…}, {…}]]`, and `[[]]` when empty.
    Response: list[list[PullTransaction]]


def _date(value: Any, field: str) -> float:
    if not isinstance(value, str):
        raise BadRequest(field)
    epoch_s = pull.parse_pull_date(value)
    if epoch_s is None:
        raise BadRequest(field)
    return epoch_s


def _offset(value: Any) -> int:
    # Daraja's sample always sends it; a client that leaves it out means the first page.
    if value is None:
        return 0
    offset = check.digits(value, "OffSetValue", min_length=1, max_length=_MAX_OFFSET_DIGITS)
    return int(offset)
