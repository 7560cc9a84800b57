"""/ui/dev's change requests: going live (the CRQ, then the one-time code sent to the Business
Administrator's phone, then the production keys, shown once), a client certificate from a
CSR (the CRQ, then the signed certificate to download), the trust bundle, and each CRQ's
trail with a comment box. A developer sees only the CRQs they raised."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from pesabox.core.change_requests import ChangeRequestDetail
from pesabox.core.onboarding_services import Business, DeveloperRecord
from pesabox.domain import change_requests as crq
from pesabox.domain.change_requests import (
    Actor,
    ActorKind,
    ChangeRequestError,
    ChangeRequestNotFound,
    Kind,
    State,
)
from pesabox.web.dev_common import (
    CSR_BODY_BYTES_MAX,
    FORM,
    CommentForm,
    form_action,
    refusal_text,
    services_of,
)
from pesabox.web.dev_session import DEV, current_developer
from pesabox.web.pages import AnyRequest, Notice, page, redirect

PEM = "application/x-pem-file"


@dataclass
class CodeForm:
    code: str = ""


def developer_actor(developer: DeveloperRecord) -> Actor:
    """The developer as CRQs name them: by id, as the onboarding API does, so a CRQ raised
    here may be withdrawn there."""
    return Actor(ActorKind.DEVELOPER, str(developer.id))


def crq_url(number: str) -> str:
    return f"/ui/dev/crqs/{number}"


async def _business(request: AnyRequest, developer: DeveloperRecord, organisation: str) -> Business:
    """The developer's approved business with this production organisation id."""
    for business in await services_of(request).onboarding.applications.businesses_of(developer):
        if str(business.production_organisation_id) == organisation.strip():
            return business
    raise ChangeRequestError("choose one of your approved businesses")


async def own_crq(
    request: AnyRequest, developer: DeveloperRecord, number: str
) -> ChangeRequestDetail:
    """The CRQ, when this developer raised it; anybody else's is not found, like none."""
    detail = await services_of(request).change_requests.detail(number)
    if detail.request.developer_id != developer.id:
        raise ChangeRequestNotFound(f"there is no change request {number}")
    return detail


async def _submit(
    request: AnyRequest, developer: DeveloperRecord, organisation: str, payload: crq.Payload
) -> str:
    business = await _business(request, developer, organisation)
    made = await services_of(request).change_requests.submit(
        requester=developer_actor(developer),
        organisation_id=business.production_organisation_id,
        shortcode=business.shortcode,
        payload=payload,
        developer_id=developer.id,
    )
    return made.number


@post("/crqs/go-live", include_in_schema=False)
async def request_go_live(request: AnyRequest) -> Redirect:
    developer = await current_developer(request)
    form = await request.form()
    try:
        payload = crq.go_live(str(form.get("app_name", "")), form.getall("products", []))
        number = await _submit(request, developer, str(form.get("organisation", "")), payload)
    except ChangeRequestError as error:
        return redirect(request, DEV, Notice(refusal_text(error), "error"))
    return redirect(
        request,
        crq_url(number),
        Notice(f"Go-live request {number} is sent; a platform operator reviews it."),
    )


async def _csr_text(form: Any) -> str:
    """The CSR from the file chosen, else from the text box."""
    upload = form.get("csr_file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read()
        try:
            return str(data.decode("ascii"))
        except UnicodeDecodeError:
            raise ChangeRequestError("the CSR file must be a PEM text file") from None
    return str(form.get("csr_pem", ""))


@post("/crqs/certificate", include_in_schema=False, request_max_body_size=CSR_BODY_BYTES_MAX)
async def request_certificate(request: AnyRequest) -> Redirect:
    developer = await current_developer(request)
    form = await request.form()
    try:
        payload = crq.certificate_signing(await _csr_text(form))
        number = await _submit(request, developer, str(form.get("organisation", "")), payload)
    except ChangeRequestError as error:
        return redirect(request, DEV, Notice(refusal_text(error), "error"))
    return redirect(
        request,
        crq_url(number),
        Notice(f"Certificate request {number} is sent; the certificate is here once approved."),
    )


@get("/crqs/{number:str}", include_in_schema=False)
async def crq_page(request: AnyRequest, number: FromPath[str]) -> Template:
    developer = await current_developer(request)
    detail = await own_crq(request, developer, number)
    change = detail.request
    return page(
        request,
        "dev/crq.html",
        developer=developer,
        change=change,
        trail=detail.trail,
        takes_code=change.kind is Kind.GO_LIVE and change.state is State.APPROVED,
        has_certificate=change.certificate_pem is not None,
    )


@post("/crqs/{number:str}/comment", include_in_schema=False)
async def comment(
    request: AnyRequest, number: FromPath[str], data: Annotated[CommentForm, FORM]
) -> Redirect:
    developer = await current_developer(request)
    await own_crq(request, developer, number)
    crqs = services_of(request).change_requests
    return await form_action(
        request,
        back=crq_url(number),
        run=crqs.comment(number, developer_actor(developer), data.text),
        done="Your comment is added.",
    )


@post("/crqs/{number:str}/code", include_in_schema=False)
async def send_new_code(request: AnyRequest, number: FromPath[str]) -> Redirect:
    developer = await current_developer(request)
    await own_crq(request, developer, number)
    return await form_action(
        request,
        back=crq_url(number),
        run=services_of(request).change_requests.send_code(number, developer_actor(developer)),
        done="A new code is on its way to the Business Administrator's phone.",
    )


@post("/crqs/{number:str}/confirm", include_in_schema=False)
async def confirm_code(
    request: AnyRequest, number: FromPath[str], data: Annotated[CodeForm, FORM]
) -> Template | Redirect:
    """The right code makes the production app: its key and secret are on this answer once."""
    developer = await current_developer(request)
    await own_crq(request, developer, number)
    try:
        keys = await services_of(request).change_requests.confirm(
            number, data.code.strip(), developer_actor(developer)
        )
    except ChangeRequestError as error:
        return redirect(request, crq_url(number), Notice(refusal_text(error), "error"))
    change = (await own_crq(request, developer, number)).request
    return page(
        request,
        "dev/secret.html",
        title=f"Production app {change.payload.get('app_name', keys.app_id)}",
        consumer_key=keys.consumer_key,
        consumer_secret=keys.consumer_secret,
        products=change.payload.get("products", []),
        environment_label="production",
        number=number,
    )


def pem_response(pem: str, filename: str) -> Response[str]:
    return Response(
        pem,
        media_type=PEM,
        headers={
            "content-disposition": f'attachment; filename="{filename}"',
            "cache-control": "no-store",
        },
    )


@get("/crqs/{number:str}/certificate.pem", include_in_schema=False)
async def certificate_download(request: AnyRequest, number: FromPath[str]) -> Response[str]:
    developer = await current_developer(request)
    await own_crq(request, developer, number)
    pem = await services_of(request).change_requests.certificate_pem(number)
    return pem_response(pem, f"{number}.pem")


@get("/trust-bundle.pem", include_in_schema=False)
async def trust_bundle(request: AnyRequest) -> Response[str]:
    """Public: the certificates a client trusts to verify pesabox's https listeners."""
    return pem_response(await services_of(request).trust_bundle(), "pesabox-trust-bundle.pem")


CRQ_HANDLERS = [
    request_go_live,
    request_certificate,
    crq_page,
    comment,
    send_new_code,
    confirm_code,
    certificate_download,
    trust_bundle,
]
