"""The document rules on their own: every kind of bad upload, and what each business type
must send."""

from __future__ import annotations

import pytest

from pesabox.domain.onboarding.documents import (
    DOCUMENT_BYTES_MAX,
    REQUIRED_DOCUMENTS,
    BusinessType,
    DocumentKind,
    FileType,
    Upload,
    check_documents,
    sanitise_filename,
)
from pesabox.domain.onboarding.errors import OnboardingError
from tests.onboarding.conftest import JPEG, PDF, PNG, uploads_for

SOLE = BusinessType.SOLE_PROPRIETOR


def _replace(uploads: list[Upload], kind: DocumentKind, upload: Upload) -> list[Upload]:
    return [upload if u.kind == kind.value else u for u in uploads]


@pytest.mark.parametrize("business_type", list(BusinessType))
def test_documents_complete_set_is_accepted_with_digests(business_type: BusinessType) -> None:
    documents = check_documents(business_type, uploads_for(business_type))
    assert {d.kind for d in documents} == set(REQUIRED_DOCUMENTS[business_type])
    assert all(len(d.sha256) == 64 and d.file_type is FileType.PDF for d in documents)


@pytest.mark.parametrize(
    ("business_type", "kind"),
    [(t, k) for t in BusinessType for k in REQUIRED_DOCUMENTS[t]],
)
def test_documents_missing_one_names_it(business_type: BusinessType, kind: DocumentKind) -> None:
    uploads = [u for u in uploads_for(business_type) if u.kind != kind.value]
    with pytest.raises(OnboardingError, match=f"missing documents .*{kind.value}"):
        check_documents(business_type, uploads)


@pytest.mark.parametrize(
    ("upload", "problem"),
    [
        (Upload("bank_letter", "a.pdf", "application/pdf", b""), "is empty"),
        (Upload("bank_letter", "a.pdf", "application/pdf", b"<html>"), "not a PDF, PNG or JPEG"),
        (Upload("bank_letter", "a.exe", "application/x-msdownload", b"MZ\x90"), "not a PDF"),
        (Upload("bank_letter", "a.pdf", "text/html", PDF), "sent as 'text/html'"),
        (Upload("bank_letter", "a.pdf", "application/pdf", PNG), "its content is image/png"),
        (Upload("bank_letter", "a.png", "image/png", JPEG), "its content is image/jpeg"),
        (
            Upload("bank_letter", "a.pdf", "application/pdf", PDF + b"0" * DOCUMENT_BYTES_MAX),
            "larger than 5 MB",
        ),
    ],
)
def test_documents_bad_file_is_refused(upload: Upload, problem: str) -> None:
    uploads = _replace(uploads_for(SOLE), DocumentKind.BANK_LETTER, upload)
    with pytest.raises(OnboardingError, match=problem) as refusal:
        check_documents(SOLE, uploads)
    # A bad file is not also reported as missing.
    assert "missing" not in str(refusal.value)


def test_documents_unknown_repeated_and_unwanted_kinds_are_refused() -> None:
    uploads = uploads_for(SOLE) + [
        Upload("selfie", "me.png", "image/png", PNG),
        Upload("bank_letter", "again.pdf", "application/pdf", PDF),
        Upload("cr12", "cr12.pdf", "application/pdf", PDF),
    ]
    with pytest.raises(OnboardingError) as refusal:
        check_documents(SOLE, uploads)
    message = str(refusal.value)
    assert "'selfie' is not a document" in message
    assert "bank_letter was sent more than once" in message
    assert "does not send a cr12" in message


def test_documents_total_above_twenty_megabytes_is_refused() -> None:
    big = PDF + b"0" * (DOCUMENT_BYTES_MAX - len(PDF))
    uploads = [Upload(u.kind, u.filename, u.content_type, big) for u in uploads_for(SOLE)]
    with pytest.raises(OnboardingError, match="add up to more than 20 MB"):
        check_documents(SOLE, uploads)


@pytest.mark.parametrize("business_type", list(BusinessType))
def test_every_business_sends_its_domain_registration_details(
    business_type: BusinessType,
) -> None:
    assert DocumentKind.DOMAIN_REGISTRATION in REQUIRED_DOCUMENTS[business_type]


def test_registration_and_kra_pin_certificates_by_business_type() -> None:
    # The list: a partnership sends its certificate of registration too, and a sole
    # proprietor the KRA PIN certificate.
    partnership = REQUIRED_DOCUMENTS[BusinessType.PARTNERSHIP]
    assert DocumentKind.BUSINESS_REGISTRATION in partnership
    assert DocumentKind.KRA_PIN_CERTIFICATE in REQUIRED_DOCUMENTS[SOLE]
    uploads = [u for u in uploads_for(SOLE) if u.kind != "kra_pin_certificate"]
    with pytest.raises(OnboardingError, match="KRA PIN certificate"):
        check_documents(SOLE, uploads)


@pytest.mark.parametrize(
    ("name", "file_type", "expected"),
    [
        ("../../etc/passwd", FileType.PDF, "passwd.pdf"),
        ("C:\\Users\\me\\bank letter (1).PDF", FileType.PDF, "bank_letter_1.pdf"),
        ("photo.png", FileType.JPEG, "photo.jpg"),
        ("", FileType.PNG, "document.png"),
        ("x" * 300 + ".pdf", FileType.PDF, "x" * 96 + ".pdf"),
        ('a"; evil=1\r\n.pdf', FileType.PDF, "a_evil_1.pdf"),
    ],
)
def test_sanitise_filename(name: str, file_type: FileType, expected: str) -> None:
    assert sanitise_filename(name, file_type) == expected
