"""The asynchronous side of the initiator APIs (B2C now; B2B, balance, status and reversal use
the same path): accept and queue, check the initiator, process in the ledger writer, and POST
the Result; a request left queued past the queue timeout gets the QueueTimeOutURL instead.

The SecurityCredential is never stored: it is checked while the request is processed, from
memory. A request whose process stopped before that can no longer be checked, which is what
the queue timeout is for.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pesabox.callbacks import leased
from pesabox.callbacks.queries import ClaimedCallback
from pesabox.clock import Clock
from pesabox.domain import b2b
from pesabox.domain.operators import (
    InitiatorOutcome,
    InitiatorVerdict,
    OperatorKind,
    OperatorRole,
    password_expired,
)
from pesabox.domain.results import Outcome, queue_timeout_payload, result_payload
from pesabox.domain.services import b2b_transfer, b2c_payout, reversal
from pesabox.domain.services.account_balance import query as query_balance
from pesabox.domain.services.transaction_status import query as query_status
from pesabox.errors import PesaError
from pesabox.ids import conversation_id, receipt_number
from pesabox.sandbox.runtime import SandboxRuntime
from pesabox.sandbox.scenarios import Action, Scenario
from pesabox.security.credential_check import CredentialDecryptor, looks_well_formed
from pesabox.security.initiator_auth import check_initiator
from pesabox.settings import Settings
from pesabox.storage import certificates_store, initiator_store, operators_store
from pesabox.storage.db import read_transaction
from pesabox.storage.initiator_store import InitiatorRequest
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.types import Connection, Engine
from pesabox.storage.writer import LedgerWriter

log = logging.getLogger(__name__)

# The role each API needs (daraja-api.md §19: 21 without it).
ROLES = {
    "b2c": OperatorRole("ORG B2C API initiator"),
    "b2pochi": OperatorRole("ORG B2C API initiator"),
    "balance": OperatorRole("Balance Query ORG API"),
    "status": OperatorRole("Transaction Status query ORG API"),
    "b2b": OperatorRole("Org B2B API Initiator"),
    "tax": OperatorRole("Org B2B API Initiator"),
    "reversal": OperatorRole("Org Reversals Initiator"),
}
# What processes each API inside the writer.
Processor = Callable[[Connection, LedgerStore, InitiatorRequest, float], Outcome]
PROCESSORS: dict[str, Processor] = {
    "balance": lambda conn, ledger, request, now: query_balance(conn, ledger, request, now=now),
    "status": lambda conn, ledger, request, now: query_status(conn, ledger, request, now=now),
    "b2c": lambda conn, ledger, request, now: b2c_payout.pay_out(conn, ledger, request, now=now),
    "b2pochi": lambda conn, ledger, request, now: b2c_payout.pay_out(
        conn, ledger, request, now=now
    ),
    "b2b": lambda conn, ledger, request, now: b2b_transfer.transfer(conn, ledger, request, now=now),
    "tax": lambda conn, ledger, request, now: b2b_transfer.remit_tax(
        conn, ledger, request, now=now
    ),
    "reversal": lambda conn, ledger, request, now: reversal.reverse(conn, ledger, request, now=now),
}
# How an API words a refusal of its initiator (code, description, now); B2C's is the default.
REFUSALS: dict[str, Callable[[str, str, float], Outcome]] = {
    "b2b": b2b.refused,
    "tax": b2b.refused,
}
CUSTOMER_PAYOUTS = frozenset({"b2c", "b2pochi"})
RESULT = "result"
# Callback kinds are `<api>_<kind>` in a 16-character column: "reversal_timeout" fits.
QUEUE_TIMEOUT = "timeout"


class DuplicateOriginatorConversationID(PesaError):
    """The app sent this OriginatorConversationID before, with a different request."""

    http_status = 500
    error_code = "500.002.1001"
    error_message = "Duplicate OriginatorConversationID."


@dataclass(frozen=True, slots=True)
class Submission:
    """A checked request, before it has a ConversationID."""

    api: str
    originator_conversation_id: str | None
    command_id: str
    initiator: str
    party_a: str
    party_b: str | None
    amount_cents: int | None
    remarks: str
    occasion: str
    result_url: str
    queue_timeout_url: str
    details: str
    request_digest: str


class InitiatorService:
    def __init__(
        self,
        *,
        engine: Engine,
        writer: LedgerWriter,
        ledger: LedgerStore,
        clock: Clock,
        runtime: SandboxRuntime,
        settings: Settings,
        on_callback: Callable[[ClaimedCallback | None], None],
    ) -> None:
        self._engine = engine
        self._runtime = runtime
        self._writer = writer
        self._ledger = ledger
        self._clock = clock
        self._settings = settings
        self._on_callback = on_callback
        self._decryptor: CredentialDecryptor | None = None
        self._lease_s: float | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._inflight: set[str] = set()

    def deliver_from_here(self, lease_s: float) -> None:
        self._lease_s = lease_s

    async def start(self) -> None:
        """Load the environments' keys once, before the first request needs them (the
        certificates exist by now: the platform makes them first)."""
        await asyncio.to_thread(self._credential_decryptor)

    async def stop(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- accepting --------------------------------------------------------------------

    async def submit(
        self, submission: Submission, *, app_id: int, credential: str
    ) -> InitiatorRequest:
        """Queue the request and start processing it; the row to acknowledge with. A replay
        of the same request returns the first one's row and starts nothing."""
        now = self._clock.now()
        new_id = conversation_id(now)
        # A caller that sends no id of its own (B2C v1, most queries) gets a fresh one.
        originator = submission.originator_conversation_id or f"{new_id[-12:]}-{app_id}"
        row = InitiatorRequest(
            conversation_id=new_id,
            originator_conversation_id=originator,
            app_id=app_id,
            api=submission.api,
            command_id=submission.command_id,
            initiator=submission.initiator,
            party_a=submission.party_a,
            party_b=submission.party_b,
            amount_cents=submission.amount_cents,
            remarks=submission.remarks,
            occasion=submission.occasion,
            result_url=submission.result_url,
            queue_timeout_url=submission.queue_timeout_url,
            details=submission.details,
            request_digest=submission.request_digest,
            status=initiator_store.QUEUED,
            result_code=None,
            result_desc=None,
            transaction_id=None,
            created_at=now,
            completed_at=None,
        )

        def job(conn: Connection) -> InitiatorRequest | None:
            if initiator_store.insert(conn, row):
                return None
            return initiator_store.by_originator(conn, app_id, originator)

        earlier = await self._writer.submit(job)
        if earlier is not None:
            if earlier.request_digest != row.request_digest:
                raise DuplicateOriginatorConversationID()
            return earlier
        self._start(row, credential)
        return row

    def _start(self, row: InitiatorRequest, credential: str) -> None:
        self._inflight.add(row.conversation_id)
        task = asyncio.get_running_loop().create_task(self._process(row, credential))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _: self._inflight.discard(row.conversation_id))
        task.add_done_callback(_log_failure)

    # --- processing -------------------------------------------------------------------

    async def _process(self, row: InitiatorRequest, credential: str) -> None:
        if self._stays_queued(row):
            # Left queued on purpose: the queue timeout reports it to the QueueTimeOutURL.
            return
        verdict = await asyncio.to_thread(self._verify, row, credential)
        processor = PROCESSORS[row.api]

        def job(conn: Connection) -> ClaimedCallback | None:
            now = self._clock.now()
            checked = self._still_unlocked(conn, row, verdict)
            if checked.ok:
                outcome = processor(conn, self._ledger, row, now)
            elif row.api in REFUSALS:
                refuse = REFUSALS[row.api]
                outcome = refuse(str(checked.result_code), checked.result_description, now)
            else:
                # Daraja's failed Results still carry a TransactionID (§6.3).
                outcome = Outcome(
                    str(checked.result_code), checked.result_description, receipt_number(now)
                )
            return self._report(conn, row, outcome, now=now)

        self._on_callback(await self._writer.submit(job))

    def _scenario(self, row: InitiatorRequest) -> Scenario | None:
        # Scenarios match a customer (PartyB) and an amount: only payouts to a customer have
        # one (B2B's PartyB is a shortcode, and an amount-only rule must not catch it).
        if (
            self._settings.environment != "sandbox"
            or row.api not in CUSTOMER_PAYOUTS
            or row.party_b is None
        ):
            return None
        return self._runtime.match(msisdn=row.party_b, amount_cents=row.amount_cents or 0)

    def _behaviour(self, row: InitiatorRequest) -> leased.CallbackBehaviour:
        """The scenario's say over the Result (never sent, failing N times, held back)."""
        scenario = self._scenario(row)
        if scenario is None:
            return leased.CallbackBehaviour()
        return leased.CallbackBehaviour(
            scenario.callback_mode, scenario.callback_fail_times, scenario.callback_delay_s
        )

    def _stays_queued(self, row: InitiatorRequest) -> bool:
        """The sandbox's `expire` rules (254711000005, KES 1019) make a request that pays a
        customer wait in M-Pesa's queue until it times out, as a slow core would."""
        scenario = self._scenario(row)
        return scenario is not None and scenario.action == Action.EXPIRE

    def _verify(self, row: InitiatorRequest, credential: str) -> InitiatorVerdict:
        environment = self._settings.environment
        if self._settings.initiator_credential_check == "lenient" and looks_well_formed(credential):
            return self._lenient_verdict(row)
        candidates = self._credential_decryptor().candidates(environment, credential)
        with self._engine.connect() as conn:
            return check_initiator(
                conn,
                shortcode=row.party_a,
                username=row.initiator,
                password_candidates=candidates,
                role=ROLES[row.api],
                now=self._clock.now(),
                max_age_days=self._settings.operator_password_max_age_days,
                lockout_threshold=self._settings.operator_lockout_threshold,
            )

    @staticmethod
    def _still_unlocked(
        conn: Connection, row: InitiatorRequest, verdict: InitiatorVerdict
    ) -> InitiatorVerdict:
        """The verdict, unless the initiator was locked since it was checked.

        The password is checked outside the writer (key stretching there would hold every
        payment's commit), so guesses racing each other can all pass the lock check before any
        of them sets it. Reading the lock again here, where money moves, means a right guess
        that arrives after the lock is refused like any other: the lock holds for payouts.
        """
        if not verdict.ok:
            return verdict
        operator = operators_store.get_operator(conn, shortcode=row.party_a, username=row.initiator)
        if operator is not None and operator.locked:
            return InitiatorVerdict(InitiatorOutcome.LOCKED, "locked while checked", operator.id)
        return verdict

    def _lenient_verdict(self, row: InitiatorRequest) -> InitiatorVerdict:
        """The lenient setting waives the password (the credential may be made with
        Safaricom's certificate), not who the initiator is."""
        with read_transaction(self._engine) as conn:
            operator = operators_store.get_operator(
                conn, shortcode=row.party_a, username=row.initiator
            )
        if operator is None or operator.kind != OperatorKind.API:
            return InitiatorVerdict(InitiatorOutcome.INVALID, "unknown API operator")
        if operator.locked:
            return InitiatorVerdict(InitiatorOutcome.LOCKED, "operator locked", operator.id)
        if ROLES[row.api] not in operator.roles:
            return InitiatorVerdict(InitiatorOutcome.NOT_ALLOWED, "missing role", operator.id)
        if password_expired(
            password_changed_at=operator.password_changed_at,
            now=self._clock.now(),
            max_age_days=self._settings.operator_password_max_age_days,
        ):
            return InitiatorVerdict(InitiatorOutcome.EXPIRED, "password expired", operator.id)
        return InitiatorVerdict(InitiatorOutcome.OK, "lenient: password not checked", operator.id)

    def _credential_decryptor(self) -> CredentialDecryptor:
        if self._decryptor is None:
            with read_transaction(self._engine) as conn:
                stored = certificates_store.get_all(conn)
            self._decryptor = CredentialDecryptor(
                {environment: cert.private_key_pem for environment, cert in stored.items()}
            )
        return self._decryptor

    def _report(
        self, conn: Connection, row: InitiatorRequest, outcome: Outcome, *, now: float
    ) -> ClaimedCallback | None:
        status = initiator_store.COMPLETED if outcome.ok else initiator_store.FAILED
        if not initiator_store.finish(
            conn,
            row.conversation_id,
            status=status,
            code=outcome.code,
            description=outcome.description,
            transaction_id=outcome.transaction_id,
            now=now,
        ):
            # Raising rolls back whatever the processor moved in this db transaction.
            raise RuntimeError(f"request {row.conversation_id} was finished elsewhere")
        payload = result_payload(
            api=row.api,
            outcome=outcome,
            originator_conversation_id=row.originator_conversation_id,
            conversation_id=row.conversation_id,
            occasion=row.occasion,
        )
        return self._enqueue(conn, row, RESULT, row.result_url, payload, now=now)

    def _enqueue(
        self, conn: Connection, row: InitiatorRequest, kind: str, url: str, payload: str, *,
        now: float,
    ) -> ClaimedCallback | None:  # fmt: skip
        _, callback = leased.enqueue_for_delivery(
            conn,
            transaction_id=row.conversation_id,
            kind=f"{row.api}_{kind}",
            url=url,
            payload=payload,
            behaviour=self._behaviour(row),
            max_attempts=self._settings.callback_max_attempts,
            lease_s=self._lease_s,
            now=now,
        )
        return callback

    # --- the queue timeout ------------------------------------------------------------

    async def time_out_queued(self) -> int:
        """Tell the QueueTimeOutURL of every request queued longer than the queue timeout
        and not being processed here. Returns how many."""
        before = self._clock.now() - self._settings.initiator_queue_timeout_s

        def read() -> list[InitiatorRequest]:
            with read_transaction(self._engine) as conn:
                return initiator_store.queued_before(conn, created_before=before, limit=500)

        timed_out = 0
        for row in await asyncio.to_thread(read):
            if row.conversation_id in self._inflight:
                continue
            callback = await self._writer.submit(
                lambda conn, row=row: self._time_out(conn, row)  # type: ignore[misc]
            )
            if callback is not None:
                timed_out += 1
                self._on_callback(callback)
        return timed_out

    def _time_out(self, conn: Connection, row: InitiatorRequest) -> ClaimedCallback | None:
        now = self._clock.now()
        if not initiator_store.finish(
            conn,
            row.conversation_id,
            status=initiator_store.TIMED_OUT,
            code="1037",
            description="queue timeout",
            transaction_id="",
            now=now,
        ):
            return None
        payload = queue_timeout_payload(
            api=row.api,
            originator_conversation_id=row.originator_conversation_id,
            conversation_id=row.conversation_id,
        )
        return self._enqueue(conn, row, QUEUE_TIMEOUT, row.queue_timeout_url, payload, now=now)

    async def request(self, conversation: str) -> InitiatorRequest | None:
        def read() -> InitiatorRequest | None:
            with read_transaction(self._engine) as conn:
                return initiator_store.get(conn, conversation)

        return await asyncio.to_thread(read)


def _log_failure(task: asyncio.Task[None]) -> None:
    # The request stays queued; the queue timeout then tells the caller.
    if not task.cancelled() and task.exception() is not None:
        log.error("processing an initiator request failed", exc_info=task.exception())
