"""Request bodies are decoded here, once, with msgspec."""

from __future__ import annotations

from typing import TypeVar

import msgspec

from pesabox.api.routes.common import AnyRequest
from pesabox.errors import InvalidPayload

T = TypeVar("T", bound=msgspec.Struct)
_decoders: dict[type[msgspec.Struct], msgspec.json.Decoder[msgspec.Struct]] = {}


def decode_bytes(content_type: str, body: bytes, struct_type: type[T]) -> T:
    """Decode a JSON object body into `struct_type`.

    A body sent without a JSON content type is read as an empty object, so the first
    required field is reported invalid: the misleading error real Daraja gives.
    """
    if "json" not in content_type.lower():
        try:
            return struct_type()
        except TypeError:
            # A struct with required fields (the sandbox's own bodies) cannot be empty.
            raise InvalidPayload() from None
    decoder = _decoders.get(struct_type)
    if decoder is None:
        decoder = _decoders[struct_type] = msgspec.json.Decoder(struct_type)
    try:
        return decoder.decode(body)  # type: ignore[return-value]
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
        # ValueError: bytes that are not UTF-8 inside a JSON string.
        raise InvalidPayload() from None


async def decode(request: AnyRequest, struct_type: type[T]) -> T:
    content_type = request.headers.get("content-type", "")
    body = await request.body() if "json" in content_type.lower() else b""
    return decode_bytes(content_type, body, struct_type)
