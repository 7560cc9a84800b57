"""B2C and B2Pochi wire shapes (daraja-api.md §6), PascalCase exactly as on the wire."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
import orjson

from pesabox.api import validation as check
from pesabox.core.initiator import Submission
from pesabox.domain import b2c
from pesabox.errors import BadRequest

_MAX_CREDENTIAL_CHARS = 1024
_MAX_ORIGINATOR_CHARS = 100


class B2cRequest(msgspec.Struct, frozen=True):
    # Typed loosely on purpose, as the other requests are: each field is checked in the
    # order Daraja lists them, so the first bad one is named.
    OriginatorConversationID: Any = None
    InitiatorName: Any = None
    SecurityCredential: Any = None
    CommandID: Any = None
    Amount: Any = None
    PartyA: Any = None
    PartyB: Any = None
    Remarks: Any = None
    QueueTimeOutURL: Any = None
    ResultURL: Any = None
    # Daraja's spelling, and the one many SDKs send instead.
    Occassion: Any = None
    Occasion: Any = None

    def to_submission(self, *, api: str, version: str, https_only: bool) -> tuple[Submission, str]:
        """The checked request, and the SecurityCredential (checked later, never stored)."""
        originator = (
            check.text(
                self.OriginatorConversationID,
                "OriginatorConversationID",
                max_length=_MAX_ORIGINATOR_CHARS,
            )
            if version == "v3"
            else None
        )
        initiator = check.text(self.InitiatorName, "InitiatorName")
        credential = check.text(
            self.SecurityCredential, "SecurityCredential", max_length=_MAX_CREDENTIAL_CHARS
        )
        commands = b2c.POCHI_COMMANDS if api == "b2pochi" else b2c.B2C_COMMANDS
        command_id = check.one_of(self.CommandID, "CommandID", commands)
        amount_cents = check.amount_cents(self.Amount)
        party_a = check.shortcode(self.PartyA, "PartyA")
        party_b = check.msisdn(self.PartyB, "PartyB")
        remarks = check.text(self.Remarks, "Remarks", max_length=b2c.REMARKS_MAX)
        if len(remarks) < b2c.REMARKS_MIN:
            raise BadRequest("Remarks")
        queue_url = check.callback_url(
            self.QueueTimeOutURL, "QueueTimeOutURL", https_only=https_only
        )
        result_url = check.callback_url(self.ResultURL, "ResultURL", https_only=https_only)
        occasion = check.text(
            self.Occassion if self.Occassion is not None else self.Occasion,
            "Occassion",
            required=False,
            max_length=100,
        )
        fields = {
            "api": api, "originator": originator, "initiator": initiator, "command": command_id,
            "amount": amount_cents, "party_a": party_a, "party_b": party_b, "remarks": remarks,
            "queue_url": queue_url, "result_url": result_url, "occasion": occasion,
        }  # fmt: skip
        submission = Submission(
            api=api,
            originator_conversation_id=originator,
            command_id=command_id,
            initiator=initiator,
            party_a=party_a,
            party_b=party_b,
            amount_cents=amount_cents,
            remarks=remarks,
            occasion=occasion,
            result_url=result_url,
            queue_timeout_url=queue_url,
            details="{}",
            # The credential is left out: RSA PKCS#1 v1.5 encryption is randomised, so a
            # client that encrypts again for its retry sends other bytes for the same request.
            request_digest=hashlib.sha256(
                orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
            ).hexdigest(),
        )
        return submission, credential


class InitiatorAck(msgspec.Struct, frozen=True):
    ConversationID: str
    OriginatorConversationID: str
    ResponseCode: str
    ResponseDescription: str
