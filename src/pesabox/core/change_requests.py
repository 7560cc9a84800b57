"""Change requests (CRQs): raised by a business, decided by platform operators, implemented
by pesabox (docs/concepts/change-requests.md).

CRQs, their trail and the go-live codes live in the platform database; what approval
implements is written to the production database through the production Platform's writer.
The two databases never share a db transaction, so each implementation is idempotent and
recorded on the CRQ first: a retry finishes the same work instead of doing it twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from pesabox.clock import Clock, SystemClock
from pesabox.core.crq_certificates import PlatformCa
from pesabox.core.go_live import GoLive, ProductionKeys
from pesabox.domain import change_requests as crq
from pesabox.domain.change_requests import (
    Action,
    Actor,
    Business,
    ChangeRequest,
    ChangeRequestError,
    ChangeRequestNotFound,
    IllegalTransition,
    Kind,
    Payload,
    State,
    TrailEvent,
)
from pesabox.storage import applications_store, c2b_store, change_requests_store, parties_store
from pesabox.storage.db import read_transaction
from pesabox.storage.types import Connection, Engine
from pesabox.storage.writer import LedgerWriter

if TYPE_CHECKING:
    from pesabox.core.platform import Platform

T = TypeVar("T")
# A clash of 12 random digits is rare; a few draws make a failure to find a free one absurd.
_NUMBER_DRAWS = 5

__all__ = [
    "BusinessDirectory",
    "CertificateIssuer",
    "ChangeRequestDetail",
    "ChangeRequestService",
    "Environment",
    "OnboardedBusinesses",
    "ProductionKeys",
    "change_request_service",
]


class CertificateIssuer(Protocol):
    def check(self, csr_pem: str, *, organisation_name: str, organisation_id: int) -> None:
        """Raise ChangeRequestError when the CA would refuse `csr_pem` for the organisation."""
        ...

    def issue(
        self,
        conn: Connection,
        *,
        csr_pem: str,
        organisation_name: str,
        organisation_id: int,
        number: str,
        now: float,
    ) -> str:
        """Sign `csr_pem` and record the certificate (in the platform database, inside the
        db transaction that implements the CRQ); the certificate's PEM."""
        ...


class BusinessDirectory(Protocol):
    def business_of(self, conn: Connection, organisation_id: int) -> Business | None:
        """The business behind a production organisation, read from the platform database."""
        ...


@dataclass(frozen=True, slots=True)
class Environment:
    """One environment's database and its writer: the platform's or production's."""

    engine: Engine
    writer: LedgerWriter
    clock: Clock

    @classmethod
    def of(cls, platform: Platform) -> Environment:
        return cls(engine=platform.engine, writer=platform.writer, clock=platform.clock)


@dataclass(frozen=True, slots=True)
class ChangeRequestDetail:
    request: ChangeRequest
    trail: list[TrailEvent]


