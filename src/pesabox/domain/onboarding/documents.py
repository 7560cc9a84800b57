"""The documents a business application must carry, and the checks every upload passes.

What each business type sends follows Safaricom's PayBill form pack (mpesa-domain-and-g2.md
§3.4): every applicant sends the signed application form and terms, the signed tariff guide,
a bank letter or cancelled cheque, proof that the business exists, the IDs of the account
openers and the domain registration details (Daraja's go-live FAQ asks for them); then a sole
proprietor adds the business registration or permit and the KRA PIN certificate, a limited
company its certificate of incorporation, board resolution, KRA PIN certificate and CR12, a
partnership its certificate of registration, deed, the partners' letter and KRA PIN
certificate.

An upload is accepted only when its first bytes AND its declared type agree on PDF, PNG or
JPEG: a declared type alone is whatever the browser guessed from the name, and bytes alone
would let an HTML page through under a `.pdf` name if the type were trusted downstream.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from pesabox.domain.onboarding.errors import OnboardingError

DOCUMENT_BYTES_MAX = 5 * 1024 * 1024
DOCUMENTS_BYTES_MAX = 20 * 1024 * 1024
FILENAME_LENGTH_MAX = 100
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


class BusinessType(StrEnum):
    SOLE_PROPRIETOR = "sole_proprietor"
    LIMITED_COMPANY = "limited_company"
    PARTNERSHIP = "partnership"


class DocumentKind(StrEnum):
    APPLICATION_FORM = "application_form"
    TARIFF_GUIDE = "tariff_guide"
    BANK_LETTER = "bank_letter"
    PROOF_OF_EXISTENCE = "proof_of_existence"
    OWNER_IDS = "owner_ids"
    BUSINESS_REGISTRATION = "business_registration"
    CERTIFICATE_OF_INCORPORATION = "certificate_of_incorporation"
    BOARD_RESOLUTION = "board_resolution"
    KRA_PIN_CERTIFICATE = "kra_pin_certificate"
    CR12 = "cr12"
    PARTNERSHIP_DEED = "partnership_deed"
    PARTNERS_LETTER = "partners_letter"
    DOMAIN_REGISTRATION = "domain_registration"


DOCUMENT_LABELS: dict[DocumentKind, str] = {
    DocumentKind.APPLICATION_FORM: "signed application form and terms & conditions",
    DocumentKind.TARIFF_GUIDE: "signed tariff guide",
    DocumentKind.BANK_LETTER: "bank letter or cancelled cheque",
    DocumentKind.PROOF_OF_EXISTENCE: "utility bill or photo of the business",
    DocumentKind.OWNER_IDS: "IDs of the owners, directors or partners",
    DocumentKind.BUSINESS_REGISTRATION: "certificate of business registration or permit",
    DocumentKind.CERTIFICATE_OF_INCORPORATION: "certificate of incorporation",
    DocumentKind.BOARD_RESOLUTION: "board resolution signed by two directors",
    DocumentKind.KRA_PIN_CERTIFICATE: "KRA PIN certificate",
    DocumentKind.CR12: "CR12 (at most 30 days old)",
    DocumentKind.PARTNERSHIP_DEED: "partnership deed or affidavit",
    DocumentKind.PARTNERS_LETTER: "partners' letter (bank details, authorised signatories)",
    DocumentKind.DOMAIN_REGISTRATION: "domain registration details (the business's website)",
}

_EVERY_BUSINESS = (
    DocumentKind.APPLICATION_FORM,
    DocumentKind.TARIFF_GUIDE,
    DocumentKind.BANK_LETTER,
    DocumentKind.PROOF_OF_EXISTENCE,
    DocumentKind.OWNER_IDS,
    DocumentKind.DOMAIN_REGISTRATION,
)
REQUIRED_DOCUMENTS: dict[BusinessType, tuple[DocumentKind, ...]] = {
    BusinessType.SOLE_PROPRIETOR: (
        *_EVERY_BUSINESS,
        DocumentKind.BUSINESS_REGISTRATION,
        DocumentKind.KRA_PIN_CERTIFICATE,
    ),
    BusinessType.LIMITED_COMPANY: (
        *_EVERY_BUSINESS,
        DocumentKind.CERTIFICATE_OF_INCORPORATION,
        DocumentKind.BOARD_RESOLUTION,
        DocumentKind.KRA_PIN_CERTIFICATE,
        DocumentKind.CR12,
    ),
    BusinessType.PARTNERSHIP: (
        *_EVERY_BUSINESS,
        DocumentKind.BUSINESS_REGISTRATION,
        DocumentKind.PARTNERSHIP_DEED,
        DocumentKind.PARTNERS_LETTER,
        DocumentKind.KRA_PIN_CERTIFICATE,
    ),
}
# Documents that may come along without being required (none today: the form lists them).
OPTIONAL_DOCUMENTS: dict[BusinessType, tuple[DocumentKind, ...]] = {
    BusinessType.SOLE_PROPRIETOR: (),
    BusinessType.LIMITED_COMPANY: (),
    BusinessType.PARTNERSHIP: (),
}


class FileType(StrEnum):
    PDF = "application/pdf"
    PNG = "image/png"
    JPEG = "image/jpeg"


_MAGIC: dict[FileType, bytes] = {
    FileType.PDF: b"%PDF-",
    FileType.PNG: b"\x89PNG\r\n\x1a\n",
    FileType.JPEG: b"\xff\xd8\xff",
}
_EXTENSIONS = {FileType.PDF: ".pdf", FileType.PNG: ".png", FileType.JPEG: ".jpg"}
# Declared types as browsers and HTTP clients send them.
_DECLARED = {"application/pdf": FileType.PDF, "image/png": FileType.PNG}
_DECLARED |= {"image/jpeg": FileType.JPEG, "image/jpg": FileType.JPEG}


@dataclass(frozen=True, slots=True)
class Upload:
    """A file as it arrived: the document it claims to be, its name and declared type."""

    kind: str
    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Document:
    """An upload that passed every check, ready to keep."""

    kind: DocumentKind
    filename: str
    file_type: FileType
    sha256: str
    data: bytes = field(repr=False)

    @property
    def size_bytes(self) -> int:
        return len(self.data)


def parse_business_type(text: str) -> BusinessType:
    try:
        return BusinessType(text.strip().lower())
    except ValueError:
        choices = ", ".join(kind.value for kind in BusinessType)
        raise OnboardingError(f"business type must be one of {choices}, not {text!r}") from None


def sanitise_filename(name: str, file_type: FileType) -> str:
    """The last path component, reduced to letters, digits and `._-`, with the extension of
    the file's real type: safe in a Content-Disposition header and on any disk."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    clean = _UNSAFE_FILENAME.sub("_", stem).strip("._-") or "document"
    extension = _EXTENSIONS[file_type]
    return clean[: FILENAME_LENGTH_MAX - len(extension)] + extension


