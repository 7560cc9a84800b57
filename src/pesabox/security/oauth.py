"""OAuth client credentials: consumer key/secret -> opaque bearer token (Daraja §2).

Tokens are checked against an in-process cache before the database, because the token check
sits on the path of every payment and a database read there would cost more than the rest
of the validation.
"""

from __future__ import annotations

import asyncio
import base64
import binascii

from pesabox.clock import Clock
from pesabox.domain.products import Product
from pesabox.errors import (
    InvalidAccessToken,
    InvalidAuthentication,
    InvalidAuthenticationHeader,
    InvalidGrantType,
    NoProductMatch,
    PesaError,
)
from pesabox.ids import random_token
from pesabox.security.credentials import secret_matches
from pesabox.storage import apps_store
from pesabox.storage.db import read_transaction
from pesabox.storage.types import Connection, Engine
from pesabox.storage.writer import LedgerWriter

TOKEN_LENGTH = 28
_CACHE_MAX = 100_000


class AccessTokens:
    def __init__(
        self, *, engine: Engine, writer: LedgerWriter, clock: Clock, lifetime_s: int
    ) -> None:
        self._engine = engine
        self._writer = writer
        self._clock = clock
        self._lifetime_s = lifetime_s
        self._cache: dict[str, apps_store.TokenGrant] = {}

    async def issue(self, *, authorization: str | None, grant_type: str | None) -> tuple[str, str]:
        """Returns the token and `expires_in` as Daraja writes it: a string of seconds."""
        if grant_type != "client_credentials":
            raise InvalidGrantType()
        consumer_key, consumer_secret = _parse_basic(authorization)
        app = await asyncio.to_thread(self._find_app, consumer_key)
        if not secret_matches(consumer_secret, app.secret_digest if app else None) or app is None:
            raise InvalidAuthentication()
        token = random_token(TOKEN_LENGTH)
        now = self._clock.now()
        expires_at = now + self._lifetime_s

        def save(conn: Connection) -> None:
            apps_store.insert_token(
                conn, token=token, app_id=app.id, expires_at=expires_at, now=now
            )

        await self._writer.submit(save)
        self._remember(
            apps_store.TokenGrant(token, app.id, app.products, expires_at, app.organisation_id)
        )
        # Daraja answers one second short of the lifetime ("3599" for an hour).
        return token, str(self._lifetime_s - 1)

    async def authorize(
        self,
        authorization: str | None,
        *,
        product: Product,
        invalid_token: type[PesaError] = InvalidAccessToken,
    ) -> apps_store.TokenGrant:
        grant = await self._live_grant(_parse_bearer(authorization))
        if grant is None:
            raise invalid_token()
        if product not in grant.products:
            raise NoProductMatch()
        return grant

    async def grant_of(self, authorization: str | None) -> apps_store.TokenGrant | None:
        """The unexpired grant behind an Authorization header, or None; never raises, so each
        API still answers a missing or bad token with its own error."""
        try:
            token = _parse_bearer(authorization)
        except PesaError:
            return None
        return await self._live_grant(token)

    async def _live_grant(self, token: str) -> apps_store.TokenGrant | None:
        grant = self._cache.get(token)
        if grant is None and not _looks_like_token(token):
            # Not one we could have issued: refused without a database read.
            return None
        if grant is None:
            grant = await asyncio.to_thread(self._find_token, token)
            if grant is not None:
                self._remember(grant)
        if grant is None or grant.expires_at <= self._clock.now():
            return None
        return grant

    def _find_app(self, consumer_key: str) -> apps_store.AppRecord | None:
        with read_transaction(self._engine) as conn:
            return apps_store.find_app_by_key(conn, consumer_key)

    def _find_token(self, token: str) -> apps_store.TokenGrant | None:
        with read_transaction(self._engine) as conn:
            return apps_store.find_token(conn, token)

    def _remember(self, grant: apps_store.TokenGrant) -> None:
        if len(self._cache) >= _CACHE_MAX:
            now = self._clock.now()
            self._cache = {k: g for k, g in self._cache.items() if g.expires_at > now}
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
        self._cache[grant.token] = grant


def _parse_basic(authorization: str | None) -> tuple[str, str]:
    if not authorization:
        raise InvalidAuthentication()
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise InvalidAuthentication()
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, ValueError):  # ValueError: non-ASCII in the header
        raise InvalidAuthentication() from None
    key, separator, secret = decoded.partition(":")
    if not separator or not key or not secret:
        raise InvalidAuthentication()
    return key, secret


def _looks_like_token(token: str) -> bool:
    return len(token) == TOKEN_LENGTH and token.isascii() and token.isalnum()


def _parse_bearer(authorization: str | None) -> str:
    if not authorization:
        raise InvalidAuthenticationHeader()
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise InvalidAuthenticationHeader()
    return token
