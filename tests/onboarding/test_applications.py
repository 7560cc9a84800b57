from __future__ import annotations

import pytest
from sqlalchemy import func, select

from pesabox.domain.onboarding.documents import BusinessType, Upload
from pesabox.domain.onboarding.errors import (
    IllegalTransition,
    OnboardingConflict,
    OnboardingError,
    OnboardingNotFound,
)
from pesabox.domain.onboarding.states import ApplicationState
from pesabox.storage import orgs_store
from pesabox.storage.db import read_transaction, write_transaction
from pesabox.storage.tables_onboarding import application_documents, business_applications
from tests.onboarding.conftest import PDF, World, developer, form, operator, submitted


def _rows(world: World) -> tuple[int, int]:
    with read_transaction(world.sandbox.engine) as conn:
        count = select(func.count())
        return (
            conn.execute(count.select_from(business_applications)).scalar_one(),
            conn.execute(count.select_from(application_documents)).scalar_one(),
        )


async def test_submit_keeps_the_form_documents_and_audit(world: World) -> None:
    owner = await developer(world)
    application = await submitted(world, owner)
    assert application.state is ApplicationState.SUBMITTED
    assert application.organisation_name == "Mama Mboga Ltd"
    documents = await world.service.applications.documents(owner, application.id)
    assert len(documents) == 10
    info, data = await world.service.applications.document(owner, documents[0].id)
    assert data == PDF and info.sha256 == documents[0].sha256
    trail = await world.service.applications.audit_trail(owner, application.id)
    assert [(e.action, e.actor_name, e.to_state) for e in trail] == [
        ("submitted", "dev@shop.example", "submitted")
    ]


async def test_submit_with_bad_form_and_documents_lists_all_and_keeps_nothing(
    world: World,
) -> None:
    owner = await developer(world)
    uploads = [Upload("application_form", "a.pdf", "application/pdf", b"not a pdf")]
    with pytest.raises(OnboardingError) as refusal:
        await submitted(world, owner, kra_pin="12345", uploads=uploads)
    message = str(refusal.value)
    assert "KRA PIN" in message and "application_form" in message and "missing" in message
    assert _rows(world) == (0, 0)


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("kind", "bulk", "kind must be paybill or till"),
        ("kra_pin", " ", "a limited_company must give its KRA PIN"),
        ("trading_name", "x" * 101, "trading name"),
        ("business_type", "cooperative", "business type must be one of"),
        ("organisation_name", " ", "organisation name"),
        ("bank", {"bank_name": "KCB"}, "account number"),
        ("administrator", {"name": "A", "username": "bad name", "phone": "1", "email": "x"},
         "username"),
    ],
)  # fmt: skip
async def test_submit_bad_field_is_refused(
    world: World, field: str, value: object, problem: str
) -> None:
    owner = await developer(world)
    overrides = {field: value, "uploads": []}
    with pytest.raises(OnboardingError, match=problem):
        await submitted(world, owner, **overrides)
    assert _rows(world) == (0, 0)


async def test_sole_proprietor_may_leave_out_the_kra_pin(world: World) -> None:
    owner = await developer(world)
    application = await submitted(world, owner, business_type="sole_proprietor", kra_pin="")
    assert application.kra_pin is None
    assert application.business_type is BusinessType.SOLE_PROPRIETOR


async def test_organisation_name_is_unique_among_open_applications(world: World) -> None:
    first, second = await developer(world), await developer(world, "b@shop.example")
    await submitted(world, first)
    with pytest.raises(OnboardingConflict, match="already open"):
        await submitted(world, second, organisation_name="  MAMA   mboga ltd ")
    assert _rows(world)[0] == 1


async def test_organisation_name_of_a_live_production_org_is_taken(world: World) -> None:
    with write_transaction(world.production.engine) as conn:
        orgs_store.create_organisation(conn, "Mama Mboga Ltd", now=0)
    owner = await developer(world)
    with pytest.raises(OnboardingConflict, match="exists already"):
        await submitted(world, owner, organisation_name="mama mboga ltd")


