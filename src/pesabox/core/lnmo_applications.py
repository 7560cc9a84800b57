"""Lipa na M-Pesa Online applications: a developer asks for STK push on a business that went
live; a platform operator takes it into review and decides it no earlier than
`lnmo_review_days` after it was sent, on the platform clock. Approval gives the business a
passkey (64 random hex digits) on its production shortcode: the PayBill, or a till's store
(the number an STK push is signed with).

The passkey is chosen in the deciding UPDATE of the platform database, then written to the
production shortcode; approving an approved application again writes the same passkey, so a
crash between the two is finished by retrying.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.exc import IntegrityError

from pesabox.clock import Clock
from pesabox.core.business_applications import APPLICATION, Viewer, actor
from pesabox.domain.onboarding.applications import check_reason
from pesabox.domain.onboarding.errors import OnboardingConflict, OnboardingNotFound, existing_id
from pesabox.domain.onboarding.lnmo import check_review_over, decidable_at, new_passkey
from pesabox.domain.onboarding.states import LnmoState, step_lnmo
from pesabox.storage import applications_store, production_setup_store
from pesabox.storage.applications_store import AuditEntry, LnmoRecord
from pesabox.storage.db import read_transaction
from pesabox.storage.onboarding_store import DeveloperRecord, PlatformOperatorRecord
from pesabox.storage.types import Connection, Engine
from pesabox.storage.writer import LedgerWriter

if TYPE_CHECKING:
    from pesabox.core.platform import Platform

T = TypeVar("T")
LNMO = "lnmo"


class LnmoApplications:
    def __init__(
        self,
        *,
        engine: Engine,
        writer: LedgerWriter,
        clock: Clock,
        production: Platform,
        review_days: int,
    ) -> None:
        self._engine = engine
        self._writer = writer
        self._clock = clock
        self._production = production
        self.review_days = review_days

    async def _read(self, query: Callable[[Connection], T]) -> T:
        def run() -> T:
            with read_transaction(self._engine) as conn:
                return query(conn)

        return await asyncio.to_thread(run)

    def decidable_at(self, record: LnmoRecord) -> float:
        """When (platform clock) an operator may first decide the application."""
        return decidable_at(record.submitted_at, review_days=self.review_days)

    def is_decidable(self, record: LnmoRecord) -> bool:
        """Whether the review window is over on the platform clock (the console offers the
        decision only then)."""
        return self._clock.now() >= self.decidable_at(record)

    async def apply(self, developer: DeveloperRecord, application_id: int) -> LnmoRecord:
        """Ask for LNMO on one of the developer's approved businesses."""
        existing_id(application_id, "application")
        now = self._clock.now()

        def job(conn: Connection) -> int | str:
            business = applications_store.business_of_application(conn, application_id)
            if business is None or business.developer_id != developer.id:
                return f"you have no approved business with application {application_id}"
            if applications_store.live_lnmo_of(conn, application_id) is not None:
                return "this business already has an LNMO application open or approved"
            lnmo_id = applications_store.insert_lnmo(
                conn, application_id=application_id, developer_id=developer.id, now=now
            )
            applications_store.audit(
                conn, subject=LNMO, subject_id=lnmo_id, action="submitted", from_state=None,
                to_state=LnmoState.SUBMITTED.value, now=now,
                note=f"{APPLICATION} {application_id}", **actor(developer),
            )  # fmt: skip
            return lnmo_id

        try:
            outcome = await self._writer.submit(job)
        except IntegrityError:
            # The partial unique index: another process opened one at the same moment.
            outcome = "this business already has an LNMO application open or approved"
        if isinstance(outcome, str):
            error = OnboardingNotFound if outcome.startswith("you have no") else OnboardingConflict
            raise error(outcome)
        return await self.get(developer, outcome)

    async def get(self, viewer: Viewer, lnmo_id: int) -> LnmoRecord:
        existing_id(lnmo_id, "LNMO application")
        found = await self._read(lambda conn: applications_store.get_lnmo(conn, lnmo_id))
        if found is None or (
            isinstance(viewer, DeveloperRecord) and found.developer_id != viewer.id
        ):
            raise OnboardingNotFound(f"no LNMO application {lnmo_id}")
        return found

    async def of_developer(self, developer: DeveloperRecord) -> list[LnmoRecord]:
        return await self._read(
            lambda conn: applications_store.list_lnmo(conn, developer_id=developer.id)
        )

    async def listed(
        self,
        operator: PlatformOperatorRecord,  # noqa: ARG002 - only operators list them all
        *,
        states: frozenset[LnmoState] | None = None,
    ) -> list[LnmoRecord]:
        return await self._read(lambda conn: applications_store.list_lnmo(conn, states=states))

    async def audit_trail(self, viewer: Viewer, lnmo_id: int) -> list[AuditEntry]:
        await self.get(viewer, lnmo_id)
        return await self._read(lambda conn: applications_store.audit_trail(conn, LNMO, lnmo_id))

    async def _move(
        self,
        operator: PlatformOperatorRecord,
        current: LnmoRecord,
        target: LnmoState,
        *,
        action: str,
        note: str | None = None,
        **values: object,
    ) -> LnmoRecord:
        step_lnmo(current.state, target)
        now = self._clock.now()

        def job(conn: Connection) -> bool:
            moved = applications_store.move_lnmo(
                conn, current.id, expected=current.state, target=target, **values
            )
            if moved:
                applications_store.audit(
                    conn, subject=LNMO, subject_id=current.id, action=action,
                    from_state=current.state.value, to_state=target.value, now=now, note=note,
                    **actor(operator),
                )  # fmt: skip
            return moved

        if not await self._writer.submit(job):
            raise OnboardingConflict(
                f"LNMO application {current.id} was changed by someone else meanwhile"
            )
        return await self.get(operator, current.id)

    async def start_review(self, operator: PlatformOperatorRecord, lnmo_id: int) -> LnmoRecord:
        current = await self.get(operator, lnmo_id)
        return await self._move(operator, current, LnmoState.UNDER_REVIEW, action="review started")

    def _check_decidable(self, current: LnmoRecord, target: LnmoState) -> None:
        step_lnmo(current.state, target)
        check_review_over(current.submitted_at, review_days=self.review_days, now=self._clock.now())

    async def reject(
        self, operator: PlatformOperatorRecord, lnmo_id: int, *, reason: str
    ) -> LnmoRecord:
        clean = check_reason(reason)
        current = await self.get(operator, lnmo_id)
        self._check_decidable(current, LnmoState.REJECTED)
        return await self._move(
            operator, current, LnmoState.REJECTED, action="rejected", note=clean,
            rejection_reason=clean, decided_by=operator.id, decided_at=self._clock.now(),
        )  # fmt: skip

    async def approve(self, operator: PlatformOperatorRecord, lnmo_id: int) -> LnmoRecord:
        """Approve and set the passkey in production; again on an approved one re-applies
        the same passkey (finishing an approval a crash cut short)."""
        current = await self.get(operator, lnmo_id)
        if current.state is not LnmoState.APPROVED:
            self._check_decidable(current, LnmoState.APPROVED)
            current = await self._move(
                operator, current, LnmoState.APPROVED, action="approved",
                passkey=new_passkey(), decided_by=operator.id, decided_at=self._clock.now(),
            )  # fmt: skip
        await self._apply_passkey(current)
        return current

    async def _apply_passkey(self, record: LnmoRecord) -> None:
        business = await self._read(
            lambda conn: applications_store.business_of_application(conn, record.application_id)
        )
        if business is None or record.passkey is None:
            raise OnboardingConflict(f"LNMO application {record.id} has no business to set up")
        passkey = record.passkey
        production = self._production
        found = await production.writer.submit(
            lambda conn: production_setup_store.set_passkey(conn, business.stk_shortcode, passkey)
        )
        if not found:
            raise OnboardingConflict(f"production has no shortcode {business.stk_shortcode}")
        production.shortcodes.clear()
