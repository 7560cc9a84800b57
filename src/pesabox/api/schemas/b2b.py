"""B2B family and Tax Remittance wire shapes (daraja-api.md §7, §13), PascalCase exactly as on
the wire, `RecieverIdentifierType` and `Occassion` spelt as Daraja spells them."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
import orjson

from pesabox.api import validation as check
from pesabox.core.initiator import Submission
from pesabox.domain import b2b
from pesabox.errors import BadRequest

_MAX_CREDENTIAL_CHARS = 1024


def _identifier_type(value: Any, field: str) -> str:
    """Only `4` (organisation shortcode), as a string or a JSON number (§7.1, §7.3)."""
    if isinstance(value, bool) or str(value).strip() != b2b.SHORTCODE_IDENTIFIER:
        raise BadRequest(field)
    return b2b.SHORTCODE_IDENTIFIER


class B2bRequest(msgspec.Struct, frozen=True):
    # Typed loosely on purpose, as the other requests are: each field is checked in the
    # order Daraja lists them, so the first bad one is named.
    Initiator: Any = None
    SecurityCredential: Any = None
    CommandID: Any = None
    SenderIdentifierType: Any = None
    RecieverIdentifierType: Any = None
    Amount: Any = None
    PartyA: Any = None
    PartyB: Any = None
    AccountReference: Any = None
    Requester: Any = None
    Remarks: Any = None
    QueueTimeOutURL: Any = None
    ResultURL: Any = None
    Occassion: Any = None
    Occasion: Any = None

    def to_submission(self, *, api: str, https_only: bool) -> tuple[Submission, str]:
        """The checked request (`api` is `b2b` or `tax`), and the SecurityCredential
        (checked later, never stored)."""
        initiator = check.text(self.Initiator, "Initiator")
        credential = check.text(
            self.SecurityCredential, "SecurityCredential", max_length=_MAX_CREDENTIAL_CHARS
        )
        commands = (b2b.TAX_COMMAND,) if api == "tax" else b2b.B2B_COMMANDS
        command_id = check.one_of(self.CommandID, "CommandID", commands)
        command = b2b.TAX if api == "tax" else b2b.COMMANDS[command_id]
        _identifier_type(self.SenderIdentifierType, "SenderIdentifierType")
        _identifier_type(self.RecieverIdentifierType, "RecieverIdentifierType")
        amount_cents = check.amount_cents(self.Amount)
        party_a = check.shortcode(self.PartyA, "PartyA")
        party_b = check.shortcode(self.PartyB, "PartyB")
        if api == "tax" and party_b != b2b.KRA_SHORTCODE:
            raise BadRequest("PartyB")
        account_reference = check.text(
            self.AccountReference,
            "AccountReference",
            required=command.needs_reference,
            max_length=b2b.ACCOUNT_REFERENCE_MAX,
        )
        requester = (
            check.msisdn(self.Requester, "Requester") if self.Requester not in (None, "") else ""
        )
        remarks = check.text(self.Remarks, "Remarks", max_length=b2b.REMARKS_MAX)
        queue_url = check.callback_url(
            self.QueueTimeOutURL, "QueueTimeOutURL", https_only=https_only
        )
        result_url = check.callback_url(self.ResultURL, "ResultURL", https_only=https_only)
        occasion = check.text(
            self.Occassion if self.Occassion is not None else self.Occasion,
            "Occassion",
            required=False,
            max_length=b2b.OCCASION_MAX,
        )
        details = {"account_reference": account_reference, "requester": requester}
        fields = {
            "api": api, "initiator": initiator, "command": command_id, "amount": amount_cents,
            "party_a": party_a, "party_b": party_b, "remarks": remarks, "queue_url": queue_url,
            "result_url": result_url, "occasion": occasion, **details,
        }  # fmt: skip
        submission = Submission(
            api=api,
            # B2B takes no OriginatorConversationID from the caller: Daraja makes one.
            originator_conversation_id=None,
            command_id=command_id,
            initiator=initiator,
            party_a=party_a,
            party_b=party_b,
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
