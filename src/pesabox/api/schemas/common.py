"""The gateway error envelope: camelCase, unlike every other Daraja body."""

from __future__ import annotations

import msgspec


class ErrorEnvelope(msgspec.Struct, frozen=True):
    requestId: str  # noqa: N815 - Daraja's own spelling
    errorCode: str  # noqa: N815
    errorMessage: str  # noqa: N815


class OAuthResponse(msgspec.Struct, frozen=True):
    access_token: str
    # A string ("3599"), as Daraja sends it and clients parse it.
    expires_in: str