async def test_a_rejected_application_frees_its_name(world: World) -> None:
    owner, reviewer = await developer(world), await operator(world)
    application = await submitted(world, owner)
    await world.service.applications.start_review(reviewer, application.id)
    rejected = await world.service.applications.reject(
        reviewer, application.id, reason="The CR12 is older than 30 days."
    )
    assert rejected.state is ApplicationState.REJECTED
    assert rejected.rejection_reason == "The CR12 is older than 30 days."
    again = await submitted(world, owner)
    assert again.state is ApplicationState.SUBMITTED
    trail = await world.service.applications.audit_trail(reviewer, application.id)
    assert [(e.action, e.from_state, e.to_state) for e in trail] == [
        ("submitted", None, "submitted"),
        ("review started", "submitted", "in_review"),
        ("rejected", "in_review", "rejected"),
    ]
    assert trail[-1].actor_name == "reviewer"


async def test_illegal_transitions_are_refused(world: World) -> None:
    owner, reviewer = await developer(world), await operator(world)
    application = await submitted(world, owner)
    applications = world.service.applications
    with pytest.raises(IllegalTransition):
        await applications.approve(reviewer, application.id)
    with pytest.raises(IllegalTransition):
        await applications.reject(reviewer, application.id, reason="no")
    await applications.start_review(reviewer, application.id)
    with pytest.raises(IllegalTransition):
        await applications.start_review(reviewer, application.id)
    with pytest.raises(OnboardingError, match="reason"):
        await applications.reject(reviewer, application.id, reason="   ")
    await applications.reject(reviewer, application.id, reason="Blurred ID copies")
    with pytest.raises(IllegalTransition):
        await applications.approve(reviewer, application.id)
    with pytest.raises(IllegalTransition):
        await applications.start_review(reviewer, application.id)


async def test_a_developer_sees_only_their_own_applications_and_documents(world: World) -> None:
    owner, stranger = await developer(world), await developer(world, "x@shop.example")
    reviewer = await operator(world)
    application = await submitted(world, owner)
    documents = await world.service.applications.documents(reviewer, application.id)
    with pytest.raises(OnboardingNotFound):
        await world.service.applications.get(stranger, application.id)
    with pytest.raises(OnboardingNotFound):
        await world.service.applications.document(stranger, documents[0].id)
    with pytest.raises(OnboardingNotFound):
        await world.service.applications.document(reviewer, 999_999)
    assert await world.service.applications.of_developer(stranger) == []
    listed = await world.service.applications.listed(
        reviewer, states=frozenset({ApplicationState.SUBMITTED})
    )
    assert [a.id for a in listed] == [application.id]


async def test_form_helper_is_complete() -> None:
    assert set(form()) >= {"kind", "bank", "administrator", "uploads"}


async def test_the_database_holds_one_live_application_per_name(world: World) -> None:
    """What stops two processes that both passed the name check at the same moment."""
    from sqlalchemy.exc import IntegrityError

    from pesabox.domain.onboarding.applications import check_application
    from pesabox.storage import applications_store

    owner = await developer(world)
    fields = form()
    fields.pop("uploads")
    checked = check_application(**fields)  # type: ignore[arg-type]
    with pytest.raises(IntegrityError), write_transaction(world.sandbox.engine) as conn:
        for _ in range(2):
            applications_store.insert_application(
                conn, developer_id=owner.id, form=checked, documents=[], now=0
            )


async def test_an_administrator_phone_that_is_no_simulated_customer_is_refused(
    world: World,
) -> None:
    owner = await developer(world)
    administrator = {**form()["administrator"], "phone": "254799000111"}  # type: ignore[dict-item]
    with pytest.raises(OnboardingError) as refused:
        await submitted(world, owner, administrator=administrator)
    assert "254799000111 is no simulated customer" in str(refused.value)
    assert "/ui/phones" in str(refused.value)
    assert _rows(world) == (0, 0)
