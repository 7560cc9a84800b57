"""The whole way, as `pesabox serve` wires it: a business onboarding approved goes live
through a CRQ, the code arrives in the platform database's SMS inbox, and the production
keys it returns get a production token bound to the organisation; the sandbox knows nothing
of them."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509

from pesabox.core.change_requests import ChangeRequestService, change_request_service
from pesabox.domain import change_requests as crq
from pesabox.domain.change_requests import Actor, ActorKind, State
from pesabox.errors import InvalidAuthentication
from pesabox.storage import apps_store, parties_store, pki_store
from pesabox.storage.db import read_transaction, write_transaction
from tests.onboarding.conftest import World, approved, developer, open_world, operator
from tests.security.pki_helpers import make_csr
from tests.support import basic_auth

REVIEWER = Actor(ActorKind.PLATFORM_OPERATOR, "reviewer")


@pytest.fixture
async def onboarded(
    tmp_path: Path, sqlite_templates: dict[str, object]
) -> AsyncIterator[tuple[World, ChangeRequestService]]:
    for name in ("platform.db", "production.db"):
        shutil.copy(sqlite_templates["migrated"], tmp_path / name)  # type: ignore[arg-type]
    world = await open_world(
        f"sqlite:///{tmp_path}/platform.db", f"sqlite:///{tmp_path}/production.db"
    )
    with write_transaction(world.sandbox.engine) as conn:
        pki_store.ensure_authority(conn, now=world.wall_clock.now())
    yield world, change_request_service(world.sandbox, world.production)
    await world.sandbox.stop()
    await world.production.stop()


async def test_onboarded_business_goes_live(onboarded: tuple[World, ChangeRequestService]) -> None:
    world, service = onboarded
    owner = await developer(world)
    application = await approved(world, owner, await operator(world))
    assert application.production_organisation_id is not None
    assert application.shortcode is not None
    request = await service.submit(
        requester=Actor(ActorKind.DEVELOPER, str(owner.id)),
        organisation_id=application.production_organisation_id,
        shortcode=application.shortcode,
        payload=crq.go_live("Mboga Live", ["c2b", "mpesa_express"]),
        developer_id=owner.id,
    )
    await service.review(request.number, REVIEWER)
    await service.approve(request.number, REVIEWER)
    with read_transaction(world.sandbox.engine) as conn:
        # Newest first; onboarding's approval texted the administrator before.
        sms = parties_store.list_sms(conn, "254722111222")[0]
    assert request.number in sms["body"] and application.shortcode in sms["body"]
    keys = await service.confirm(request.number, sms["body"][:6], REVIEWER)
    assert (await service.detail(request.number)).request.state is State.IMPLEMENTED

    authorization = basic_auth(keys.consumer_key, keys.consumer_secret)
    token, _ = await world.production.tokens.issue(
        authorization=authorization, grant_type="client_credentials"
    )
    with read_transaction(world.production.engine) as conn:
        grant = apps_store.find_token(conn, token)
    assert grant is not None
    assert grant.organisation_id == application.production_organisation_id
    with pytest.raises(InvalidAuthentication):
        await world.sandbox.tokens.issue(
            authorization=authorization, grant_type="client_credentials"
        )


async def test_client_certificates_last_the_configured_validity(
    onboarded: tuple[World, ChangeRequestService],
) -> None:
    world, _ = onboarded
    world.sandbox.settings = world.sandbox.settings.model_copy(
        update={"client_cert_validity_days": 30}
    )
    service = change_request_service(world.sandbox, world.production)
    owner = await developer(world)
    application = await approved(world, owner, await operator(world))
    assert application.production_organisation_id is not None and application.shortcode
    csr, _ = make_csr(organisation=application.organisation_name)
    request = await service.submit(
        requester=Actor(ActorKind.DEVELOPER, str(owner.id)),
        organisation_id=application.production_organisation_id,
        shortcode=application.shortcode,
        payload=crq.certificate_signing(csr),
        developer_id=owner.id,
    )
    await service.review(request.number, REVIEWER)
    await service.approve(request.number, REVIEWER)
    pem = (await service.detail(request.number)).request.certificate_pem
    assert pem is not None
    certificate = x509.load_pem_x509_certificate(pem.encode())
    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert 29 <= lifetime.days <= 31
