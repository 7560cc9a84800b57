"""What the onboarding pages (/ui/dev, /ui/admin, the org portal's change requests) call:
onboarding and change requests over the platform database, the platform CA's trust bundle.

One object per process, built once both environments' Platforms exist (`serving`), and handed
to each environment's app (`create_app(onboarding=...)`), which keeps it in its state under
ONBOARDING_STATE. Without production served there is nothing to go live to, so there is none.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pesabox.core.change_requests import ChangeRequestService, change_request_service
from pesabox.core.onboarding import OnboardingService
from pesabox.storage import pki_store
from pesabox.storage.applications_store import (
    ApplicationRecord,
    AuditEntry,
    Business,
    DocumentInfo,
    LnmoRecord,
)
from pesabox.storage.db import read_transaction
from pesabox.storage.onboarding_store import DeveloperApp, DeveloperRecord, PlatformOperatorRecord
from pesabox.storage.types import Engine

if TYPE_CHECKING:
    from pesabox.core.platform import Platform

ONBOARDING_STATE = "onboarding"

# The records the pages show, named here so that web/ need not import storage/.
__all__ = [
    "ONBOARDING_STATE",
    "ApplicationRecord",
    "AuditEntry",
    "Business",
    "DeveloperApp",
    "DeveloperRecord",
    "DocumentInfo",
    "LnmoRecord",
    "OnboardingServices",
    "PlatformOperatorRecord",
    "onboarding_services",
]


@dataclass(frozen=True, slots=True)
class OnboardingServices:
    onboarding: OnboardingService
    change_requests: ChangeRequestService
    platform_engine: Engine

    async def trust_bundle(self) -> str:
        """Root, intermediate and both brokers' certificates (PEM): what a client trusts to
        verify pesabox's https listeners."""

        def read() -> str:
            with read_transaction(self.platform_engine) as conn:
                return pki_store.trust_bundle_pem(conn)

        return await asyncio.to_thread(read)


def onboarding_services(sandbox: Platform, production: Platform) -> OnboardingServices:
    """The services as `pesabox serve` builds them: in the sandbox Platform's database (the
    platform database), setting businesses up in production's."""
    return OnboardingServices(
        onboarding=OnboardingService.of(sandbox, production),
        change_requests=change_request_service(sandbox, production),
        platform_engine=sandbox.engine,
    )
