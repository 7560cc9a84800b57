"""Business applications, their documents, LNMO applications and the audit trail, in the
platform database.

State changes are conditional UPDATEs (`WHERE state = <expected>`): the caller has already
asked `domain.onboarding.states` whether the step is legal, and the row moves only if nobody
moved it since, so two deciding operators cannot both win. Each returns whether it moved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select, update

from pesabox.domain.bank_details import BankDetails
from pesabox.domain.onboarding.applications import (
    ApplicationForm,
    ApplicationKind,
    organisation_key,
)
from pesabox.domain.onboarding.documents import BusinessType, Document, DocumentKind
from pesabox.domain.onboarding.states import ApplicationState, LnmoState
from pesabox.storage.tables_onboarding import (
    application_documents,
    business_applications,
    lnmo_applications,
    onboarding_audit,
)

LIST_LIMIT_MAX = 500


@dataclass(frozen=True, slots=True)
class ApplicationRecord:
    id: int
    developer_id: int
    kind: ApplicationKind
    business_type: BusinessType
    organisation_name: str
    trading_name: str
    kra_pin: str | None
    bank: BankDetails
    admin_name: str
    admin_username: str
    admin_phone: str
    admin_email: str
    state: ApplicationState
    rejection_reason: str | None
    submitted_at: float
    decided_by: int | None
    decided_at: float | None
    approval_started_at: float | None
    shortcode: str | None
    store_shortcode: str | None
    production_organisation_id: int | None
    admin_password_digest: str | None = field(repr=False, default=None)


@dataclass(frozen=True, slots=True)
class Business:
    """An approved application as the rest of onboarding (CRQs, OTPs) sees it."""

    application_id: int
    developer_id: int
    kind: ApplicationKind
    organisation_name: str
    production_organisation_id: int
    # The PayBill, or the till; `store_shortcode` is a till's store (the number STK signs).
    shortcode: str
    store_shortcode: str | None
    admin_username: str
    admin_phone: str
    admin_email: str

    @property
    def shortcodes(self) -> tuple[str, ...]:
        return (self.shortcode,) + ((self.store_shortcode,) if self.store_shortcode else ())

    @property
    def stk_shortcode(self) -> str:
        """The number an STK push is signed with: a till's store, or the PayBill."""
        return self.store_shortcode or self.shortcode


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    id: int
    application_id: int
    kind: DocumentKind
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    created_at: float


@dataclass(frozen=True, slots=True)
class AuditEntry:
    subject: str
    subject_id: int
    actor_kind: str
    actor_id: int
    actor_name: str
    action: str
    from_state: str | None
    to_state: str | None
    note: str | None
    at: float


@dataclass(frozen=True, slots=True)
class LnmoRecord:
    id: int
    application_id: int
    developer_id: int
    state: LnmoState
    submitted_at: float
    decided_by: int | None
    decided_at: float | None
    rejection_reason: str | None
    passkey: str | None = field(repr=False, default=None)


def _application(row: Any) -> ApplicationRecord:
    return ApplicationRecord(
        id=row.id,
        developer_id=row.developer_id,
        kind=ApplicationKind(row.kind),
        business_type=BusinessType(row.business_type),
        organisation_name=row.organisation_name,
        trading_name=row.trading_name,
        kra_pin=row.kra_pin,
        bank=BankDetails(row.bank_name, row.branch, row.account_number, row.account_name),
        admin_name=row.admin_name,
        admin_username=row.admin_username,
        admin_phone=row.admin_phone,
        admin_email=row.admin_email,
        state=ApplicationState(row.state),
        rejection_reason=row.rejection_reason,
        submitted_at=row.submitted_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        approval_started_at=row.approval_started_at,
        shortcode=row.shortcode,
        store_shortcode=row.store_shortcode,
        production_organisation_id=row.production_organisation_id,
        admin_password_digest=row.admin_password_digest,
    )


# --- applications ----------------------------------------------------------------------------


def live_name_taken(conn: Connection, name: str) -> bool:
    """Whether an application that is not rejected already holds this organisation name."""
    found = conn.execute(
        select(business_applications.c.id).where(
            business_applications.c.organisation_key == organisation_key(name),
            business_applications.c.state != ApplicationState.REJECTED.value,
        )
    ).first()
    return found is not None


