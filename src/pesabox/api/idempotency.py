"""The optional `Idempotency-Key` header of pesabox's payment entry points (Daraja has none).

A key is scoped to its caller (an app, or a handset) so two callers' keys never meet, and is
stored as a digest: the column has a fixed width whatever the caller sends.
"""

from __future__ import annotations

import hashlib

from pesabox.errors import C2bBadRequest

# Room for a UUID or an order number with a prefix.
MAX_KEY_CHARS = 64
HEADER = "Idempotency-Key"


def scoped_key(header_value: str | None, *, scope: str) -> str | None:
    """The stored form of the caller's key, or None without one; a bad key is refused."""
    if header_value is None:
        return None
    key = header_value.strip()
    if not key or len(key) > MAX_KEY_CHARS or not key.isprintable():
        raise C2bBadRequest(HEADER)
    return hashlib.sha256(f"{scope}\n{key}".encode()).hexdigest()
