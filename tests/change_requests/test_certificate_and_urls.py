"""Certificate CRQs (a CSR checked at submission, signed by the platform CA on approval) and
URL-change CRQs (the production C2B registration replaced on approval)."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from pesabox.domain import change_requests as crq
from pesabox.domain.change_requests import State
from pesabox.security.pki import organisation_identifier
from pesabox.storage import c2b_store, pki_store
from pesabox.storage.db import write_transaction
from tests.change_requests.conftest import OPERATOR, ORGANISATION_NAME, SHORTCODE, World
from tests.security.pki_helpers import make_csr

NEW_URLS = crq.url_change(
    "https://duka.example/c2b/confirm", "https://duka.example/c2b/validate", "Cancelled"
)


def _certificates(world: World) -> list[pki_store.ClientCertificateRecord]:
    with world.platform.connect() as conn:
        return pki_store.client_certificates_of(conn, world.business.organisation_id)


async def test_certificate_signed_on_approval_and_downloadable(world: World) -> None:
    csr, _ = make_csr(organisation=ORGANISATION_NAME)
    request = await world.in_review(crq.certificate_signing(csr))
    with pytest.raises(crq.ChangeRequestError, match="no signed certificate"):
        await world.service.certificate_pem(request.number)
    implemented = await world.service.approve(request.number, OPERATOR)
    assert implemented.state is State.IMPLEMENTED
    pem = await world.service.certificate_pem(request.number)
    certificate = x509.load_pem_x509_certificate(pem.encode())
    subject = certificate.subject
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == ORGANISATION_NAME
    [identifier] = subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
    assert identifier.value == organisation_identifier(world.business.organisation_id)
    [record] = _certificates(world)
    assert (record.change_request, record.cert_pem) == (request.number, pem)
    trail = (await world.service.detail(request.number)).trail
    assert [(e.action, e.to_state) for e in trail][-2:] == [
        ("approve", State.APPROVED), ("implement", State.IMPLEMENTED),
    ]  # fmt: skip


def _weak_rsa_csr() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "api.duka.example")])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return csr.public_bytes(Encoding.PEM).decode()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: make_csr(organisation="Someone Else Ltd")[0], "the CSR is refused"),
        (lambda: make_csr(organisation_identifier="PBX-ORG-999999")[0], "the CSR is refused"),
        (_weak_rsa_csr, "the CSR is refused"),
    ],
)
async def test_bad_csr_is_refused_at_submission_and_no_crq_is_made(
    world: World, make: object, message: str
) -> None:
    with pytest.raises(crq.ChangeRequestError, match=message):
        await world.submit(crq.certificate_signing(make()))  # type: ignore[operator]
    assert await world.service.queue() == []


async def test_garbled_csr_is_refused_before_the_ca_sees_it(world: World) -> None:
    garbled = "-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n-----END CERTIFICATE REQUEST-----"
    with pytest.raises(crq.ChangeRequestError, match="the CSR is refused"):
        await world.submit(crq.certificate_signing(garbled))
    assert await world.service.queue() == []


async def test_ca_refusal_at_approval_leaves_the_crq_in_review(world: World) -> None:
    csr, _ = make_csr(organisation=ORGANISATION_NAME)
    request = await world.in_review(crq.certificate_signing(csr))
    # The organisation was renamed since: the CSR's O no longer matches.
    world.directory.businesses[world.business.organisation_id] = crq.Business(
        organisation_id=world.business.organisation_id, name="Duka Bora Holdings",
        shortcodes=(SHORTCODE,), admin_username="a", admin_phone="254700000000",
        developer_id=None,
    )  # fmt: skip
    with pytest.raises(crq.ChangeRequestError, match="the CSR is refused"):
        await world.service.approve(request.number, OPERATOR)
    after = (await world.service.detail(request.number)).request
    assert after.state is State.IN_REVIEW
    assert _certificates(world) == []


# --- URL changes ------------------------------------------------------------------------


def _registration(world: World) -> c2b_store.Registration | None:
    with world.production.connect() as conn:
        return c2b_store.get_registration(conn, SHORTCODE)


async def test_url_change_replaces_the_production_registration(world: World) -> None:
    app_id = world.give_production_app()
    with write_transaction(world.production) as conn:
        c2b_store.save_registration(
            conn,
            c2b_store.Registration(
                shortcode=SHORTCODE, app_id=app_id, api_version="v1", response_type="Completed",
                confirmation_url="https://old.example/c", validation_url="https://old.example/v",
                msisdn_format="hashed", created_at=5.0, updated_at=5.0,
            ),
            overwrite=False,
        )  # fmt: skip
    request = await world.in_review(NEW_URLS)
    implemented = await world.service.approve(request.number, OPERATOR)
    assert implemented.state is State.IMPLEMENTED
    registration = _registration(world)
    assert registration is not None
    assert (registration.confirmation_url, registration.validation_url) == (
        "https://duka.example/c2b/confirm", "https://duka.example/c2b/validate",
    )  # fmt: skip
    assert (registration.response_type, registration.api_version, registration.app_id) == (
        "Cancelled", "v1", app_id,
    )  # fmt: skip
    assert registration.created_at == 5.0


async def test_url_change_registers_when_none_exists(world: World) -> None:
    app_id = world.give_production_app()
    request = await world.in_review(NEW_URLS)
    await world.service.approve(request.number, OPERATOR)
    registration = _registration(world)
    assert registration is not None and registration.app_id == app_id


async def test_url_change_refused_without_a_production_app(world: World) -> None:
    with pytest.raises(crq.ChangeRequestError, match="go live first"):
        await world.submit(NEW_URLS)


async def test_url_change_rejected_changes_nothing(world: World) -> None:
    world.give_production_app()
    request = await world.in_review(NEW_URLS)
    await world.service.reject(request.number, OPERATOR, "Use your own domain")
    assert _registration(world) is None


async def test_the_csr_is_stored_as_its_pem_block_alone(world: World) -> None:
    csr, _ = make_csr(organisation=ORGANISATION_NAME)
    request = await world.submit(crq.certificate_signing(f"junk\x00 before\n{csr}\x00 after"))
    stored = request.payload["csr_pem"]
    assert "\x00" not in stored and "junk" not in stored and "after" not in stored
    assert stored.startswith("-----BEGIN CERTIFICATE REQUEST-----")
    assert stored.strip() == csr.strip()
    implemented = await world.service.approve(
        (await world.service.review(request.number, OPERATOR)).number, OPERATOR
    )
    assert implemented.state is State.IMPLEMENTED
