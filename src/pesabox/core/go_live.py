"""Going live (mpesa-domain-and-g2.md §3.2): an approved go-live CRQ sends a one-time code to
the Business Administrator's phone; the code, confirmed, makes the production app.

The confirmation crosses two databases. The code is judged and the app's consumer key is
kept on the CRQ in one platform db transaction; the app is then made (or, on a retry, given a
new secret) under that key in production; the CRQ is marked implemented last. A failure
between the steps leaves the CRQ approved with its key: a new code finishes the same app.
That retry replaces the secret, so it must never overlap a confirmation still finishing (whose
secret it would kill after it was shown): for CONFIRM_LEASE_S after a code is accepted, the
CRQ takes no new code and no confirmation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pesabox.clock import Clock
from pesabox.domain import one_time_codes as otp
from pesabox.domain.change_requests import (
    SYSTEM,
    Action,
    Actor,
    Business,
    ChangeRequest,
    ChangeRequestError,
    ChangeRequestNotFound,
    CodeRefused,
    IllegalTransition,
    Kind,
    State,
    go_live_of,
)
from pesabox.security.credentials import new_consumer_credentials, secret_digest
from pesabox.storage import change_requests_store as store
from pesabox.storage import parties_store
from pesabox.storage.types import Connection
from pesabox.storage.writer import LedgerWriter

# Who the code's SMS comes from on the handset.
SMS_SENDER = "SAFARICOM"
_NO_CODE = "no code"
# Wall time a confirmation has to make its app and finish the CRQ before a retry may begin.
CONFIRM_LEASE_S = 60.0
_BUSY = "{number} is being confirmed right now; if it does not finish, try again in a minute"


@dataclass(frozen=True, slots=True)
class ProductionKeys:
    """The production app made by a go-live; the secret exists only in this answer."""

    number: str
    app_id: int
    consumer_key: str
    consumer_secret: str


def code_message(*, code: str, number: str, shortcode: str) -> str:
    """The SMS: the code, what it confirms and for how long; nothing else secret."""
    minutes = int(otp.LIFETIME_S // 60)
    return (
        f"{code} is your Daraja Go Live code for {number}, shortcode {shortcode}. "
        f"It expires in {minutes} minutes. Do not share it with anyone."
    )


def _masked(msisdn: str) -> str:
    return f"{msisdn[:4]}*****{msisdn[-3:]}"


_REFUSALS = {
    otp.Verdict.EXHAUSTED: "the code is wrong, and that was the last try: ask for a new code",
    otp.Verdict.EXPIRED: "the code has expired: ask for a new code",
    otp.Verdict.DEAD: "the code is no longer valid (used, replaced or tried too often): "
    "ask for a new code",
    _NO_CODE: "no code has been sent for this change request",
}


class GoLive:
    def __init__(
        self,
        *,
        platform: LedgerWriter,
        production: LedgerWriter,
        production_clock: Clock,
        wall_clock: Clock,
        businesses: Callable[[Connection, int], Business | None],
        support_contact: str | None = None,
    ) -> None:
        self._support = (
            f"contact support on {support_contact}" if support_contact else ("contact support")
        )
        self._platform = platform
        self._production = production
        self._production_clock = production_clock
        self._wall = wall_clock
        self._businesses = businesses

    async def approve(self, request: ChangeRequest, actor: Actor, note: str | None) -> None:
        """Approve and send the first code, in one db transaction."""
        now = self._wall.now()

        def job(conn: Connection) -> None:
            store.apply(conn, request.number, Action.APPROVE, actor, now=now, text=note)
            self._issue_code(conn, request, actor, now=now)

        await self._platform.submit(job)

    async def send_code(self, request: ChangeRequest, actor: Actor) -> None:
        _check_go_live(request)
        now = self._wall.now()

        def job(conn: Connection) -> None:
            current = store.get_change_request(conn, request.number)
            if current is None or current.state is not State.APPROVED:
                raise IllegalTransition(f"{request.number} is not waiting for its code")
            _check_not_finishing(conn, request.number, now=now)
            self._issue_code(conn, request, actor, now=now)

        await self._platform.submit(job)

    def _issue_code(
        self, conn: Connection, request: ChangeRequest, actor: Actor, *, now: float
    ) -> None:
        business = self._businesses(conn, request.organisation_id)
        if business is None:
            raise ChangeRequestNotFound("the organisation of this CRQ is gone")
        usage = store.code_usage(conn, request.number, since=now - otp.CODE_WINDOW_S)
        if (refusal := otp.new_code_refusal(usage)) is not None:
            raise CodeRefused(f"no new code for {request.number}: {refusal}; {self._support}")
        code, salt = otp.new_code(), otp.new_salt()
        store.replace_code(
            conn, subject=request.number, msisdn=business.admin_phone, salt=salt,
            digest=otp.code_digest(code, salt), expires_at=now + otp.LIFETIME_S, now=now,
        )  # fmt: skip
        body = code_message(code=code, number=request.number, shortcode=request.shortcode)
        parties_store.add_sms(
            conn, msisdn=business.admin_phone, sender=SMS_SENDER, body=body, now=now
        )
        store.add_event(
            conn, request.number, actor=actor, action=Action.CODE_SENT.value, now=now,
            text=f"code sent to {business.admin_username} on {_masked(business.admin_phone)}",
        )  # fmt: skip

    async def confirm(self, request: ChangeRequest, code: str, actor: Actor) -> ProductionKeys:
        _check_go_live(request)
        if request.state is not State.APPROVED:
            raise IllegalTransition(
                f"{request.number} is {request.state.value}: only an approved go-live takes a code"
            )
        new_key, secret = new_consumer_credentials()
        key = await self._judge(request.number, code, new_key, actor)
        wanted = go_live_of(request)
        now = self._production_clock.now()

        def make_app(conn: Connection) -> int:
            return store.ensure_production_app(
                conn, name=wanted.app_name, consumer_key=key, secret_digest=secret_digest(secret),
                products=wanted.products, organisation_id=request.organisation_id, now=now,
            )  # fmt: skip

        app_id = await self._production.submit(make_app)
        wall_now = self._wall.now()

        def finish(conn: Connection) -> None:
            store.set_outcome(conn, request.number, app_id=app_id)
            store.apply(
                conn, request.number, Action.IMPLEMENT, SYSTEM, now=wall_now,
                text=f"code confirmed by {actor.name}; production app {app_id}",
            )  # fmt: skip

        await self._platform.submit(finish)
        return ProductionKeys(request.number, app_id, key, secret)

    async def _judge(self, number: str, code: str, new_key: str, actor: Actor) -> str:
        """Count the try; the CRQ's app key when the code is right, CodeRefused otherwise."""
        now = self._wall.now()

        def job(conn: Connection) -> tuple[otp.Verdict | str, int, str | None]:
            current = store.get_change_request(conn, number)
            if current is None or current.state is not State.APPROVED:
                raise IllegalTransition(f"{number} is not waiting for its code")
            _check_not_finishing(conn, number, now=now)
            usage = store.code_usage(conn, number, since=now)
            if (refusal := otp.too_many_tries(usage)) is not None:
                raise CodeRefused(f"no more tries for {number}: {refusal}; {self._support}")
            row = store.latest_code(conn, number)
            if row is None:
                return _NO_CODE, 0, None
            verdict = otp.judge(row.code, code, now=now)
            left = otp.ATTEMPTS_MAX - row.code.attempts - 1
            if verdict in (otp.Verdict.EXPIRED, otp.Verdict.DEAD):
                return verdict, 0, None
            dead = verdict is not otp.Verdict.WRONG
            if not store.record_try(conn, row.id, attempts_seen=row.code.attempts, dead=dead):
                return otp.Verdict.DEAD, 0, None
            if verdict is not otp.Verdict.ACCEPTED:
                return verdict, left, None
            store.add_event(
                conn, number, actor=actor, action=Action.CODE_CONFIRMED.value, now=now,
                text=f"code confirmed by {actor.name}",
            )  # fmt: skip
            return verdict, left, store.claim_app_key(conn, number, new_key)

        verdict, left, key = await self._platform.submit(job)
        if key is not None:
            return key
        if verdict is otp.Verdict.WRONG:
            raise CodeRefused(f"the code is wrong; {left} {'try' if left == 1 else 'tries'} left")
        raise CodeRefused(_REFUSALS[verdict])


def _check_not_finishing(conn: Connection, number: str, *, now: float) -> None:
    accepted_at = store.last_event_at(conn, number, Action.CODE_CONFIRMED.value)
    if accepted_at is not None and now < accepted_at + CONFIRM_LEASE_S:
        raise CodeRefused(_BUSY.format(number=number))


def _check_go_live(request: ChangeRequest) -> None:
    if request.kind is not Kind.GO_LIVE:
        raise ChangeRequestError(f"{request.number} is not a go-live request")
