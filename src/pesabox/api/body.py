"""Request bodies are decoded here, once, with msgspec."""

from __future__ import annotations

from typing import TypeVar

import msgspec

from pesabox.api.routes.common import AnyRequest
from pesabox.errors import InvalidPayload

T = TypeVar("T", bound=msgspec.Struct)
_decoders: dict[type[msgspec.Struct], msgspec.json.Decoder[msgspec.Struct]] = {}


async def decode(request: AnyRequest, struct_type: type[T]) -> T:
    """Decode a JSON object body into `struct_type`.

    A body sent without a JSON content type is read as an empty object, so the first
    required field is reported invalid: the misleading error real Daraja gives.
    """
    content_type = request.headers.get("content-type", "")
    if "json" not in content_type.lower():
        return struct_type()
    body = await request.body()
    decoder = _decoders.get(struct_type)
    if decoder is None:
        decoder = _decoders[struct_type] = msgspec.json.Decoder(struct_type)
    try:
        return decoder.decode(body)  # type: ignore[return-value]
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise InvalidPayload() from None