def insert_application(
    conn: Connection,
    *,
    developer_id: int,
    form: ApplicationForm,
    documents: list[Document],
    now: float,
) -> int:
    """The application and every document, in the caller's one db transaction."""
    result = conn.execute(
        business_applications.insert().values(
            developer_id=developer_id,
            kind=form.kind.value,
            business_type=form.business_type.value,
            organisation_name=form.organisation_name,
            organisation_key=organisation_key(form.organisation_name),
            trading_name=form.trading_name,
            kra_pin=form.kra_pin,
            bank_name=form.bank.bank_name,
            branch=form.bank.branch,
            account_number=form.bank.account_number,
            account_name=form.bank.account_name,
            admin_name=form.administrator.name,
            admin_username=form.administrator.username,
            admin_phone=form.administrator.phone,
            admin_email=form.administrator.email,
            state=ApplicationState.SUBMITTED.value,
            submitted_at=now,
        )
    )
    application_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    for document in documents:
        conn.execute(
            application_documents.insert().values(
                application_id=application_id,
                kind=document.kind.value,
                filename=document.filename,
                content_type=document.file_type.value,
                size_bytes=document.size_bytes,
                sha256=document.sha256,
                data=document.data,
                created_at=now,
            )
        )
    return application_id


def get_application(conn: Connection, application_id: int) -> ApplicationRecord | None:
    row = conn.execute(
        select(business_applications).where(business_applications.c.id == application_id)
    ).first()
    return _application(row) if row is not None else None


def list_applications(
    conn: Connection,
    *,
    developer_id: int | None = None,
    states: frozenset[ApplicationState] | None = None,
    limit: int = LIST_LIMIT_MAX,
) -> list[ApplicationRecord]:
    """Newest first, optionally of one developer or in some states."""
    query = select(business_applications).order_by(business_applications.c.id.desc())
    if developer_id is not None:
        query = query.where(business_applications.c.developer_id == developer_id)
    if states is not None:
        query = query.where(business_applications.c.state.in_([s.value for s in states]))
    rows = conn.execute(query.limit(min(max(limit, 1), LIST_LIMIT_MAX)))
    return [_application(row) for row in rows]


def move_application(
    conn: Connection,
    application_id: int,
    *,
    expected: ApplicationState,
    target: ApplicationState,
    **values: Any,
) -> bool:
    """Move the application from `expected` to `target` (with other columns), if it is still
    `expected`; whether it moved."""
    result = conn.execute(
        update(business_applications)
        .where(
            business_applications.c.id == application_id,
            business_applications.c.state == expected.value,
        )
        .values(state=target.value, **values)
    )
    return bool(result.rowcount)


def restart_approval(
    conn: Connection,
    application_id: int,
    *,
    started_before: float,
    now: float,
    admin_password_digest: str,
) -> bool:
    """Take over an approval whose set-up stalled (started before `started_before`): a new
    one-time password for the administrator, and a new start; whether it was taken over."""
    result = conn.execute(
        update(business_applications)
        .where(
            business_applications.c.id == application_id,
            business_applications.c.state == ApplicationState.APPROVING.value,
            business_applications.c.approval_started_at < started_before,
        )
        .values(approval_started_at=now, admin_password_digest=admin_password_digest)
    )
    return bool(result.rowcount)


def allocated_shortcodes(conn: Connection) -> set[int]:
    """Every production shortcode an application has reserved."""
    numbers: set[int] = set()
    for column in (business_applications.c.shortcode, business_applications.c.store_shortcode):
        numbers.update(
            int(v) for v in conn.execute(select(column).where(column.is_not(None))).scalars()
        )
    return numbers


def count_applications(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(business_applications)).scalar_one())


# --- businesses (approved applications) -----------------------------------------------------


def _business(record: ApplicationRecord) -> Business:
    if record.production_organisation_id is None or record.shortcode is None:
        raise ValueError(f"application {record.id} is not an approved business")
    return Business(
        application_id=record.id,
        developer_id=record.developer_id,
        kind=record.kind,
        organisation_name=record.organisation_name,
        production_organisation_id=record.production_organisation_id,
        shortcode=record.shortcode,
        store_shortcode=record.store_shortcode,
        admin_username=record.admin_username,
        admin_phone=record.admin_phone,
        admin_email=record.admin_email,
    )


def business_of(conn: Connection, organisation_id: int) -> Business | None:
    """The approved business whose production organisation is `organisation_id`."""
    row = conn.execute(
        select(business_applications).where(
            business_applications.c.production_organisation_id == organisation_id,
            business_applications.c.state == ApplicationState.APPROVED.value,
        )
    ).first()
    return _business(_application(row)) if row is not None else None


def businesses_of_developer(conn: Connection, developer_id: int) -> list[Business]:
    records = list_applications(
        conn, developer_id=developer_id, states=frozenset({ApplicationState.APPROVED})
    )
    return [_business(record) for record in reversed(records)]


def business_of_application(conn: Connection, application_id: int) -> Business | None:
    record = get_application(conn, application_id)
    if record is None or record.state is not ApplicationState.APPROVED:
        return None
    return _business(record)


# --- documents -------------------------------------------------------------------------------