def _file_type(upload: Upload) -> tuple[FileType | None, str | None]:
    """The file's type, or the reason it is refused."""
    label = f"{upload.kind} ({upload.filename or 'no name'})"
    declared = _DECLARED.get(upload.content_type.split(";", 1)[0].strip().lower())
    sniffed = next((kind for kind, magic in _MAGIC.items() if upload.data.startswith(magic)), None)
    if not upload.data:
        return None, f"{label} is empty"
    if len(upload.data) > DOCUMENT_BYTES_MAX:
        return None, f"{label} is larger than {DOCUMENT_BYTES_MAX // (1024 * 1024)} MB"
    if sniffed is None:
        return None, f"{label} is not a PDF, PNG or JPEG file"
    if declared is None:
        return None, f"{label} was sent as {upload.content_type!r}, not PDF, PNG or JPEG"
    if declared is not sniffed:
        return None, f"{label} was sent as {declared.value} but its content is {sniffed.value}"
    return sniffed, None


def check_documents(business_type: BusinessType, uploads: Sequence[Upload]) -> list[Document]:
    """The uploads as documents, or OnboardingError listing every problem at once: unknown,
    repeated, unwanted or missing documents, bad files and the total size."""
    problems: list[str] = []
    allowed = REQUIRED_DOCUMENTS[business_type] + OPTIONAL_DOCUMENTS[business_type]
    documents: dict[DocumentKind, Document] = {}
    for upload in uploads:
        try:
            kind = DocumentKind(upload.kind)
        except ValueError:
            problems.append(f"{upload.kind!r} is not a document this application takes")
            continue
        if kind not in allowed:
            problems.append(f"a {business_type.value} does not send a {kind.value}")
            continue
        if kind in documents:
            problems.append(f"{kind.value} was sent more than once")
            continue
        file_type, refusal = _file_type(upload)
        if refusal is not None or file_type is None:
            problems.append(refusal or f"{kind.value} is not a PDF, PNG or JPEG file")
            continue
        documents[kind] = Document(
            kind=kind,
            filename=sanitise_filename(upload.filename, file_type),
            file_type=file_type,
            sha256=hashlib.sha256(upload.data).hexdigest(),
            data=upload.data,
        )
    missing = [kind for kind in REQUIRED_DOCUMENTS[business_type] if kind not in documents]
    missing = [kind for kind in missing if not any(u.kind == kind.value for u in uploads)]
    if missing:
        names = ", ".join(f"{kind.value} ({DOCUMENT_LABELS[kind]})" for kind in missing)
        problems.append(f"missing documents for a {business_type.value}: {names}")
    total = sum(len(upload.data) for upload in uploads)
    if total > DOCUMENTS_BYTES_MAX:
        problems.append(
            f"the documents add up to more than {DOCUMENTS_BYTES_MAX // (1024 * 1024)} MB"
        )
    if problems:
        raise OnboardingError("; ".join(problems))
    return list(documents.values())
