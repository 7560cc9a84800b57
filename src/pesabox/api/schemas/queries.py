"""Account Balance and Transaction Status request shapes (daraja-api.md §8, §9), PascalCase
exactly as on the wire: `Initiator` (not B2C's `InitiatorName`), `OriginalConversationID`
(not Originator) and `Occasion` with one s (§22).

Neither API takes an OriginatorConversationID from the caller, so each request gets a fresh
one and a retry is a new query: a query moves no money, so there is nothing to pay twice.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import msgspec
import orjson

from pesabox.api import validation as check
from pesabox.core.initiator import Submission
from pesabox.domain.services import account_balance, transaction_status
from pesabox.errors import BadRequest, C2bBadRequest

_MAX_CREDENTIAL_CHARS = 1024
# CommandID max 64 (§9); Remarks and Occasion up to 100 (§8, §9).
_MAX_COMMAND_CHARS = 64
_MAX_TEXT_CHARS = 100
_MAX_CONVERSATION_CHARS = 100
# An M-Pesa receipt: ten upper-case letters and digits.
_RECEIPT = re.compile(r"[A-Z0-9]{10}")


def _identifier_type(value: Any) -> str:
    # §7.3: 1 MSISDN, 2 till, 4 organisation shortcode; sent as a string or a number.
    text = check.text(value, "IdentifierType", max_length=2)
    if text not in account_balance.IDENTIFIER_TYPES:
        raise BadRequest("IdentifierType")
    return text


def _digest(fields: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)).hexdigest()


class AccountBalanceRequest(msgspec.Struct, frozen=True):
    # Typed loosely on purpose, as the other requests are: each field is checked in the
    # order Daraja lists them, so the first bad one is named.
    Initiator: Any = None
    SecurityCredential: Any = None
    CommandID: Any = None
    PartyA: Any = None
    IdentifierType: Any = None
    Remarks: Any = None
    QueueTimeOutURL: Any = None
    ResultURL: Any = None

    def to_submission(self, *, https_only: bool) -> tuple[Submission, str]:
        """The checked request, and the SecurityCredential (checked later, never stored)."""
        initiator = check.text(self.Initiator, "Initiator")
        credential = check.text(
            self.SecurityCredential, "SecurityCredential", max_length=_MAX_CREDENTIAL_CHARS
        )
        command_id = check.text(self.CommandID, "CommandID", max_length=_MAX_COMMAND_CHARS)
        if command_id != account_balance.COMMAND_ID:
            raise BadRequest("CommandID")
        party_a = check.shortcode(self.PartyA, "PartyA")
        identifier_type = _identifier_type(self.IdentifierType)
        remarks = check.text(self.Remarks, "Remarks", max_length=_MAX_TEXT_CHARS)
        queue_url = check.callback_url(
            self.QueueTimeOutURL, "QueueTimeOutURL", https_only=https_only
        )
        result_url = check.callback_url(self.ResultURL, "ResultURL", https_only=https_only)
        details = {"IdentifierType": identifier_type}
        fields = {
            "api": "balance", "initiator": initiator, "command": command_id,
            "party_a": party_a, "details": details, "remarks": remarks,
            "queue_url": queue_url, "result_url": result_url,
        }  # fmt: skip
        submission = Submission(
            api="balance",
            originator_conversation_id=None,
            command_id=command_id,
            initiator=initiator,
            party_a=party_a,
            party_b=None,
            amount_cents=None,
            remarks=remarks,
            occasion="",
            result_url=result_url,
            queue_timeout_url=queue_url,
            details=orjson.dumps(details).decode(),
            request_digest=_digest(fields),
        )
        return submission, credential


class TransactionStatusRequest(msgspec.Struct, frozen=True):
    Initiator: Any = None
    SecurityCredential: Any = None
    CommandID: Any = None
    TransactionID: Any = None
    OriginalConversationID: Any = None
    PartyA: Any = None
    IdentifierType: Any = None
    ResultURL: Any = None
    QueueTimeOutURL: Any = None
    Remarks: Any = None
    Occasion: Any = None

    def to_submission(self, *, https_only: bool) -> tuple[Submission, str]:
        """As `AccountBalanceRequest.to_submission`, with the Status family's error code
        (§18: `400.003.02`, the code C2B shares) for a bad field."""
        try:
            return self._checked(https_only=https_only)
        except BadRequest as bad:
            raise C2bBadRequest(bad.field) from None

    def _checked(self, *, https_only: bool) -> tuple[Submission, str]:
        initiator = check.text(self.Initiator, "Initiator")
        credential = check.text(
            self.SecurityCredential, "SecurityCredential", max_length=_MAX_CREDENTIAL_CHARS
        )
        command_id = check.one_of(self.CommandID, "CommandID", (transaction_status.COMMAND_ID,))
        receipt, conversation = self._references()
        # §8: a shortcode (5 to 9 digits here) or an MSISDN (12).
        party_a = check.digits(self.PartyA, "PartyA", min_length=5, max_length=12)
        identifier_type = _identifier_type(self.IdentifierType)
        result_url = check.callback_url(self.ResultURL, "ResultURL", https_only=https_only)
        queue_url = check.callback_url(
            self.QueueTimeOutURL, "QueueTimeOutURL", https_only=https_only
        )
        remarks = check.text(self.Remarks, "Remarks", max_length=_MAX_TEXT_CHARS)
        occasion = check.text(self.Occasion, "Occasion", required=False, max_length=_MAX_TEXT_CHARS)
        details = {
            "TransactionID": receipt,
            "OriginalConversationID": conversation,
            "IdentifierType": identifier_type,
        }
        fields = {
            "api": "status", "initiator": initiator, "command": command_id,
            "party_a": party_a, "details": details, "remarks": remarks,
            "occasion": occasion, "queue_url": queue_url, "result_url": result_url,
        }  # fmt: skip
        submission = Submission(
            api="status",
            originator_conversation_id=None,
            command_id=command_id,
            initiator=initiator,
            party_a=party_a,
            party_b=None,
            amount_cents=None,
            remarks=remarks,
            occasion=occasion,
            result_url=result_url,
            queue_timeout_url=queue_url,
            details=orjson.dumps(details).decode(),
            request_digest=_digest(fields),
        )
        return submission, credential

    def _references(self) -> tuple[str, str]:
        """The receipt and the conversation id: either may be empty, not both (§8)."""
        receipt = check.text(self.TransactionID, "TransactionID", required=False)
        if receipt and not _RECEIPT.fullmatch(receipt):
            raise BadRequest("TransactionID")
        conversation = check.text(
            self.OriginalConversationID,
            "OriginalConversationID",
            required=False,
            max_length=_MAX_CONVERSATION_CHARS,
        )
        if not receipt and not conversation:
            raise BadRequest("TransactionID")
        return receipt, conversation