class ChangeRequestService:
    def __init__(
        self,
        *,
        platform: Environment,
        production: Environment,
        businesses: BusinessDirectory,
        certificates: CertificateIssuer,
        wall_clock: Clock | None = None,
        support_contact: str | None = None,
    ) -> None:
        self._platform = platform
        self._production = production
        self._businesses = businesses
        self._certificates = certificates
        # The trail and the codes' lifetimes are in wall time: people act in real time,
        # whatever the sandbox clock says.
        self._wall = wall_clock or SystemClock()
        self.go_live = GoLive(
            platform=platform.writer, production=production.writer,
            production_clock=production.clock, wall_clock=self._wall,
            businesses=businesses.business_of, support_contact=support_contact,
        )  # fmt: skip

    # --- reading ----------------------------------------------------------------------

    async def queue(
        self, *, state: State | None = None, kind: Kind | None = None, limit: int = 100
    ) -> list[ChangeRequest]:
        """The platform operators' queue, newest first."""
        return await self._read(
            lambda conn: change_requests_store.list_change_requests(
                conn, state=state, kind=kind, limit=limit
            )
        )

    async def of_organisation(self, organisation_id: int) -> list[ChangeRequest]:
        return await self._read(
            lambda conn: change_requests_store.list_change_requests(
                conn, organisation_id=organisation_id
            )
        )

    async def of_developer(self, developer_id: int) -> list[ChangeRequest]:
        return await self._read(
            lambda conn: change_requests_store.list_change_requests(conn, developer_id=developer_id)
        )

    async def detail(self, number: str) -> ChangeRequestDetail:
        """One CRQ and its trail; ChangeRequestNotFound when there is none."""

        def read(conn: Connection) -> ChangeRequestDetail | None:
            request = change_requests_store.get_change_request(conn, number)
            if request is None:
                return None
            return ChangeRequestDetail(request, change_requests_store.events(conn, number))

        found = await self._read(read) if crq.is_number(number) else None
        if found is None:
            raise ChangeRequestNotFound(f"there is no change request {number}")
        return found

    async def certificate_pem(self, number: str) -> str:
        """The signed certificate of an implemented certificate CRQ."""
        request = (await self.detail(number)).request
        if request.kind is not Kind.CERTIFICATE or request.certificate_pem is None:
            raise ChangeRequestError(f"{number} has no signed certificate (yet)")
        return request.certificate_pem

    # --- submitting -------------------------------------------------------------------

    async def submit(
        self,
        *,
        requester: Actor,
        organisation_id: int,
        shortcode: str,
        payload: Payload,
        developer_id: int | None = None,
    ) -> ChangeRequest:
        """A new CRQ, submitted; refused (and nothing made) when it could never be approved."""
        business = await self._business(organisation_id)
        if shortcode not in business.shortcodes:
            raise ChangeRequestError(f"shortcode {shortcode} is not {business.name}'s")
        if developer_id is not None and business.developer_id != developer_id:
            raise ChangeRequestError(f"{business.name} is not this developer's business")
        if isinstance(payload, crq.CertificateSigning):
            payload = await asyncio.to_thread(_reencoded, payload)
            await asyncio.to_thread(
                self._certificates.check, payload.csr_pem,
                organisation_name=business.name, organisation_id=organisation_id,
            )  # fmt: skip
        if isinstance(payload, crq.UrlChange):
            await self._url_change_target(organisation_id, shortcode)
        now = self._wall.now()
        numbers = [crq.new_number() for _ in range(_NUMBER_DRAWS)]

        def job(conn: Connection) -> str:
            number = next(
                (n for n in numbers if not change_requests_store.number_taken(conn, n)), None
            )
            if number is None:
                raise ChangeRequestError("no free CRQ number was drawn; try again")
            change_requests_store.insert_change_request(
                conn, number=number, kind=crq.KIND_OF[type(payload)],
                organisation_id=organisation_id, shortcode=shortcode, requester=requester,
                developer_id=developer_id, payload=crq.payload_fields(payload), now=now,
            )  # fmt: skip
            return number

        number = await self._platform.writer.submit(job)
        return (await self.detail(number)).request

    # --- deciding ---------------------------------------------------------------------

    async def review(self, number: str, actor: Actor) -> ChangeRequest:
        return await self._move(number, Action.REVIEW, actor)

    async def reject(self, number: str, actor: Actor, reason: str) -> ChangeRequest:
        reason = crq.reason_text(reason)
        return await self._move(number, Action.REJECT, actor, text=reason, reason=reason)

    async def withdraw(self, number: str, actor: Actor) -> ChangeRequest:
        request = (await self.detail(number)).request
        if actor != request.requester:
            raise ChangeRequestError("only the requester may withdraw a CRQ")
        return await self._move(number, Action.WITHDRAW, actor)

    async def comment(self, number: str, actor: Actor, text: str) -> TrailEvent:
        text = crq.reason_text(text, what="comment")
        now = self._wall.now()

        def job(conn: Connection) -> None:
            if change_requests_store.get_change_request(conn, number) is None:
                raise ChangeRequestNotFound(f"there is no change request {number}")
            change_requests_store.add_event(
                conn, number, actor=actor, action=Action.COMMENT.value, text=text, now=now
            )

        await self._platform.writer.submit(job)
        return (await self.detail(number)).trail[-1]

    async def approve(self, number: str, actor: Actor, text: str | None = None) -> ChangeRequest:
        """Approve, then implement what can be implemented at once: a certificate is signed
        in the same db transaction; URLs are replaced in production; a go-live sends its
        code and waits for it."""
        crq.check_mover(Action.APPROVE, actor)
        request = (await self.detail(number)).request
        crq.next_state(request.state, Action.APPROVE)
        # The note is optional, but one given is checked like a comment (a NUL would reach
        # PostgreSQL's text and fail there).
        note = crq.reason_text(text, what="note") if text and text.strip() else None
        if request.kind is Kind.CERTIFICATE:
            return await self._sign(request, expected=State.IN_REVIEW, approver=actor, note=note)
        if request.kind is Kind.GO_LIVE:
            await self.go_live.approve(request, actor, note)
            return (await self.detail(number)).request
        await self._move(number, Action.APPROVE, actor, text=note)
        return await self.implement(number)

    async def implement(self, number: str) -> ChangeRequest:
        """Finish an approved URL change or certificate (a retry after a failure: the work is
        idempotent). A go-live is implemented by its code (`go_live.confirm`)."""
        request = (await self.detail(number)).request
        if request.state is not State.APPROVED:
            raise IllegalTransition(f"a CRQ that is {request.state.value} cannot be implemented")
        if request.kind is Kind.URL_CHANGE:
            await self._replace_registration(request)
            return await self._move(number, Action.IMPLEMENT, crq.SYSTEM)
        if request.kind is Kind.CERTIFICATE:
            return await self._sign(request, expected=State.APPROVED, approver=None, note=None)
        raise ChangeRequestError("a go-live is implemented when its code is confirmed")

    async def send_code(self, number: str, actor: Actor) -> None:
        """A new go-live code to the Business Administrator's phone; the old one dies."""
        await self.go_live.send_code((await self.detail(number)).request, actor)

    async def confirm(self, number: str, code: str, actor: Actor) -> ProductionKeys:
        """The go-live code: right, and the production app exists (its secret shown once)."""
        return await self.go_live.confirm((await self.detail(number)).request, code, actor)

    # --- the moves --------------------------------------------------------------------

    async def _move(
        self,
        number: str,
        action: Action,
        actor: Actor,
        *,
        text: str | None = None,
        reason: str | None = None,
    ) -> ChangeRequest:
        crq.check_mover(action, actor)
        now = self._wall.now()

        def job(conn: Connection) -> None:
            change_requests_store.apply(
                conn, number, action, actor, now=now, text=text, reason=reason
            )

        await self._platform.writer.submit(job)
        return (await self.detail(number)).request

    async def _sign(
        self, request: ChangeRequest, *, expected: State, approver: Actor | None, note: str | None
    ) -> ChangeRequest:
        # Approval, signing, recording and implementation in one db transaction: a CA that
        # refuses leaves the CRQ where it was, never approved without a certificate.
        now = self._wall.now()
        number = request.number

        def job(conn: Connection) -> None:
            current = change_requests_store.get_change_request(conn, number)
            if current is None or current.state is not expected:
                state = current.state.value if current else "gone"
                raise IllegalTransition(f"{number} is {state} now; someone else acted first")
            if approver is not None:
                change_requests_store.apply(
                    conn, number, Action.APPROVE, approver, now=now, text=note
                )
            business = self._businesses.business_of(conn, request.organisation_id)
            if business is None:
                raise ChangeRequestNotFound("the organisation of this CRQ is gone")
            pem = self._certificates.issue(
                conn, csr_pem=request.payload["csr_pem"], organisation_name=business.name,
                organisation_id=business.organisation_id, number=number, now=now,
            )  # fmt: skip
            change_requests_store.set_outcome(conn, number, certificate_pem=pem)
            change_requests_store.apply(conn, number, Action.IMPLEMENT, crq.SYSTEM, now=now)

        await self._platform.writer.submit(job)
        return (await self.detail(number)).request

    # --- URL changes ------------------------------------------------------------------

    async def _url_change_target(self, organisation_id: int, shortcode: str) -> int:
        """The app a URL change registers under: the current registration's, else the
        organisation's first production app. Refused when the shortcode cannot take one."""

        def read(conn: Connection) -> int:
            record = parties_store.get_shortcode(conn, shortcode)
            if record is None or record.organisation_id != organisation_id:
                raise ChangeRequestError(f"shortcode {shortcode} is not in production")
            if "c2b" not in record.products:
                raise ChangeRequestError(f"C2B is not enabled on shortcode {shortcode}")
            registration = c2b_store.get_registration(conn, shortcode)
            if registration is not None:
                return registration.app_id
            app_id = change_requests_store.app_of_organisation(conn, organisation_id)
            if app_id is None:
                raise ChangeRequestError("go live first: the organisation has no production app")
            return app_id

        return await asyncio.to_thread(_in_read, self._production.engine, read)

    async def _replace_registration(self, request: ChangeRequest) -> None:
        change = crq.url_change_of(request)
        app_id = await self._url_change_target(request.organisation_id, request.shortcode)
        now = self._production.clock.now()

        def job(conn: Connection) -> None:
            existing = c2b_store.get_registration(conn, request.shortcode)
            registration = c2b_store.Registration(
                shortcode=request.shortcode,
                app_id=app_id,
                api_version=existing.api_version if existing else "v2",
                response_type=change.response_type,
                confirmation_url=change.confirmation_url,
                validation_url=change.validation_url,
                msisdn_format=existing.msisdn_format if existing else "masked",
                created_at=now,
                updated_at=now,
            )
            c2b_store.save_registration(conn, registration, overwrite=True)

        await self._production.writer.submit(job)

    # --- helpers ----------------------------------------------------------------------

    async def _business(self, organisation_id: int) -> Business:
        business = await self._read(
            lambda conn: self._businesses.business_of(conn, organisation_id)
        )
        if business is None:
            raise ChangeRequestNotFound(f"there is no production organisation {organisation_id}")
        return business

    async def _read(self, read: Callable[[Connection], T]) -> T:
        return await asyncio.to_thread(_in_read, self._platform.engine, read)


