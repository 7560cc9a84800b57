"""Signing in to the org portal: the operator check, and server-side sessions.

A web operator signs in with its shortcode, username and password, checked by the same code
as an initiator's credential (`initiator_auth.check_initiator` with kind web), so the two
share the lockout after repeated failures and the password's age.

The session's token is 32 random bytes, sent only in an HttpOnly cookie; the database keeps
its SHA-256, so a copy of the table signs nobody in. A session ends at its expiry, at sign
out, when its operator is locked (deleted in the locking write, so an unlock does not revive
it), or when an administrator sets its operator a new password or unlocks it
(`operator_admin`, from the portal or the CLI).
Two clocks. A session's expiry runs on wall time: moving the sandbox a day forward to watch
a settlement must not sign the watcher out. The operator check (the password's age, the
lock's date) runs on the platform clock (the sandbox clock), the clock every path that sets
a password stamps `password_changed_at` with (the portal and `pesabox operators`), so
moving the sandbox 90 days ahead expires a password in the portal as it does for an
initiator.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from dataclasses import dataclass

from pesabox.clock import Clock, SystemClock
from pesabox.domain.operators import InitiatorOutcome, OperatorKind, OperatorRole
from pesabox.security.initiator_auth import check_initiator
from pesabox.settings import Settings
from pesabox.storage import web_sessions_store
from pesabox.storage.db import read_transaction
from pesabox.storage.types import Connection, Engine
from pesabox.storage.writer import LedgerWriter

SESSION_COOKIE = "pesabox_org_session"


def session_cookie_name(environment: str) -> str:
    """The org portal's session cookie in `environment`. A browser sends a host's cookies to
    every port, and each environment keeps its sessions in its own database: production's
    cookie has its own name, so signing in on one environment does not sign out the other."""
    return SESSION_COOKIE if environment == "sandbox" else f"{SESSION_COOKIE}_{environment}"


SESSION_LIFETIME_S_DEFAULT = 8 * 3600.0
_TOKEN_BYTES = 32
# A token longer than this was never issued here; it is refused before it is hashed.
_TOKEN_LENGTH_MAX = 64
_SHORTCODE = re.compile(r"[0-9]{5,7}")
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")

# A wrong field and a locked operator get the same words (and cost the same key
# stretching, see initiator_auth), so a refusal does not tell whether a username exists.
_NOT_SIGNED_IN = (
    "The shortcode, username or password is wrong, or the operator is locked after too many "
    "failed sign-ins (your Business Administrator can unlock it)."
)
_REFUSALS = {
    InitiatorOutcome.INVALID: _NOT_SIGNED_IN,
    InitiatorOutcome.LOCKED: _NOT_SIGNED_IN,
    InitiatorOutcome.EXPIRED: "Your password has expired. "
    "Ask your Business Administrator to set a new one.",
}


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class PortalSession:
    """Who is signed in, and the organisation every page of theirs is scoped to."""

    operator_id: int
    username: str
    roles: tuple[OperatorRole, ...]
    # The shortcode the operator signed in with, and all of its organisation's.
    shortcode: str
    shortcodes: tuple[str, ...]
    organisation_id: int
    organisation_name: str
    expires_at: float

    def has_any(self, roles: frozenset[OperatorRole]) -> bool:
        return any(role in roles for role in self.roles)


@dataclass(frozen=True, slots=True)
class SignIn:
    """A new session's token, or the reason there is none."""

    token: str | None
    refusal: str | None = None


class PortalSessions:
    def __init__(
        self,
        *,
        engine: Engine,
        writer: LedgerWriter,
        settings: Settings,
        platform_clock: Clock,
        clock: Clock | None = None,
        lifetime_s: float = SESSION_LIFETIME_S_DEFAULT,
    ) -> None:
        self._engine = engine
        self._writer = writer
        self._settings = settings
        # The sandbox clock, for the password's age and the lock; `clock` (wall time by
        # default) for the session's own expiry (module docstring).
        self._platform_clock = platform_clock
        self._clock = clock or SystemClock()
        self._lifetime_s = lifetime_s

    async def sign_in(self, *, shortcode: str, username: str, password: str) -> SignIn:
        shortcode, username = shortcode.strip(), username.strip()
        # Text that cannot be a shortcode or a username never reaches the database (a NUL,
        # say, which PostgreSQL refuses outright); the refusal reads like any other.
        if not _SHORTCODE.fullmatch(shortcode) or not _USERNAME.fullmatch(username):
            return SignIn(None, _REFUSALS[InitiatorOutcome.INVALID])
        if not password:
            return SignIn(None, _REFUSALS[InitiatorOutcome.INVALID])
        now = self._clock.now()
        platform_now = self._platform_clock.now()

        def check() -> tuple[InitiatorOutcome, int | None]:
            # Outside any db transaction: the key stretching must not hold a write lock.
            with self._engine.connect() as conn:
                verdict = check_initiator(
                    conn,
                    shortcode=shortcode,
                    username=username,
                    password_candidates=(password,),
                    role=None,
                    kind=OperatorKind.WEB,
                    now=platform_now,
                    max_age_days=self._settings.operator_password_max_age_days,
                    lockout_threshold=self._settings.operator_lockout_threshold,
                )
                return verdict.outcome, verdict.operator_id

        outcome, operator_id = await asyncio.to_thread(check)
        if outcome is not InitiatorOutcome.OK or operator_id is None:
            return SignIn(None, _REFUSALS.get(outcome, _REFUSALS[InitiatorOutcome.INVALID]))
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        digest = token_digest(token)

        def job(conn: Connection) -> None:
            web_sessions_store.create(
                conn,
                token_digest=digest,
                operator_id=operator_id,
                now=now,
                expires_at=now + self._lifetime_s,
            )

        await self._writer.submit(job)
        return SignIn(token)

    async def resolve(self, token: str | None) -> PortalSession | None:
        """The live session behind a cookie's token, or None (expired, ended, locked)."""
        if not token or len(token) > _TOKEN_LENGTH_MAX:
            return None
        digest = token_digest(token)
        now = self._clock.now()

        def read() -> PortalSession | None:
            with read_transaction(self._engine) as conn:
                row = web_sessions_store.get(conn, digest)
                if row is None or row.expires_at <= now or row.locked:
                    return None
                if row.kind is not OperatorKind.WEB:
                    return None
                owned = web_sessions_store.organisation_shortcodes(conn, row.organisation_id)
            return PortalSession(
                operator_id=row.operator_id,
                username=row.username,
                roles=row.roles,
                shortcode=row.shortcode,
                shortcodes=owned,
                organisation_id=row.organisation_id,
                organisation_name=row.organisation_name,
                expires_at=row.expires_at,
            )

        return await asyncio.to_thread(read)

    async def sign_out(self, token: str | None) -> None:
        if not token or len(token) > _TOKEN_LENGTH_MAX:
            return
        digest = token_digest(token)
        await self._writer.submit(lambda conn: web_sessions_store.delete_session(conn, digest))
