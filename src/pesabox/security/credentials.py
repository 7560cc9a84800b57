"""Consumer keys and secrets, and PIN digests. Only digests are stored; checks run in
constant time and cost the same whether or not the identity exists."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from pesabox.ids import random_token

CONSUMER_KEY_LENGTH = 48
CONSUMER_SECRET_LENGTH = 64
_PIN_ITERATIONS = 60_000
# Compared against when a key is unknown, so a miss takes as long as a wrong secret.
_DUMMY_DIGEST = hashlib.sha256(b"pesabox-unknown-consumer").hexdigest()


def new_consumer_credentials() -> tuple[str, str]:
    return random_token(CONSUMER_KEY_LENGTH), random_token(CONSUMER_SECRET_LENGTH)


def secret_digest(secret: str) -> str:
    # Secrets are 64 random characters (about 380 bits), so a fast digest is enough;
    # slow key stretching is for low-entropy secrets such as PINs.
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_digest: str | None) -> bool:
    expected = stored_digest if stored_digest is not None else _DUMMY_DIGEST
    matches = hmac.compare_digest(secret_digest(secret), expected)
    return matches and stored_digest is not None


def pin_digest(pin: str, *, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(8)
    derived = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt.encode(), _PIN_ITERATIONS)
    return f"pbkdf2_sha256${_PIN_ITERATIONS}${salt}${derived.hex()}"


def pin_matches(pin: str, stored: str) -> bool:
    try:
        _, iterations, salt, expected = stored.split("$")
    except ValueError:
        return False
    derived = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt.encode(), int(iterations))
    return hmac.compare_digest(derived.hex(), expected)
