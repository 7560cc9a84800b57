"""The server's side of a SecurityCredential: decrypt it with the environment's private key
and say which passwords it could carry (daraja-api.md §3, mpesa-domain-and-g2.md §2.11).

Only the key is used, never the certificate, so a credential made with an expired
certificate that wraps the environment's key is as good as any (the integration FAQ: expiry
is not checked). A credential made with the other environment's certificate does not yield
the password, which is how the sandbox certificate fails in production.

Two decisions the caller relies on:

- **No padding oracle.** OpenSSL 3.2 and later use implicit rejection: a ciphertext with bad
  PKCS#1 v1.5 padding decrypts to deterministic pseudo-random bytes instead of failing, and
  older builds raise `ValueError`, which is caught. Either way the answer is "no candidates",
  and the bytes are told apart from a password only by their content (printable ASCII, the
  charset Daraja lets initiator passwords use). About 0.2% of wrong-key ciphertexts still
  come out as a short printable string; that string is random, so it never matches a
  password, and the caller's check fails as it should. The caller must spend the same
  password-hash work when there are no candidates, or the time it answers in becomes the
  oracle that implicit rejection removed.
- **The timestamp suffix.** mpesakit appends `%Y%m%d%H%M%S` to the password before
  encrypting. A password may itself end in 14 digits, so the text cannot be split with
  certainty: `candidates` returns the text as decrypted first and, when it ends in a valid
  14-digit date and time, the text without it second. The caller tries them in that order.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Mapping
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import padding, rsa

from pesabox.security.certificates import CREDENTIAL_LENGTH, KEY_SIZE_BITS, load_private_key

__all__ = [
    "DEFAULT_CACHE_MAX",
    "TIMESTAMP_SUFFIX_LENGTH",
    "CredentialDecryptor",
    "looks_well_formed",
]

TIMESTAMP_SUFFIX_LENGTH = 14
_TIMESTAMP_FORMAT = "%Y%m%d%H%M%S"
_CIPHERTEXT_BYTES = KEY_SIZE_BITS // 8
# One entry per distinct credential in use: clients encrypt once and resend the same
# credential with every call, so a few thousand covers every initiator of a busy platform.
DEFAULT_CACHE_MAX = 4096


def looks_well_formed(credential: str) -> bool:
    """344 characters of standard base64 that decode to 256 bytes: the shape of any
    credential made with a 2048-bit certificate, whoever's it was."""
    return _ciphertext(credential) is not None


class CredentialDecryptor:
    """Decrypts credentials with each environment's private key, remembering the answers.

    An RSA-2048 decryption costs about half a millisecond of CPU (with blinding and implicit
    rejection) and a cache hit about 2.5 µs, most of it the shape check; clients resend the
    same credential on every call. For a given key the credential -> plaintext mapping is
    deterministic (implicit rejection included), so a bounded LRU keyed by (environment,
    credential) is always right; only the private-key work is skipped.
    """

    def __init__(
        self, private_keys_pem: Mapping[str, str], *, cache_max: int = DEFAULT_CACHE_MAX
    ) -> None:
        assert cache_max > 0
        keys = {environment: load_private_key(pem) for environment, pem in private_keys_pem.items()}
        self.environments = frozenset(keys)
        self.cache_max = cache_max

        def candidates(environment: str, credential: str) -> tuple[str, ...]:
            return _candidates(_decrypt(keys[environment], credential))

        # functools' LRU is thread-safe, and verifications run on worker threads. It holds
        # the finished candidates, so a repeat skips the suffix parsing too.
        self._candidates = functools.lru_cache(maxsize=cache_max)(candidates)

    @property
    def cache_size(self) -> int:
        return self._candidates.cache_info().currsize

    def password_from(self, environment: str, credential: str) -> str | None:
        """The text the credential carries under `environment`'s key, or None when it is not
        a well-formed credential or does not decrypt to a password under that key."""
        found = self.candidates(environment, credential)
        return found[0] if found else None

    def candidates(self, environment: str, credential: str) -> tuple[str, ...]:
        """The passwords to try, in order: the decrypted text, then the text without a
        trailing 14-digit timestamp when it has one. Empty when nothing decrypts."""
        if environment not in self.environments or not looks_well_formed(credential):
            # Checked before the cache, so garbage never pushes real credentials out of it.
            return ()
        return self._candidates(environment, credential)


def _ciphertext(credential: str) -> bytes | None:
    if len(credential) != CREDENTIAL_LENGTH:
        return None
    try:
        ciphertext = base64.b64decode(credential, validate=True)
    except (binascii.Error, ValueError):
        # ValueError: characters outside ASCII, which b64decode refuses before decoding.
        return None
    return ciphertext if len(ciphertext) == _CIPHERTEXT_BYTES else None


def _decrypt(key: rsa.RSAPrivateKey, credential: str) -> str | None:
    ciphertext = _ciphertext(credential)
    assert ciphertext is not None  # password_from checked the shape
    try:
        plaintext = key.decrypt(ciphertext, padding.PKCS1v15())
    except ValueError:
        # Older OpenSSL (or a ciphertext not below the modulus): the same answer as any
        # other wrong credential, with nothing about why.
        return None
    return _as_password(plaintext)


def _as_password(plaintext: bytes) -> str | None:
    # Implicit rejection hands back random bytes for a wrong key; a password is printable
    # ASCII, which random bytes of any length rarely are.
    if not plaintext or not plaintext.isascii():
        return None
    text = plaintext.decode("ascii")
    return text if text.isprintable() else None


def _candidates(text: str | None) -> tuple[str, ...]:
    if text is None:
        return ()
    stripped = _without_timestamp(text)
    return (text,) if stripped is None else (text, stripped)


def _without_timestamp(text: str) -> str | None:
    password, suffix = text[:-TIMESTAMP_SUFFIX_LENGTH], text[-TIMESTAMP_SUFFIX_LENGTH:]
    if not password or not (suffix.isascii() and suffix.isdigit()):
        return None
    try:
        # Only whether the digits are a real date and time matters, not which.
        datetime.strptime(suffix, _TIMESTAMP_FORMAT)
    except ValueError:
        return None
    return password
