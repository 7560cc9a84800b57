"""The one place a PIN typed on the simulated handset is checked: the M-PESA PIN (STK
prompts, Pay Bill and Buy Goods, Send Money, Buy Airtime) and the Bonga PIN (points
transfers, data bundles).

Key stretching (PBKDF2) runs on a worker thread, never on the ledger writer's. Wrong M-PESA
PINs are counted per customer and, as M-Pesa does, lock the PIN after
`PESABOX_MPESA_PIN_LOCKOUT_THRESHOLD` in a row (default 3): a locked customer's payments
fail (an STK prompt still answers 2001, a wrong PIN on the wire) and the customer is told by
SMS; a right PIN resets the count; POST /sandbox/v1/customers/{msisdn}/unlock clears a lock.
Wrong Bonga PINs are counted inside the purchase's own writer job (bonga_pin.check_pin),
which needs the digest this check compared against.
"""

from __future__ import annotations

import asyncio
import secrets
from enum import StrEnum
from functools import lru_cache

from pesabox.clock import Clock
from pesabox.domain import customer_sms
from pesabox.domain.services.bonga_pin import TypedPin
from pesabox.security.credentials import pin_digest, pin_matches
from pesabox.storage import customer_store, parties_store
from pesabox.storage.customer_store import PinsOnFile
from pesabox.storage.db import read_transaction
from pesabox.storage.types import Connection, Engine
from pesabox.storage.writer import LedgerWriter


class PinVerdict(StrEnum):
    RIGHT = "right"
    WRONG = "wrong"
    LOCKED = "locked"
    # No active customer has the number: the caller decides what that means.
    NO_CUSTOMER = "no_customer"


@lru_cache(maxsize=1)
def _no_pin_digest() -> str:
    # Compared against when no PIN is on file, so a missing PIN costs what a wrong one does.
    return pin_digest(secrets.token_hex(8))


def typed_pin_matches(pin: str, digest: str | None) -> bool:
    """Whether `pin` is the PIN behind `digest`; always False (at the same cost) for None."""
    return pin_matches(pin, digest or _no_pin_digest()) and digest is not None


class PinCheck:
    def __init__(
        self, *, engine: Engine, writer: LedgerWriter, clock: Clock, lockout_threshold: int
    ) -> None:
        self._engine = engine
        self._writer = writer
        self._clock = clock
        self._threshold = lockout_threshold

    async def mpesa(self, msisdn: str, pin: str) -> PinVerdict:
        """Check the M-PESA PIN, counting a wrong one (or any try while locked)."""
        pins = await asyncio.to_thread(self._read, msisdn)
        if pins is None or pins.status != "active":
            return PinVerdict.NO_CUSTOMER
        if pins.pin_locked:
            await self._writer.submit(lambda conn: self._tell_locked(conn, msisdn))
            return PinVerdict.LOCKED
        if await asyncio.to_thread(typed_pin_matches, pin, pins.pin_digest):
            if pins.pin_failures:
                # Only then a writer job: the usual right PIN costs the writer nothing.
                await self._writer.submit(
                    lambda conn: customer_store.clear_failures(
                        conn, msisdn, customer_store.MPESA_PIN
                    )
                )
            return PinVerdict.RIGHT
        return await self._writer.submit(lambda conn: self._count_wrong(conn, msisdn))

    async def bonga(self, msisdn: str, pin: str) -> TypedPin:
        """Compare a typed Bonga PIN with the digest on file; the purchase's writer job counts
        it, after confirming that digest is still the one on file."""

        def check() -> TypedPin:
            pins = self._read(msisdn)
            digest = pins.bonga_pin_digest if pins else None
            return TypedPin(typed_pin_matches(pin, digest), digest)

        return await asyncio.to_thread(check)

    def _read(self, msisdn: str) -> PinsOnFile | None:
        with read_transaction(self._engine) as conn:
            return customer_store.pins_on_file(conn, msisdn)

    def _count_wrong(self, conn: Connection, msisdn: str) -> PinVerdict:
        failures = customer_store.record_failure(
            conn, msisdn, customer_store.MPESA_PIN, lockout_threshold=self._threshold
        )
        if failures >= self._threshold:
            self._tell_locked(conn, msisdn)
            return PinVerdict.LOCKED
        return PinVerdict.WRONG

    def _tell_locked(self, conn: Connection, msisdn: str) -> None:
        parties_store.add_sms(
            conn, msisdn=msisdn, sender=customer_sms.MPESA, body=customer_sms.mpesa_pin_locked(),
            now=self._clock.now(),
        )  # fmt: skip
