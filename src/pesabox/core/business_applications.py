"""Business applications (PayBill or Till): a developer sends one with its documents; a
platform operator reviews it and approves (which sets the business up in production) or
rejects it with a reason. Every step is in the audit trail.

Approval spans two databases, so it is done in three steps, each safe to repeat:
1. platform db: the decision (in_review -> approving, conditional), with the production
   shortcode(s) chosen and the digest of the administrator's one-time password recorded;
2. production db: organisation, shortcodes and accounts, bank details and the Business
   Administrator, in one db transaction, found rather than made twice on a retry
   (`production_setup_store`);
3. platform db: approving -> approved with the production organisation's id, and the SMS
   carrying the one-time password to the administrator's phone.
A crash between the steps leaves the application `approving`: approving it again finishes it
with a fresh one-time password. So that a retry never races a live approval, it may only take
over one started more than APPROVAL_LEASE_S ago (wall time).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypedDict, TypeVar

from sqlalchemy.exc import IntegrityError

from pesabox.clock import Clock, SystemClock
from pesabox.domain.onboarding.applications import (
    SHORTCODE_RANGE,
    ApplicationKind,
    check_application,
    check_reason,
    next_free_shortcodes,
)
from pesabox.domain.onboarding.documents import Upload, check_documents, parse_business_type
from pesabox.domain.onboarding.errors import (
    IllegalTransition,
    OnboardingConflict,
    OnboardingError,
    OnboardingNotFound,
    existing_id,
)
from pesabox.domain.onboarding.identity import new_one_time_password
from pesabox.domain.onboarding.states import ApplicationState, step_application
from pesabox.domain.shortcode_setup import ShortcodeSetupError
from pesabox.security.credentials import pin_digest
from pesabox.storage import applications_store, parties_store, production_setup_store
from pesabox.storage.applications_store import (
    ApplicationRecord,
    AuditEntry,
    Business,
    DocumentInfo,
)
from pesabox.storage.db import read_transaction
from pesabox.storage.onboarding_store import DeveloperRecord, PlatformOperatorRecord
from pesabox.storage.production_setup_store import BusinessSetup
from pesabox.storage.types import Connection, Engine
from pesabox.storage.writer import LedgerWriter

if TYPE_CHECKING:
    from pesabox.core.platform import Platform

T = TypeVar("T")
Viewer = DeveloperRecord | PlatformOperatorRecord
APPROVAL_LEASE_S = 120.0
SMS_SENDER = "Safaricom"
APPLICATION = "application"


class ProductionRefused(OnboardingConflict):
    """Production already has the organisation's name or the shortcode, someone else's."""


class Actor(TypedDict):
    actor_kind: str
    actor_id: int
    actor_name: str


def actor(viewer: Viewer) -> Actor:
    """Who did it, as the audit trail keeps it."""
    if isinstance(viewer, DeveloperRecord):
        return Actor(actor_kind="developer", actor_id=viewer.id, actor_name=viewer.email)
    return Actor(actor_kind="platform_operator", actor_id=viewer.id, actor_name=viewer.username)


def administrator_sms(*, organisation: str, shortcode: str, username: str, password: str) -> str:
    return (
        f"Welcome to M-PESA for business. {organisation} is live on shortcode {shortcode}. "
        f"Sign in to the org portal with shortcode {shortcode}, username {username} and "
        f"one-time password {password}, then set your own password."
    )


def no_simulated_handset(phone: str) -> str:
    # The portal password and go-live codes go by SMS to a simulated handset's inbox; a number
    # with none would leave the administrator locked out of everything after approval.
    return (
        f"the Business Administrator's phone {phone} is no simulated customer, so it could "
        "not receive the portal password or go-live codes by SMS: create the customer first "
        "on /ui/phones (or with POST /sandbox/v1/customers) and use that number"
    )


class BusinessApplications:
    def __init__(
        self,
        *,
        engine: Engine,
        writer: LedgerWriter,
        clock: Clock,
        production: Platform,
        wall_clock: Clock | None = None,
    ) -> None:
        self._engine = engine
        self._writer = writer
        self._clock = clock
        self._wall_clock = wall_clock or SystemClock()
        self._production = production
        # Approvals in this process one at a time: numbers are chosen, then reserved.
        self._approving = asyncio.Lock()

    async def _read(self, query: Callable[[Connection], T]) -> T:
        def run() -> T:
            with read_transaction(self._engine) as conn:
                return query(conn)

        return await asyncio.to_thread(run)

    async def _production_read(self, query: Callable[[Connection], T]) -> T:
        def run() -> T:
            with read_transaction(self._production.engine) as conn:
                return query(conn)

        return await asyncio.to_thread(run)

    # --- the developer's side -------------------------------------------------------------

    async def submit(
        self,
        developer: DeveloperRecord,
        *,
        kind: str,
        business_type: str,
        organisation_name: str,
        trading_name: str,
        kra_pin: str | None,
        bank: dict[str, str],
        administrator: dict[str, str],
        uploads: Sequence[Upload],
    ) -> ApplicationRecord:
        """Check the form and every document, then keep them all in one db transaction; a
        refusal lists every problem and keeps nothing."""
        problems: list[str] = []
        form = documents = None
        try:
            form = check_application(
                kind=kind, business_type=business_type, organisation_name=organisation_name,
                trading_name=trading_name, kra_pin=kra_pin, bank=bank,
                administrator=administrator,
            )  # fmt: skip
        except OnboardingError as error:
            problems.append(str(error))
        # The documents are checked even when the form is wrong, so one answer lists all.
        try:
            chosen_type = parse_business_type(business_type)
        except OnboardingError:
            chosen_type = None  # reported with the form's problems
        if chosen_type is not None:
            try:
                documents = check_documents(chosen_type, uploads)
            except OnboardingError as error:
                problems.append(str(error))
        if form is not None and not await self._is_simulated_phone(form.administrator.phone):
            problems.append(no_simulated_handset(form.administrator.phone))
        if problems or form is None or documents is None:
            raise OnboardingError("; ".join(problems))
        name = form.organisation_name
        if await self._production_read(
            lambda conn: production_setup_store.organisation_named(conn, name)
        ):
            raise OnboardingConflict(f"an organisation named {name!r} exists already")
        now = self._clock.now()

        def job(conn: Connection) -> int | None:
            if applications_store.live_name_taken(conn, name):
                return None
            application_id = applications_store.insert_application(
                conn, developer_id=developer.id, form=form, documents=documents, now=now
            )
            applications_store.audit(
                conn, subject=APPLICATION, subject_id=application_id, action="submitted",
                from_state=None, to_state=ApplicationState.SUBMITTED.value, now=now,
                **actor(developer),
            )  # fmt: skip
            return application_id

        try:
            application_id = await self._writer.submit(job)
        except IntegrityError:
            # The partial unique index: another application took the name at the same time.
            application_id = None
        if application_id is None:
            raise OnboardingConflict(f"an application for {name!r} is already open")
        return await self.get(developer, application_id)

    async def _is_simulated_phone(self, msisdn: str) -> bool:
        found = await self._read(lambda conn: parties_store.get_customer(conn, msisdn))
        return found is not None

    async def of_developer(self, developer: DeveloperRecord) -> list[ApplicationRecord]:
        return await self._read(
            lambda conn: applications_store.list_applications(conn, developer_id=developer.id)
        )

    # --- reading (developer: their own; platform operators: all) ---------------------------

    async def get(self, viewer: Viewer, application_id: int) -> ApplicationRecord:
        existing_id(application_id, "application")
        found = await self._read(
            lambda conn: applications_store.get_application(conn, application_id)
        )
        if found is None or (
            isinstance(viewer, DeveloperRecord) and found.developer_id != viewer.id
        ):
            raise OnboardingNotFound(f"no application {application_id}")
        return found

    async def listed(
        self,
        operator: PlatformOperatorRecord,  # noqa: ARG002 - only operators list them all
        *,
        states: frozenset[ApplicationState] | None = None,
    ) -> list[ApplicationRecord]:
        return await self._read(
            lambda conn: applications_store.list_applications(conn, states=states)
        )

    async def documents(self, viewer: Viewer, application_id: int) -> list[DocumentInfo]:
        await self.get(viewer, application_id)
        return await self._read(
            lambda conn: applications_store.list_documents(conn, application_id)
        )

    async def document(self, viewer: Viewer, document_id: int) -> tuple[DocumentInfo, bytes]:
        existing_id(document_id, "document")
        found = await self._read(lambda conn: applications_store.get_document(conn, document_id))
        if found is None:
            raise OnboardingNotFound(f"no document {document_id}")
        try:
            await self.get(viewer, found[0].application_id)
        except OnboardingNotFound:
            raise OnboardingNotFound(f"no document {document_id}") from None
        return found

    async def audit_trail(self, viewer: Viewer, application_id: int) -> list[AuditEntry]:
        await self.get(viewer, application_id)
        return await self._read(
            lambda conn: applications_store.audit_trail(conn, APPLICATION, application_id)
        )

    # --- the platform operator's side ------------------------------------------------------

    async def _move(
        self,
        operator: PlatformOperatorRecord,
        application_id: int,
        target: ApplicationState,
        *,
        action: str,
        note: str | None = None,
        **values: object,
    ) -> ApplicationRecord:
        current = await self.get(operator, application_id)
        step_application(current.state, target)
        now = self._clock.now()

        def job(conn: Connection) -> bool:
            moved = applications_store.move_application(
                conn, application_id, expected=current.state, target=target, **values
            )
            if moved:
                applications_store.audit(
                    conn, subject=APPLICATION, subject_id=application_id, action=action,
                    from_state=current.state.value, to_state=target.value, now=now, note=note,
                    **actor(operator),
                )  # fmt: skip
            return moved

        if not await self._writer.submit(job):
            raise OnboardingConflict(
                f"application {application_id} was changed by someone else meanwhile"
            )
        return await self.get(operator, application_id)

    async def start_review(
        self, operator: PlatformOperatorRecord, application_id: int
    ) -> ApplicationRecord:
        current = await self.get(operator, application_id)
        # approving -> in_review exists only for a set-up production refused (`approve`).
        if current.state is not ApplicationState.SUBMITTED:
            raise IllegalTransition(f"an application that is {current.state} cannot be reviewed")
        return await self._move(
            operator, application_id, ApplicationState.IN_REVIEW, action="review started"
        )

    async def reject(
        self, operator: PlatformOperatorRecord, application_id: int, *, reason: str
    ) -> ApplicationRecord:
        clean = check_reason(reason)
        return await self._move(
            operator, application_id, ApplicationState.REJECTED, action="rejected", note=clean,
            rejection_reason=clean, decided_by=operator.id, decided_at=self._clock.now(),
        )  # fmt: skip

    async def approve(
        self, operator: PlatformOperatorRecord, application_id: int
    ) -> ApplicationRecord:
        """Approve and set up in production (module docstring); approving an approved
        application again changes nothing, and finishes one a crash left half done."""
        async with self._approving:
            current = await self.get(operator, application_id)
            if current.state is ApplicationState.APPROVED:
                return current
            password = new_one_time_password(current.admin_username)
            digest = await asyncio.to_thread(pin_digest, password)
            if current.state is ApplicationState.APPROVING:
                await self._take_over(operator, current, digest)
            else:
                await self._claim(operator, current, digest)
            claimed = await self.get(operator, application_id)
            try:
                organisation_id = await self._set_up_in_production(claimed, digest)
            except ProductionRefused as refusal:
                await self._back_to_review(operator, claimed, digest, str(refusal))
                raise
            await self._complete(operator, claimed, digest, organisation_id, password)
            return await self.get(operator, application_id)

    async def _claim(
        self, operator: PlatformOperatorRecord, current: ApplicationRecord, digest: str
    ) -> None:
        step_application(current.state, ApplicationState.APPROVING)
        count = 2 if current.kind is ApplicationKind.TILL else 1
        in_production = await self._production_read(
            lambda conn: production_setup_store.production_shortcodes_in(conn, SHORTCODE_RANGE)
        )
        now, wall_now = self._clock.now(), self._wall_clock.now()

        def job(conn: Connection) -> bool:
            taken = in_production | applications_store.allocated_shortcodes(conn)
            numbers = next_free_shortcodes(taken, count)
            # A till: the store first (its head office, the number STK signs), then the till.
            shortcode, store = (numbers[0], None) if count == 1 else (numbers[1], numbers[0])
            moved = applications_store.move_application(
                conn, current.id, expected=current.state, target=ApplicationState.APPROVING,
                decided_by=operator.id, decided_at=now, approval_started_at=wall_now,
                shortcode=shortcode, store_shortcode=store, admin_password_digest=digest,
            )  # fmt: skip
            if moved:
                applications_store.audit(
                    conn, subject=APPLICATION, subject_id=current.id, action="approved",
                    from_state=current.state.value, to_state=ApplicationState.APPROVING.value,
                    now=now, note=f"shortcode {store or shortcode}", **actor(operator),
                )  # fmt: skip
            return moved

        try:
            moved = await self._writer.submit(job)
        except IntegrityError:
            moved = False
        if not moved:
            raise OnboardingConflict(
                f"application {current.id} was decided by someone else meanwhile"
            )

    async def _take_over(
        self, operator: PlatformOperatorRecord, current: ApplicationRecord, digest: str
    ) -> None:
        wall_now = self._wall_clock.now()
        now = self._clock.now()

        def job(conn: Connection) -> bool:
            moved = applications_store.restart_approval(
                conn, current.id, started_before=wall_now - APPROVAL_LEASE_S, now=wall_now,
                admin_password_digest=digest,
            )  # fmt: skip
            if moved:
                applications_store.audit(
                    conn, subject=APPLICATION, subject_id=current.id, action="approval resumed",
                    from_state=current.state.value, to_state=current.state.value, now=now,
                    **actor(operator),
                )  # fmt: skip
            return moved

        if not await self._writer.submit(job):
            raise OnboardingConflict(
                f"application {current.id} is being set up in production right now; "
                "try again in a few minutes if it does not finish"
            )

    async def _set_up_in_production(self, claimed: ApplicationRecord, digest: str) -> int:
        if claimed.shortcode is None:
            raise OnboardingConflict(f"application {claimed.id} has no shortcode reserved")
        setup = BusinessSetup(
            organisation_name=claimed.organisation_name,
            trading_name=claimed.trading_name,
            kind=claimed.kind,
            shortcode=claimed.shortcode,
            store_shortcode=claimed.store_shortcode,
            bank=claimed.bank,
            admin_username=claimed.admin_username,
        )
        production = self._production
        # Production rows carry production's time: testers move the sandbox clock days ahead.
        now = production.clock.now()
        try:
            organisation_id = await production.writer.submit(
                lambda conn: production_setup_store.set_up_business(
                    conn, setup, admin_password_digest=digest, ledger=production.ledger, now=now
                )
            )
        except (ShortcodeSetupError, IntegrityError) as error:
            raise ProductionRefused(
                f"production refused the set-up ({error}); the application is back in review"
            ) from None
        # This process's services see the new shortcodes at once; others within the cache's TTL.
        production.shortcodes.clear()
        return organisation_id

    async def _back_to_review(
        self, operator: PlatformOperatorRecord, claimed: ApplicationRecord, digest: str, why: str
    ) -> None:
        """Production refused the set-up, so nothing of it exists there (one db transaction):
        the decision is undone and the shortcodes freed, for the operator to reject the
        application with a reason (or approve it once the clash is cleared)."""
        now = self._clock.now()

        def job(conn: Connection) -> bool:
            latest = applications_store.get_application(conn, claimed.id)
            if latest is None or latest.admin_password_digest != digest:
                return False
            moved = applications_store.move_application(
                conn, claimed.id, expected=ApplicationState.APPROVING,
                target=step_application(latest.state, ApplicationState.IN_REVIEW),
                decided_by=None, decided_at=None, approval_started_at=None, shortcode=None,
                store_shortcode=None, admin_password_digest=None,
            )  # fmt: skip
            if moved:
                applications_store.audit(
                    conn, subject=APPLICATION, subject_id=claimed.id, action="set-up refused",
                    from_state=ApplicationState.APPROVING.value,
                    to_state=ApplicationState.IN_REVIEW.value, now=now, note=why,
                    **actor(operator),
                )  # fmt: skip
            return moved

        await self._writer.submit(job)

    async def _complete(
        self,
        operator: PlatformOperatorRecord,
        claimed: ApplicationRecord,
        digest: str,
        organisation_id: int,
        password: str,
    ) -> None:
        now = self._clock.now()
        portal_shortcode = claimed.store_shortcode or claimed.shortcode or ""
        message = administrator_sms(
            organisation=claimed.organisation_name, shortcode=portal_shortcode,
            username=claimed.admin_username, password=password,
        )  # fmt: skip

        def job(conn: Connection) -> bool:
            latest = applications_store.get_application(conn, claimed.id)
            # Only the attempt whose password production now holds may finish.
            if latest is None or latest.admin_password_digest != digest:
                return False
            moved = applications_store.move_application(
                conn, claimed.id, expected=ApplicationState.APPROVING,
                target=step_application(latest.state, ApplicationState.APPROVED),
                production_organisation_id=organisation_id,
            )  # fmt: skip
            if moved:
                parties_store.add_sms(
                    conn, msisdn=claimed.admin_phone, sender=SMS_SENDER, body=message, now=now
                )
                applications_store.audit(
                    conn, subject=APPLICATION, subject_id=claimed.id, action="set up in production",
                    from_state=ApplicationState.APPROVING.value,
                    to_state=ApplicationState.APPROVED.value, now=now,
                    note=f"organisation {organisation_id}", **actor(operator),
                )  # fmt: skip
            return moved

        if not await self._writer.submit(job):
            raise OnboardingConflict(
                f"application {claimed.id} was finished by another approval meanwhile"
            )

    # --- businesses ------------------------------------------------------------------------

    async def business_of(self, organisation_id: int) -> Business | None:
        return await self._read(lambda conn: applications_store.business_of(conn, organisation_id))

    async def businesses_of(self, developer: DeveloperRecord) -> list[Business]:
        return await self._read(
            lambda conn: applications_store.businesses_of_developer(conn, developer.id)
        )
