"""Signing up and signing in to onboarding: developers (by e-mail) and platform operators
(by username), with server-side sessions for both, and developers' sandbox apps.

Passwords are stretched (PBKDF2, as operators' are) on a worker thread before any write,
so the key stretching never holds the group commit. An unknown e-mail or username costs the
same stretching as a wrong password, and every refusal reads the same, so sign-in does not
tell whether an account exists. Five failures in a row lock the account: a developer's for
15 minutes of wall time (or until `pesabox admin unlock-developer`), a platform operator's
until `pesabox admin unlock-operator` or a new password lifts it.
Sessions: a 32-byte random token for the cookie, its SHA-256 in the database, expiry on wall
time (moving the sandbox clock must not sign anybody out).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

from pesabox.clock import Clock, SystemClock
from pesabox.domain.onboarding.errors import (
    NotSignedIn,
    OnboardingConflict,
    OnboardingError,
    OnboardingNotFound,
    existing_id,
)
from pesabox.domain.onboarding.identity import (
    DEVELOPER_LOCK_S,
    LOCKOUT_THRESHOLD,
    check_new_password,
    check_operator_username,
    check_person_name,
    check_sign_up,
    email_key,
)
from pesabox.domain.products import Product, parse_products
from pesabox.security.credentials import (
    new_consumer_credentials,
    pin_digest,
    pin_matches,
    secret_digest,
)
from pesabox.storage import apps_store, onboarding_store
from pesabox.storage.db import read_transaction
from pesabox.storage.onboarding_store import (
    AccountKind,
    DeveloperApp,
    DeveloperRecord,
    PlatformOperatorRecord,
)
from pesabox.storage.types import Connection, Engine
from pesabox.storage.writer import LedgerWriter

T = TypeVar("T")
Account = TypeVar("Account", DeveloperRecord, PlatformOperatorRecord)
SESSION_LIFETIME_S_DEFAULT = 8 * 3600.0
_TOKEN_BYTES = 32
_TOKEN_LENGTH_MAX = 64
APP_NAME_LENGTH_MAX = 100
NOT_SIGNED_IN = (
    "The e-mail (or username) or password is wrong, or the account is locked after too many "
    "failed sign-ins."
)


@lru_cache(maxsize=1)
def _dummy_digest() -> str:
    return pin_digest("pesabox-unknown-account")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class NewApp:
    """A sandbox app just made: its consumer secret is here once and never again."""

    app: DeveloperApp
    consumer_secret: str


def check_app_name(name: str) -> str:
    clean = " ".join(name.split())
    if not clean or len(clean) > APP_NAME_LENGTH_MAX or not clean.isprintable():
        raise OnboardingError(f"an app's name must be 1 to {APP_NAME_LENGTH_MAX} characters")
    return clean


def check_products(products: str | Sequence[object]) -> frozenset[Product]:
    # A form may send anything under `products`, a file part among them: names only.
    if not isinstance(products, str) and not all(isinstance(p, str) for p in products):
        raise OnboardingError("products must be product names, not files")
    names = products if isinstance(products, str) else ",".join(str(p) for p in products)
    try:
        chosen = parse_products(names)
    except ValueError as error:
        raise OnboardingError(str(error)) from None
    if not chosen:
        raise OnboardingError("choose at least one product for the app")
    return chosen


class OnboardingAccounts:
    def __init__(
        self,
        *,
        engine: Engine,
        writer: LedgerWriter,
        clock: Clock,
        wall_clock: Clock | None = None,
        session_lifetime_s: float = SESSION_LIFETIME_S_DEFAULT,
        lockout_threshold: int = LOCKOUT_THRESHOLD,
    ) -> None:
        self._engine = engine
        self._writer = writer
        self._clock = clock
        self._wall_clock = wall_clock or SystemClock()
        self._session_lifetime_s = session_lifetime_s
        self._lockout_threshold = lockout_threshold

    async def _read(self, query: Callable[[Connection], T]) -> T:
        def run() -> T:
            with read_transaction(self._engine) as conn:
                return query(conn)

        return await asyncio.to_thread(run)

    # --- developers ------------------------------------------------------------------------

    async def sign_up(self, *, email: str, name: str, phone: str, password: str) -> DeveloperRecord:
        form = check_sign_up(email=email, name=name, phone=phone, password=password)
        digest = await asyncio.to_thread(pin_digest, form.password)
        now = self._clock.now()

        def job(conn: Connection) -> DeveloperRecord | None:
            return onboarding_store.add_developer(
                conn,
                email=form.email,
                email_key=email_key(form.email),
                name=form.name,
                phone=form.phone,
                password_digest=digest,
                now=now,
            )

        created = await self._unique_write(job)
        if created is None:
            raise OnboardingConflict(f"a developer with e-mail {form.email!r} exists")
        return created

    async def authenticate_developer(self, *, email: str, password: str) -> DeveloperRecord:
        """The developer these credentials name, or NotSignedIn (wrong, unknown, locked)."""
        key = email_key(email)
        found: DeveloperRecord | None = None
        if key and len(key) <= 254 and "\x00" not in key:
            found = await self._read(lambda conn: onboarding_store.find_developer(conn, key))
        return await self._verified(AccountKind.DEVELOPER, found, password)

    async def sign_in_developer(self, *, email: str, password: str) -> str:
        developer = await self.authenticate_developer(email=email, password=password)
        return await self._new_session(AccountKind.DEVELOPER, developer.id)

    async def developer_session(self, token: str | None) -> DeveloperRecord | None:
        subject = await self._session_subject(token, AccountKind.DEVELOPER)
        if subject is None:
            return None
        found = await self._read(lambda conn: onboarding_store.get_developer(conn, subject))
        return found if found is not None and not found.locked else None

    # --- platform operators ----------------------------------------------------------------

    async def create_platform_operator(
        self, *, username: str, name: str, password: str
    ) -> PlatformOperatorRecord:
        clean = check_operator_username(username)
        full_name = check_person_name(name)
        check_new_password(password, identity=clean)
        digest = await asyncio.to_thread(pin_digest, password)
        now = self._clock.now()
        created = await self._unique_write(
            lambda conn: onboarding_store.add_platform_operator(
                conn, username=clean, name=full_name, password_digest=digest, now=now
            )
        )
        if created is None:
            raise OnboardingConflict(f"a platform operator named {clean!r} exists")
        return created

    async def sign_in_operator(self, *, username: str, password: str) -> str:
        name = username.strip()
        found: PlatformOperatorRecord | None = None
        if 0 < len(name) <= 64 and "\x00" not in name:
            found = await self._read(
                lambda conn: onboarding_store.find_platform_operator(conn, name)
            )
        operator = await self._verified(AccountKind.PLATFORM_OPERATOR, found, password)
        return await self._new_session(AccountKind.PLATFORM_OPERATOR, operator.id)

    async def operator_session(self, token: str | None) -> PlatformOperatorRecord | None:
        subject = await self._session_subject(token, AccountKind.PLATFORM_OPERATOR)
        if subject is None:
            return None
        found = await self._read(lambda conn: onboarding_store.get_platform_operator(conn, subject))
        return found if found is not None and not found.locked else None

    # --- shared ----------------------------------------------------------------------------

    async def _unique_write(self, job: Callable[[Connection], T | None]) -> T | None:
        """The job's result, or None when a unique index refused it: each job checks for the
        clash first, so the index only fires when another process won the same race."""
        try:
            return await self._writer.submit(job)
        except IntegrityError:
            return None

    async def _verified(self, kind: AccountKind, record: Account | None, password: str) -> Account:
        """`record`, if `password` is its password and it is not locked; else NotSignedIn."""
        digest = record.password_digest if record is not None else _dummy_digest()
        matches = bool(password) and len(password) <= 256
        matches = matches and await asyncio.to_thread(pin_matches, password, digest)
        if record is None or (record.locked and not await self._lock_expired(kind, record)):
            raise NotSignedIn(NOT_SIGNED_IN)
        # Locks are timed on wall time: moving the sandbox clock neither lifts nor extends one.
        now = self._wall_clock.now()
        subject_id = record.id
        if not matches:
            await self._writer.submit(
                lambda conn: onboarding_store.record_failure(
                    conn, kind, subject_id, threshold=self._lockout_threshold, now=now
                )
            )
            raise NotSignedIn(NOT_SIGNED_IN)
        await self._writer.submit(
            lambda conn: onboarding_store.record_success(conn, kind, subject_id)
        )
        return record

    async def _lock_expired(self, kind: AccountKind, record: Account) -> bool:
        """Lift a developer's lock once DEVELOPER_LOCK_S have passed; True when lifted."""
        if kind is not AccountKind.DEVELOPER:
            return False
        locked_before = self._wall_clock.now() - DEVELOPER_LOCK_S
        subject_id = record.id
        return bool(
            await self._writer.submit(
                lambda conn: onboarding_store.lift_expired_lock(
                    conn, kind, subject_id, locked_before=locked_before
                )
            )
        )

    async def _new_session(self, kind: AccountKind, subject_id: int) -> str:
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        digest = token_digest(token)
        now = self._wall_clock.now()
        await self._writer.submit(
            lambda conn: onboarding_store.create_session(
                conn,
                token_digest=digest,
                kind=kind,
                subject_id=subject_id,
                now=now,
                expires_at=now + self._session_lifetime_s,
            )
        )
        return token

    async def _session_subject(self, token: str | None, kind: AccountKind) -> int | None:
        if not token or len(token) > _TOKEN_LENGTH_MAX:
            return None
        digest = token_digest(token)
        row = await self._read(lambda conn: onboarding_store.get_session(conn, digest))
        if row is None or row.kind is not kind:
            return None
        if row.expires_at <= self._wall_clock.now():
            return None
        return row.subject_id

    async def sign_out(self, token: str | None) -> None:
        if not token or len(token) > _TOKEN_LENGTH_MAX:
            return
        digest = token_digest(token)
        await self._writer.submit(lambda conn: onboarding_store.delete_session(conn, digest))

    # --- sandbox apps ----------------------------------------------------------------------

    async def create_app(
        self, developer: DeveloperRecord, *, name: str, products: str | Sequence[object]
    ) -> NewApp:
        clean = check_app_name(name)
        chosen = check_products(products)
        key, secret = new_consumer_credentials()
        now = self._clock.now()

        def job(conn: Connection) -> DeveloperApp | None:
            if onboarding_store.developer_app_named(conn, developer.id, clean):
                return None
            app_id = apps_store.insert_app(
                conn, name=clean, consumer_key=key, secret_digest=secret_digest(secret),
                products=chosen, now=now,
            )  # fmt: skip
            onboarding_store.link_app(
                conn, app_id=app_id, developer_id=developer.id, name=clean, now=now
            )
            return DeveloperApp(app_id, clean, key, chosen, now)

        made = await self._unique_write(job)
        if made is None:
            raise OnboardingConflict(f"you already have an app named {clean!r}")
        return NewApp(made, secret)

    async def list_apps(self, developer: DeveloperRecord) -> list[DeveloperApp]:
        found = await self._read(
            lambda conn: onboarding_store.list_developer_apps(conn, developer.id)
        )
        return found

    async def delete_app(self, developer: DeveloperRecord, app_id: int) -> None:
        existing_id(app_id, "app")
        deleted = await self._writer.submit(
            lambda conn: onboarding_store.revoke_developer_app(
                conn, developer_id=developer.id, app_id=app_id
            )
        )
        if not deleted:
            raise OnboardingNotFound(f"you have no app {app_id}")