def _reencoded(payload: crq.CertificateSigning) -> crq.CertificateSigning:
    """The CSR as its PEM block alone, re-encoded from the parsed request: text around the
    block (junk, NULs, which PostgreSQL's text refuses) is never stored."""
    try:
        parsed = x509.load_pem_x509_csr(payload.csr_pem.encode())
    except ValueError:
        raise ChangeRequestError("the CSR is refused: it is no PEM certificate request") from None
    return crq.CertificateSigning(csr_pem=parsed.public_bytes(Encoding.PEM).decode())


def _in_read(engine: Engine, read: Callable[[Connection], T]) -> T:
    with read_transaction(engine) as conn:
        return read(conn)


class OnboardedBusinesses:
    """The businesses onboarding approved (storage/applications_store.py), as CRQs see them."""

    def business_of(self, conn: Connection, organisation_id: int) -> Business | None:
        found = applications_store.business_of(conn, organisation_id)
        if found is None:
            return None
        return Business(
            organisation_id=found.production_organisation_id,
            name=found.organisation_name,
            shortcodes=found.shortcodes,
            admin_username=found.admin_username,
            admin_phone=found.admin_phone,
            developer_id=found.developer_id,
        )


def change_request_service(
    sandbox: Platform, production: Platform, *, wall_clock: Clock | None = None
) -> ChangeRequestService:
    """The service as `pesabox serve` builds it: CRQs in the sandbox Platform's database (the
    platform database), implemented in production's, signed by the platform CA. Tests pass a
    settable `wall_clock` (the trail's times, the codes' lifetimes)."""
    return ChangeRequestService(
        platform=Environment.of(sandbox),
        production=Environment.of(production),
        businesses=OnboardedBusinesses(),
        certificates=PlatformCa(
            validity_days=sandbox.settings.client_cert_validity_days,
            reserved_hostnames=sandbox.settings.tls_hostname_list(),
        ),
        support_contact=f"{sandbox.settings.support_phone} or {sandbox.settings.support_email}",
        wall_clock=wall_clock,
    )
