"""Ids from page paths outside what a record can have are simply not found: never a driver's
OverflowError (a 500)."""

from __future__ import annotations

import pytest

from pesabox.domain.onboarding.errors import RECORD_ID_LIMIT, OnboardingNotFound
from tests.onboarding.conftest import World, developer, operator

ODD_IDS = [0, -1, RECORD_ID_LIMIT, RECORD_ID_LIMIT + 1, 2**63 - 1, 2**63, 2**70]


@pytest.mark.parametrize("record_id", ODD_IDS)
async def test_odd_ids_are_not_found(world: World, record_id: int) -> None:
    owner, reviewer = await developer(world), await operator(world)
    service = world.service
    calls = [
        service.applications.get(owner, record_id),
        service.applications.get(reviewer, record_id),
        service.applications.documents(owner, record_id),
        service.applications.document(owner, record_id),
        service.applications.audit_trail(reviewer, record_id),
        service.applications.start_review(reviewer, record_id),
        service.applications.approve(reviewer, record_id),
        service.applications.reject(reviewer, record_id, reason="Incomplete documents"),
        service.lnmo.apply(owner, record_id),
        service.lnmo.get(reviewer, record_id),
        service.lnmo.audit_trail(owner, record_id),
        service.lnmo.start_review(reviewer, record_id),
        service.lnmo.approve(reviewer, record_id),
        service.accounts.delete_app(owner, record_id),
    ]
    for call in calls:
        with pytest.raises(OnboardingNotFound):
            await call
