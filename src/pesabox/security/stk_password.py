"""The Lipa Na M-Pesa Online password: base64(BusinessShortCode + Passkey + Timestamp)."""

from __future__ import annotations

import base64
import hmac


def stk_password(shortcode: str, passkey: str, timestamp: str) -> str:
    return base64.b64encode(f"{shortcode}{passkey}{timestamp}".encode()).decode()


def stk_password_matches(*, password: str, shortcode: str, passkey: str, timestamp: str) -> bool:
    return hmac.compare_digest(
        password.encode(), stk_password(shortcode, passkey, timestamp).encode()
    )
