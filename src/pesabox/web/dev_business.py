"""/ui/dev's businesses: the PayBill/Till application with its documents, its status and
decision, and the Lipa na M-Pesa Online (LNMO) application that gives the passkey.

The application form is asked for one business type at a time (`?business_type=`), so it
shows exactly the documents that type sends, without any script. It posts multipart; its
route alone takes bodies up to UPLOAD_BODY_BYTES_MAX. A refused application comes back as
the form with every problem listed and every typed value kept (files cannot be: browsers
never let a page fill a file input).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.datastructures import UploadFile
from litestar.params import QueryParameter
from litestar.response import Redirect, Response, Template

from pesabox.core.onboarding_services import DeveloperRecord, DocumentInfo
from pesabox.domain.onboarding.documents import (
    DOCUMENT_LABELS,
    OPTIONAL_DOCUMENTS,
    REQUIRED_DOCUMENTS,
    BusinessType,
    Upload,
)
from pesabox.domain.onboarding.errors import OnboardingError
from pesabox.web.dev_common import (
    UPLOAD_BODY_BYTES_MAX,
    RecordId,
    form_action,
    problems_of,
    services_of,
)
from pesabox.web.dev_session import DEV, current_developer
from pesabox.web.pages import AnyRequest, page, redirect

NEW_APPLICATION = "/ui/dev/applications/new"
BUSINESS_TYPE_LABELS = {
    BusinessType.SOLE_PROPRIETOR: "Sole proprietor",
    BusinessType.LIMITED_COMPANY: "Limited company",
    BusinessType.PARTNERSHIP: "Partnership",
}
# The form's text fields, as the template names them; bank_* and admin_* are grouped below.
TEXT_FIELDS = (
    "kind", "organisation_name", "trading_name", "kra_pin",
    "bank_name", "branch", "account_number", "account_name",
    "admin_name", "admin_username", "admin_phone", "admin_email",
)  # fmt: skip


def _documents(business_type: BusinessType) -> list[dict[str, Any]]:
    required = [
        {"kind": kind.value, "label": DOCUMENT_LABELS[kind], "required": True}
        for kind in REQUIRED_DOCUMENTS[business_type]
    ]
    optional = [
        {"kind": kind.value, "label": DOCUMENT_LABELS[kind], "required": False}
        for kind in OPTIONAL_DOCUMENTS[business_type]
    ]
    return required + optional


def _form_page(
    request: AnyRequest,
    developer: DeveloperRecord,
    business_type: BusinessType | None,
    *,
    values: dict[str, str] | None = None,
    problems: list[str] | None = None,
) -> Template:
    return page(
        request,
        "dev/application_form.html",
        developer=developer,
        business_type=business_type,
        business_types=BUSINESS_TYPE_LABELS,
        documents=_documents(business_type) if business_type else [],
        values=values or {"kind": "paybill"},
        problems=problems or [],
    )


@get("/applications/new", include_in_schema=False)
async def application_form(
    request: AnyRequest,
    business_type: Annotated[str, QueryParameter()] = "",
) -> Template:
    developer = await current_developer(request)
    chosen = business_type if business_type in set(BusinessType) else None
    return _form_page(request, developer, BusinessType(chosen) if chosen else None)


async def _uploads(form: Any) -> list[Upload]:
    """Every file sent; an input left empty (no file chosen) is not an upload."""
    uploads: list[Upload] = []
    for key, value in form.multi_items():
        if isinstance(value, UploadFile) and value.filename:
            data = await value.read()
            uploads.append(Upload(kind=key, filename=value.filename,
                                  content_type=value.content_type or "", data=data))  # fmt: skip
    return uploads


@post(
    "/applications",
    include_in_schema=False,
    request_max_body_size=UPLOAD_BODY_BYTES_MAX,
)
async def submit_application(request: AnyRequest) -> Template | Redirect:
    developer = await current_developer(request)
    form = await request.form()
    values = {name: str(form.get(name, "")) for name in TEXT_FIELDS}
    raw_type = str(form.get("business_type", ""))
    business_type = BusinessType(raw_type) if raw_type in set(BusinessType) else None
    try:
        created = await services_of(request).onboarding.applications.submit(
            developer,
            kind=values["kind"],
            business_type=raw_type,
            organisation_name=values["organisation_name"],
            trading_name=values["trading_name"],
            kra_pin=values["kra_pin"] or None,
            bank={
                name: values[name]
                for name in ("bank_name", "branch", "account_number", "account_name")
            },  # fmt: skip
            administrator={
                "name": values["admin_name"],
                "username": values["admin_username"],
                "phone": values["admin_phone"],
                "email": values["admin_email"],
            },  # fmt: skip
            uploads=await _uploads(form),
        )
    except OnboardingError as error:
        template = _form_page(
            request,
            developer,
            business_type,
            values=values,
            problems=problems_of(error),
        )
        template.status_code = error.http_status
        return template
    return redirect(request, f"/ui/dev/applications/{created.id}")


@get("/applications/{application_id:int}", include_in_schema=False)
async def application_page(request: AnyRequest, application_id: RecordId) -> Template:
    developer = await current_developer(request)
    applications = services_of(request).onboarding.applications
    return page(
        request,
        "dev/application.html",
        developer=developer,
        application=await applications.get(developer, application_id),
        documents=await applications.documents(developer, application_id),
        trail=await applications.audit_trail(developer, application_id),
        labels=DOCUMENT_LABELS,
    )


@get("/documents/{document_id:int}", include_in_schema=False)
async def document_download(request: AnyRequest, document_id: RecordId) -> Response[bytes]:
    developer = await current_developer(request)
    info, data = await services_of(request).onboarding.applications.document(developer, document_id)
    return document_response(info, data)


def document_response(info: DocumentInfo, data: bytes) -> Response[bytes]:
    """A kept document, as its checked type, under its sanitised name (documents.py made
    both safe: only PDF, PNG or JPEG, only letters, digits and `._-` in the name)."""
    return Response(
        data,
        media_type=info.content_type,
        headers={
            "content-disposition": f'attachment; filename="{info.filename}"',
            "x-content-type-options": "nosniff",
            "cache-control": "no-store",
        },
    )


@post("/applications/{application_id:int}/lnmo", include_in_schema=False)
async def apply_for_lnmo(request: AnyRequest, application_id: RecordId) -> Redirect:
    developer = await current_developer(request)
    lnmo = services_of(request).onboarding.lnmo
    return await form_action(
        request,
        back=DEV,
        run=lnmo.apply(developer, application_id),
        done=f"Your Lipa na M-Pesa Online application is sent; it is reviewed within "
        f"{lnmo.review_days} days.",
    )


BUSINESS_HANDLERS = [
    application_form,
    submit_application,
    application_page,
    document_download,
    apply_for_lnmo,
]
