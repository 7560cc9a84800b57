"""Onboarding (issue 6): one process-wide service over the platform database, which writes
what approvals set up through the production Platform.

    service = OnboardingService(engine=sandbox.engine, writer=sandbox.writer,
                                clock=sandbox.clock, sandbox=sandbox, production=production,
                                settings=settings)
    service.accounts      developers and platform operators: sign-up, sign-in, sessions,
                          developers' sandbox apps          (core.onboarding_accounts)
    service.applications  business applications, documents, review and approval
                                                            (core.business_applications)
    service.lnmo          Lipa na M-Pesa Online applications and passkeys
                                                            (core.lnmo_applications)

The sandbox apps go into the sandbox Platform's database, which is the platform database:
`engine` and `writer` are normally the sandbox Platform's own. `clock` is the platform clock
(the sandbox's, which /ui/clock moves): application dates and the LNMO review window run on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pesabox.clock import Clock
from pesabox.core.business_applications import BusinessApplications
from pesabox.core.lnmo_applications import LnmoApplications
from pesabox.core.onboarding_accounts import OnboardingAccounts
from pesabox.settings import Settings
from pesabox.storage.applications_store import Business
from pesabox.storage.types import Engine
from pesabox.storage.writer import LedgerWriter

if TYPE_CHECKING:
    from pesabox.core.platform import Platform


class OnboardingService:
    def __init__(
        self,
        *,
        engine: Engine,
        writer: LedgerWriter,
        clock: Clock,
        sandbox: Platform | None,
        production: Platform,
        settings: Settings,
        wall_clock: Clock | None = None,
    ) -> None:
        self.engine = engine
        self.sandbox = sandbox
        self.production = production
        self.accounts = OnboardingAccounts(
            engine=engine, writer=writer, clock=clock, wall_clock=wall_clock,
            session_lifetime_s=settings.portal_session_lifetime_s,
            lockout_threshold=settings.operator_lockout_threshold,
        )  # fmt: skip
        self.applications = BusinessApplications(
            engine=engine, writer=writer, clock=clock, production=production,
            wall_clock=wall_clock,
        )  # fmt: skip
        self.lnmo = LnmoApplications(
            engine=engine, writer=writer, clock=clock, production=production,
            review_days=settings.lnmo_review_days,
        )  # fmt: skip

    @classmethod
    def of(cls, sandbox: Platform, production: Platform) -> OnboardingService:
        """The service as `pesabox serve` builds it: on the sandbox Platform's database."""
        return cls(
            engine=sandbox.engine,
            writer=sandbox.writer,
            clock=sandbox.clock,
            sandbox=sandbox,
            production=production,
            settings=sandbox.settings,
        )

    async def business_of(self, organisation_id: int) -> Business | None:
        """The approved business behind a production organisation (for CRQs and OTPs)."""
        return await self.applications.business_of(organisation_id)
