"""Test customers in the sandbox: creating one (funded from the float, as the seed funds
its customers), listing them, one customer's profile, and clearing a customer's lockouts.
The sandbox API and the /ui/phones page both call this."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from pesabox.clock import Clock, eat_datetime
from pesabox.core.customer_menu import MSISDN, bad_input, check_msisdn
from pesabox.domain import accounts
from pesabox.domain.bonga import LineType, is_valid_pin
from pesabox.domain.ledger import Purpose, TransferRequest
from pesabox.domain.rules import limits_on
from pesabox.errors import SandboxError
from pesabox.security.credentials import pin_digest
from pesabox.storage import customer_store
from pesabox.storage.customer_store import CustomerProfile, NewCustomer
from pesabox.storage.db import read_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.types import Connection, Engine
from pesabox.storage.writer import LedgerWriter

T = TypeVar("T")
_NATIONAL_ID = re.compile(r"[0-9]{6,10}")


@dataclass(frozen=True, slots=True)
class CustomerForm:
    msisdn: str
    name: str
    pin: str
    national_id: str
    line_type: str
    opening_balance_cents: int


def check_form(form: CustomerForm) -> None:
    check_msisdn(form.msisdn)
    if not 1 <= len(form.name.strip()) <= 100 or not form.name.isprintable():
        raise bad_input("name", "1 to 100 printable characters")
    if not is_valid_pin(form.pin):
        raise bad_input("pin", "4 digits")
    if not _NATIONAL_ID.fullmatch(form.national_id):
        raise bad_input("national_id", "6 to 10 digits")
    if form.line_type not in {LineType.PREPAY, LineType.POSTPAY}:
        raise bad_input("line_type", "prepay or postpay")
    if form.opening_balance_cents < 0:
        raise bad_input("opening_balance", "zero or more")


class CustomerAdminService:
    def __init__(
        self, *, engine: Engine, writer: LedgerWriter, ledger: LedgerStore, clock: Clock
    ) -> None:
        self._engine = engine
        self._writer = writer
        self._ledger = ledger
        self._clock = clock

    async def create_customer(self, form: CustomerForm) -> CustomerProfile:
        check_form(form)
        digest = await asyncio.to_thread(pin_digest, form.pin)
        now = self._clock.now()
        max_balance = limits_on(eat_datetime(now).date()).max_balance_cents
        if form.opening_balance_cents > max_balance:
            raise bad_input("opening_balance", "above the wallet's balance limit")
        new = NewCustomer(form.msisdn, form.name.strip(), digest, form.national_id, form.line_type)

        def job(conn: Connection) -> CustomerProfile | None:
            if not customer_store.insert_customer(conn, new, now=now):
                return None
            wallet = accounts.customer_wallet(new.msisdn, max_balance_cents=max_balance)
            self._ledger.ensure_accounts(conn, [wallet, accounts.customer_bonga(new.msisdn)], now)
            if form.opening_balance_cents:
                _fund(conn, self._ledger, wallet.code, form.opening_balance_cents, now=now)
            return customer_store.get_profile(conn, new.msisdn)

        created = await self._writer.submit(job)
        if created is None:
            raise SandboxError(
                "a customer with this MSISDN exists", error_code="409.001.01", http_status=409
            )
        return created

    async def customers(self) -> list[CustomerProfile]:
        return await asyncio.to_thread(self._read, customer_store.list_profiles)

    async def profile(self, msisdn: str) -> CustomerProfile | None:
        if not MSISDN.fullmatch(msisdn):
            return None
        return await asyncio.to_thread(self._read, lambda c: customer_store.get_profile(c, msisdn))

    async def unlock(self, msisdn: str) -> CustomerProfile | None:
        """Clear the M-PESA PIN and *126*5# vetting lockouts, as customer care would; None
        for a number that is no customer."""
        if not MSISDN.fullmatch(msisdn):
            return None

        def job(conn: Connection) -> CustomerProfile | None:
            for lockout in (customer_store.MPESA_PIN, customer_store.BONGA_VETTING):
                customer_store.unlock(conn, msisdn, lockout)
            return customer_store.get_profile(conn, msisdn)

        return await self._writer.submit(job)

    def _read(self, query: Callable[[Connection], T]) -> T:
        with read_transaction(self._engine) as conn:
            return query(conn)


def _fund(
    conn: Connection, ledger: LedgerStore, wallet: str, amount_cents: int, *, now: float
) -> None:
    # Opening balances come from the float, as the seed funds its customers; the fixed id
    # means the wallet is funded once.
    posting = ledger.post(
        conn,
        [
            TransferRequest(
                f"opening:{wallet}", accounts.FLOAT.code, wallet, amount_cents, Purpose.FUNDING
            )
        ],
        now=now,
    )
    if not posting.ok:
        raise RuntimeError(f"ledger refused the opening balance of {wallet}: {posting.status}")
