"""The asynchronous side of C2B: URL registration, customer payments from every entry point,
the validation request and its answer, and the sweeper for payments whose answer never came.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.exc import IntegrityError

from pesabox.callbacks.delivery import RETRY, CallbackSender, HttpAttempt, rewrite_url
from pesabox.callbacks.leased import record_exchange
from pesabox.callbacks.queries import ClaimedCallback
from pesabox.clock import Clock
from pesabox.domain import c2b
from pesabox.domain.services import c2b_payment
from pesabox.domain.services.c2b_payment import C2bContext, Outcome, PaymentOrder
from pesabox.errors import C2bBadRequest, UrlsAlreadyRegistered
from pesabox.ids import receipt_number
from pesabox.sandbox.runtime import SandboxRuntime
from pesabox.sandbox.scenarios import ValidationMode
from pesabox.settings import Settings
from pesabox.storage import c2b_store, parties_store
from pesabox.storage.c2b_store import Payment
from pesabox.storage.db import read_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.types import Connection, Engine
from pesabox.storage.writer import LedgerWriter

log = logging.getLogger(__name__)
# A fresh receipt is drawn when one collides with an existing TransID (10 random characters
# a day make that rare, never impossible).
_OPEN_ATTEMPTS = 3
UNREACHABLE_SCENARIO_ERROR = "scenario: the ValidationURL cannot be reached"
_VALIDATION_CONNECTIONS = 512
# A validation answer is a small JSON object; this reads any sane one whole.
VALIDATION_REPLY_CHARS_MAX = 16_384
ABANDONED_ERROR = "no answer recorded: the process asking stopped; ResponseType decided"
# Pay Bill goes to a PayBill number; Buy Goods to a till (or its store, the head office).
_RECEIVER_KINDS = {c2b.PAY_BILL: ("paybill",), c2b.BUY_GOODS: ("till", "store")}


@dataclass(frozen=True, slots=True)
class RegisterCommand:
    shortcode: str
    response_type: str
    confirmation_url: str
    validation_url: str
    api_version: str


class C2bService:
    def __init__(
        self,
        *,
        engine: Engine,
        writer: LedgerWriter,
        ledger: LedgerStore,
        clock: Clock,
        runtime: SandboxRuntime,
        settings: Settings,
        shortcodes: parties_store.ShortcodeCache,
        on_confirmation: Callable[[ClaimedCallback | None], None],
        # Validation requests go out like callbacks, with the same client certificate.
        callback_tls: ssl.SSLContext | None = None,
    ) -> None:
        self._engine = engine
        self._writer = writer
        self._clock = clock
        self._runtime = runtime
        self._settings = settings
        self._shortcodes = shortcodes
        self._on_confirmation = on_confirmation
        self._context = C2bContext(
            ledger=ledger,
            max_callback_attempts=settings.callback_max_attempts,
            validation_timeout_s=settings.c2b_validation_timeout_s,
            bonga_points_per_100_kes=settings.bonga_points_per_100_kes,
        )
        self._rules = settings.rewrite_rules()
        # The business must answer within the timeout, so that is the sender's whole budget.
        # Its own pool, larger than the dispatcher's: time spent waiting for a free connection
        # counts against the business's timeout, so pesabox's pool must not be what times out.
        # The whole answer is read (up to a bound) since the platform acts on it.
        self._sender = CallbackSender(
            timeout_s=settings.c2b_validation_timeout_s,
            connection_limit=max(_VALIDATION_CONNECTIONS, settings.callback_concurrency),
            reply_chars_max=VALIDATION_REPLY_CHARS_MAX,
            tls=callback_tls,
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        self._inflight: set[str] = set()

    def deliver_from_here(self, lease_s: float) -> None:
        """This process runs a dispatcher: write confirmations leased to it."""
        self._context = replace(self._context, claim_lease_s=lease_s)

    async def start(self) -> None:
        await self._sender.open()

    async def stop(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self._sender.close()

    # --- registration -----------------------------------------------------------------

    async def register_urls(self, command: RegisterCommand, *, app_id: int) -> None:
        shortcode = await self.shortcode(command.shortcode)
        if shortcode is None:
            raise C2bBadRequest("ShortCode", "no such shortcode")
        if "c2b" not in shortcode.products:
            raise C2bBadRequest("ShortCode", "C2B is not enabled on this shortcode")
        now = self._clock.now()
        registration = c2b_store.Registration(
            shortcode=command.shortcode,
            app_id=app_id,
            api_version=command.api_version,
            response_type=command.response_type,
            confirmation_url=command.confirmation_url,
            validation_url=command.validation_url,
            msisdn_format=c2b.DEFAULT_MSISDN_FORMAT[command.api_version],
            created_at=now,
            updated_at=now,
        )
        overwrite = self._settings.environment == "sandbox"

        def job(conn: Connection) -> bool:
            return c2b_store.save_registration(conn, registration, overwrite=overwrite)

        if not await self._writer.submit(job):
            raise UrlsAlreadyRegistered()

    # --- payments ---------------------------------------------------------------------

    async def pay(self, order: PaymentOrder, *, wait: bool) -> Outcome:
        """Start a payment; with `wait`, return only once validation (if any) decided it."""
        _check_receiver(await self.shortcode(order.shortcode), order)
        if self._settings.environment == "sandbox":
            order = replace(
                order,
                scenario=self._runtime.match(msisdn=order.msisdn, amount_cents=order.amount_cents),
            )
        outcome = await self._open(order)
        self._on_confirmation(outcome.callback)
        if outcome.replayed or outcome.payment.status != c2b.PaymentStatus.VALIDATING:
            return outcome
        task = self._start_validation(outcome.payment)
        if not wait:
            return outcome
        return await asyncio.shield(task)

    async def _open(self, order: PaymentOrder) -> Outcome:
        for attempt in range(1, _OPEN_ATTEMPTS + 1):
            now = self._clock.now()
            trans_id = receipt_number(now)

            def job(conn: Connection, trans_id: str = trans_id, now: float = now) -> Outcome:
                return c2b_payment.open_payment(
                    conn, self._context, order, trans_id=trans_id, now=now
                )

            try:
                return await self._writer.submit(job)
            except IntegrityError:
                # A receipt that exists already, or a concurrent request with the same
                # Idempotency-Key: the next round draws a new receipt or finds that payment.
                if attempt == _OPEN_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def _start_validation(self, payment: Payment) -> asyncio.Task[Outcome]:
        self._inflight.add(payment.trans_id)
        task = asyncio.get_running_loop().create_task(self._validate(payment))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _: self._inflight.discard(payment.trans_id))
        task.add_done_callback(_log_failure)
        return task

    async def _validate(self, payment: Payment) -> Outcome:
        """Ask the business, then decide; the payment as it ends up."""
        payload = c2b_payment.validation_payload(payment)
        registered_url = payment.validation_url or ""
        url = rewrite_url(registered_url, self._rules)
        started = self._clock.now()
        attempt = await self._ask(payment.validation_mode, url, payload)
        answer = _answer(attempt)
        # The payee's name comes from this process's shortcode cache: one read fewer inside
        # the writer's db transaction, which is what every payment queues for.
        shortcode = await self.shortcode(payment.shortcode)
        payee = shortcode.organisation_name if shortcode else None

        def job(conn: Connection) -> Outcome | None:
            record_exchange(
                conn,
                transaction_id=payment.trans_id,
                kind=c2b_payment.VALIDATION,
                url=registered_url,
                target_url=url,
                payload=payload,
                attempt=attempt,
                started_at=started,
            )
            return c2b_payment.decide_payment(
                conn, self._context, payment.trans_id, answer, now=self._clock.now(), payee=payee
            )

        # A failure here leaves the payment validating: the sweeper decides it by ResponseType.
        decided = await self._writer.submit(job)
        if decided is None:
            # Decided elsewhere (the sweeper, after a slow answer): report what it became.
            return Outcome(await self.payment(payment.trans_id) or payment)
        self._on_confirmation(decided.callback)
        return decided

    async def _ask(self, mode: str, url: str, payload: str) -> HttpAttempt:
        timeout_s = self._settings.c2b_validation_timeout_s
        if mode == ValidationMode.DOWN:
            return HttpAttempt(None, 0.0, None, UNREACHABLE_SCENARIO_ERROR, RETRY)
        if mode == ValidationMode.SLOW:
            # The business's server is too slow: nothing usable arrives before the timeout.
            started = time.perf_counter()
            await asyncio.sleep(timeout_s)
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            return HttpAttempt(
                None, elapsed_ms, None, f"timeout after {timeout_s:g} s (scenario)", RETRY
            )
        return await self._sender.post(url, payload)

    async def settle_overdue(self, *, grace_s: float) -> int:
        """Apply ResponseType to payments whose validation answer never came (this or another
        process stopped while waiting). Returns how many were decided."""
        deadline_before = self._clock.now() - grace_s

        def read(conn: Connection) -> list[str]:
            return c2b_store.overdue_validations(conn, deadline_before=deadline_before, limit=1000)

        overdue = await asyncio.to_thread(self._read, read)
        decided = 0
        no_answer = c2b.ValidationAnswer(None, c2b.NO_ANSWER_TIMEOUT)
        for trans_id in overdue:
            if trans_id in self._inflight:
                continue

            def job(conn: Connection, trans_id: str = trans_id) -> Outcome | None:
                now = self._clock.now()
                outcome = c2b_payment.decide_payment(
                    conn, self._context, trans_id, no_answer, now=now
                )
                if outcome is not None:
                    _record_unanswered(conn, outcome.payment, now=now)
                return outcome

            try:
                outcome = await self._writer.submit(job)
            except Exception:
                # One payment that cannot be decided must not stop the others' holds from
                # being released; it is tried again at the next sweep.
                log.exception("deciding overdue C2B payment %s failed", trans_id)
                continue
            if outcome is not None:
                decided += 1
                self._on_confirmation(outcome.callback)
        return decided

    async def set_msisdn_format(self, shortcode: str, msisdn_format: str) -> bool:
        now = self._clock.now()

        def job(conn: Connection) -> bool:
            return c2b_store.set_msisdn_format(conn, shortcode, msisdn_format, now)

        return await self._writer.submit(job)

    # --- reads ------------------------------------------------------------------------

    async def list_registrations(self) -> list[c2b_store.Registration]:
        return await asyncio.to_thread(self._read, c2b_store.list_registrations)

    async def list_payments(
        self, *, shortcode: str | None, msisdn: str | None, limit: int
    ) -> list[Payment]:
        def read(conn: Connection) -> list[Payment]:
            return c2b_store.list_payments(conn, shortcode=shortcode, msisdn=msisdn, limit=limit)

        return await asyncio.to_thread(self._read, read)

    async def payment(self, trans_id: str) -> Payment | None:
        def read(conn: Connection) -> Payment | None:
            return c2b_store.get_payment(conn, trans_id)

        return await asyncio.to_thread(self._read, read)

    async def shortcode(self, shortcode: str) -> parties_store.ShortcodeRecord | None:
        now = self._clock.now()
        hit, record = self._shortcodes.cached(shortcode, now)
        if hit:
            return record

        def read(conn: Connection) -> parties_store.ShortcodeRecord | None:
            return self._shortcodes.lookup(conn, shortcode, now)

        return await asyncio.to_thread(self._read, read)

    def _read(self, query: Callable[[Connection], Any]) -> Any:
        with read_transaction(self._engine) as conn:
            return query(conn)


def _check_receiver(shortcode: parties_store.ShortcodeRecord | None, order: PaymentOrder) -> None:
    number_field, kind_field = _receiver_fields(order)
    if shortcode is None:
        raise C2bBadRequest(number_field, "no such shortcode")
    if "c2b" not in shortcode.products:
        raise C2bBadRequest(number_field, "C2B is not enabled on this shortcode")
    wanted = _RECEIVER_KINDS[order.transaction_type]
    if shortcode.kind not in wanted:
        raise C2bBadRequest(
            kind_field, f"{shortcode.shortcode} is a {shortcode.kind}, not a {wanted[0]}"
        )


def _log_failure(task: asyncio.Task[Outcome]) -> None:
    # A validation started by simulate has no one awaiting it; its failure is logged here
    # (the sweeper then decides the payment), never left as "exception never retrieved".
    if not task.cancelled() and task.exception() is not None:
        log.error("a C2B validation task failed", exc_info=task.exception())


def _record_unanswered(conn: Connection, payment: Payment, *, now: float) -> None:
    # The process that asked stopped before recording the exchange; the inspector still shows
    # that the business was (or may have been) asked and what became of it.
    record_exchange(
        conn,
        transaction_id=payment.trans_id,
        kind=c2b_payment.VALIDATION,
        url=payment.validation_url or "",
        target_url=payment.validation_url or "",
        payload=c2b_payment.validation_payload(payment),
        attempt=HttpAttempt(None, 0.0, None, ABANDONED_ERROR, "give_up"),
        started_at=now,
    )


def _receiver_fields(order: PaymentOrder) -> tuple[str, str]:
    """The request fields that name the receiver and its kind, for the error message."""
    if order.channel == "simulate":
        return "ShortCode", "CommandID"
    if order.channel == "qr":
        return "payload", "payload"
    number = "business_number" if order.transaction_type == c2b.PAY_BILL else "till_number"
    return number, number


def _answer(attempt: HttpAttempt) -> c2b.ValidationAnswer:
    if attempt.status_code is None:
        timed_out = attempt.error is not None and attempt.error.startswith("timeout")
        marker = c2b.NO_ANSWER_TIMEOUT if timed_out else c2b.NO_ANSWER_UNREACHABLE
        return c2b.ValidationAnswer(None, marker)
    return c2b.read_validation_answer(attempt.status_code, attempt.response_excerpt)
