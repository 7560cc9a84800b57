"""The Reversal request's wire shape (daraja-api.md §10), PascalCase exactly as on the wire,
including Daraja's `RecieverIdentifierType`."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import msgspec
import orjson

from pesabox.api import validation as check
from pesabox.core.initiator import Submission
from pesabox.domain.services import reversal
from pesabox.errors import BadRequest

_MAX_CREDENTIAL_CHARS = 1024
_MAX_OCCASION_CHARS = 100
# An M-Pesa receipt: ten upper-case letters and digits.
_RECEIPT = re.compile(r"[A-Z0-9]{10}")


class ReversalRequest(msgspec.Struct, frozen=True):
    # Typed loosely, as the other requests are: each field is checked in the order Daraja
    # lists them, so the first bad one is named.
    Initiator: Any = None
    SecurityCredential: Any = None
    CommandID: Any = None
    TransactionID: Any = None
    Amount: Any = None
    ReceiverParty: Any = None
    # Daraja's spelling; the correct one is refused as a missing field, as Daraja does.
    RecieverIdentifierType: Any = None
    ResultURL: Any = None
    QueueTimeOutURL: Any = None
    Remarks: Any = None
    Occasion: Any = None

    def to_submission(self, *, https_only: bool) -> tuple[Submission, str]:
        """The checked request, and the SecurityCredential (checked later, never stored)."""
        initiator = check.text(self.Initiator, "Initiator")
        credential = check.text(
            self.SecurityCredential, "SecurityCredential", max_length=_MAX_CREDENTIAL_CHARS
        )
        command_id = check.one_of(self.CommandID, "CommandID", (reversal.COMMAND_ID,))
        transaction_id = check.text(self.TransactionID, "TransactionID")
        if not _RECEIPT.fullmatch(transaction_id):
            raise BadRequest("TransactionID")
        amount_cents = check.amount_cents(self.Amount)
        receiver = check.shortcode(self.ReceiverParty, "ReceiverParty")
        identifier_type = check.text(self.RecieverIdentifierType, "RecieverIdentifierType")
        if identifier_type not in reversal.RECEIVER_IDENTIFIER_TYPES:
            raise BadRequest("RecieverIdentifierType")
        result_url = check.callback_url(self.ResultURL, "ResultURL", https_only=https_only)
        queue_url = check.callback_url(
            self.QueueTimeOutURL, "QueueTimeOutURL", https_only=https_only
        )
        remarks = check.text(self.Remarks, "Remarks", max_length=reversal.REMARKS_MAX)
        if len(remarks) < reversal.REMARKS_MIN:
            raise BadRequest("Remarks")
        occasion = check.text(
            self.Occasion, "Occasion", required=False, max_length=_MAX_OCCASION_CHARS
        )
        details = {"TransactionID": transaction_id, "RecieverIdentifierType": identifier_type}
        fields = {
            "api": "reversal", "initiator": initiator, "command": command_id,
            "amount": amount_cents, "party_a": receiver, "details": details,
            "queue_url": queue_url, "result_url": result_url, "remarks": remarks,
            "occasion": occasion,
        }  # fmt: skip
        submission = Submission(
            api="reversal",
            # Reversal takes no OriginatorConversationID: each request gets a fresh one.
            originator_conversation_id=None,
            command_id=command_id,
            initiator=initiator,
            party_a=receiver,
            party_b=None,
            amount_cents=amount_cents,
            remarks=remarks,
            occasion=occasion,
            result_url=result_url,
            queue_timeout_url=queue_url,
            details=orjson.dumps(details).decode(),
            # The credential is left out, as for B2C: its encryption is randomised.
            request_digest=hashlib.sha256(
                orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
            ).hexdigest(),
        )
        return submission, credential