_DOCUMENT_INFO = (
    application_documents.c.id,
    application_documents.c.application_id,
    application_documents.c.kind,
    application_documents.c.filename,
    application_documents.c.content_type,
    application_documents.c.size_bytes,
    application_documents.c.sha256,
    application_documents.c.created_at,
)


def _document_info(row: Any) -> DocumentInfo:
    return DocumentInfo(
        row.id,
        row.application_id,
        DocumentKind(row.kind),
        row.filename,
        row.content_type,
        row.size_bytes,
        row.sha256,
        row.created_at,
    )


def list_documents(conn: Connection, application_id: int) -> list[DocumentInfo]:
    rows = conn.execute(
        select(*_DOCUMENT_INFO)
        .where(application_documents.c.application_id == application_id)
        .order_by(application_documents.c.id)
    )
    return [_document_info(row) for row in rows]


def get_document(conn: Connection, document_id: int) -> tuple[DocumentInfo, bytes] | None:
    row = conn.execute(
        select(*_DOCUMENT_INFO, application_documents.c.data).where(
            application_documents.c.id == document_id
        )
    ).first()
    if row is None:
        return None
    return _document_info(row), bytes(row.data)


# --- audit ------------------------------------------------------------------------------------


def audit(
    conn: Connection,
    *,
    subject: str,
    subject_id: int,
    actor_kind: str,
    actor_id: int,
    actor_name: str,
    action: str,
    from_state: str | None,
    to_state: str | None,
    now: float,
    note: str | None = None,
) -> None:
    conn.execute(
        onboarding_audit.insert().values(
            subject=subject,
            subject_id=subject_id,
            actor_kind=actor_kind,
            actor_id=actor_id,
            actor_name=actor_name,
            action=action,
            from_state=from_state,
            to_state=to_state,
            note=note,
            at=now,
        )
    )


def audit_trail(conn: Connection, subject: str, subject_id: int) -> list[AuditEntry]:
    rows = conn.execute(
        select(onboarding_audit)
        .where(onboarding_audit.c.subject == subject, onboarding_audit.c.subject_id == subject_id)
        .order_by(onboarding_audit.c.id)
    )
    return [
        AuditEntry(
            r.subject,
            r.subject_id,
            r.actor_kind,
            r.actor_id,
            r.actor_name,
            r.action,
            r.from_state,
            r.to_state,
            r.note,
            r.at,
        )
        for r in rows
    ]


# --- LNMO --------------------------------------------------------------------------------------


def _lnmo(row: Any) -> LnmoRecord:
    return LnmoRecord(
        id=row.id,
        application_id=row.application_id,
        developer_id=row.developer_id,
        state=LnmoState(row.state),
        submitted_at=row.submitted_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        rejection_reason=row.rejection_reason,
        passkey=row.passkey,
    )


def live_lnmo_of(conn: Connection, application_id: int) -> LnmoRecord | None:
    row = conn.execute(
        select(lnmo_applications).where(
            lnmo_applications.c.application_id == application_id,
            lnmo_applications.c.state != LnmoState.REJECTED.value,
        )
    ).first()
    return _lnmo(row) if row is not None else None


def insert_lnmo(conn: Connection, *, application_id: int, developer_id: int, now: float) -> int:
    result = conn.execute(
        lnmo_applications.insert().values(
            application_id=application_id,
            developer_id=developer_id,
            state=LnmoState.SUBMITTED.value,
            submitted_at=now,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def get_lnmo(conn: Connection, lnmo_id: int) -> LnmoRecord | None:
    row = conn.execute(select(lnmo_applications).where(lnmo_applications.c.id == lnmo_id)).first()
    return _lnmo(row) if row is not None else None


def list_lnmo(
    conn: Connection,
    *,
    developer_id: int | None = None,
    states: frozenset[LnmoState] | None = None,
    limit: int = LIST_LIMIT_MAX,
) -> list[LnmoRecord]:
    query = select(lnmo_applications).order_by(lnmo_applications.c.id.desc())
    if developer_id is not None:
        query = query.where(lnmo_applications.c.developer_id == developer_id)
    if states is not None:
        query = query.where(lnmo_applications.c.state.in_([s.value for s in states]))
    rows = conn.execute(query.limit(min(max(limit, 1), LIST_LIMIT_MAX)))
    return [_lnmo(row) for row in rows]


def move_lnmo(
    conn: Connection, lnmo_id: int, *, expected: LnmoState, target: LnmoState, **values: Any
) -> bool:
    result = conn.execute(
        update(lnmo_applications)
        .where(lnmo_applications.c.id == lnmo_id, lnmo_applications.c.state == expected.value)
        .values(state=target.value, **values)
    )
    return bool(result.rowcount)
