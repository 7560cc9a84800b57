"""The customer's own M-PESA menu on the simulated handset: Send Money, Buy Airtime and My
Account (test customers themselves are core/customer_admin.py's). The sandbox API and the
phone page both call this."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

from pesabox.clock import Clock
from pesabox.core.pin_check import PinCheck, PinVerdict
from pesabox.domain import accounts
from pesabox.domain.services.airtime import AirtimeOrder, buy_airtime
from pesabox.domain.services.bonga_earning import points_balance
from pesabox.domain.services.handset_menu import MenuContext
from pesabox.domain.services.send_money import SendOrder, send_money
from pesabox.errors import SandboxError
from pesabox.ids import receipt_number
from pesabox.settings import Settings
from pesabox.storage import ledger_queries, parties_store
from pesabox.storage.db import read_transaction
from pesabox.storage.handset_store import HandsetTransaction
from pesabox.storage.ledger_queries import StatementLine
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.types import Connection, Engine
from pesabox.storage.writer import LedgerWriter

T = TypeVar("T")
MSISDN = re.compile(r"254(7[0-9]|1[01])[0-9]{7}")
# A fresh receipt is drawn when one collides (or a same-key request won a race).
_RECEIPT_ATTEMPTS = 3
MINI_STATEMENT_LINES = 10


@dataclass(frozen=True, slots=True)
class AccountView:
    msisdn: str
    name: str
    balance_cents: int
    points: int
    mini_statement: list[StatementLine]


def bad_input(field: str, why: str) -> SandboxError:
    return SandboxError(f"{field}: {why}", error_code="400.002.02", http_status=400)


def check_msisdn(value: str, field: str = "msisdn") -> str:
    if not MSISDN.fullmatch(value):
        raise bad_input(field, "a Safaricom number, 254 and 9 digits")
    return value


class CustomerMenuService:
    def __init__(
        self,
        *,
        engine: Engine,
        writer: LedgerWriter,
        ledger: LedgerStore,
        clock: Clock,
        settings: Settings,
        pins: PinCheck,
    ) -> None:
        self._engine = engine
        self.pins = pins
        self._writer = writer
        self._ledger = ledger
        self._clock = clock
        self.context = MenuContext(
            ledger=ledger,
            points_per_100_kes=settings.bonga_points_per_100_kes,
            pin_lockout_threshold=settings.bonga_pin_lockout_threshold,
        )

    # --- Send Money, Buy Airtime ------------------------------------------------------

    async def send_money(
        self, msisdn: str, *, recipient: str, amount_cents: int, pin: str, key: str | None
    ) -> HandsetTransaction:
        check_msisdn(recipient, "recipient")
        order = SendOrder(msisdn, recipient, amount_cents, await self._pin_ok(msisdn, pin), key)
        return await self.submit_with_receipt(
            lambda conn, receipt, now: send_money(
                conn, self.context, order, receipt=receipt, now=now
            )
        )

    async def buy_airtime(
        self, msisdn: str, *, recipient: str, amount_cents: int, pin: str, key: str | None
    ) -> HandsetTransaction:
        check_msisdn(recipient, "recipient")
        order = AirtimeOrder(msisdn, recipient, amount_cents, await self._pin_ok(msisdn, pin), key)
        return await self.submit_with_receipt(
            lambda conn, receipt, now: buy_airtime(
                conn, self.context, order, receipt=receipt, now=now
            )
        )

    # --- My Account -------------------------------------------------------------------

    async def account(self, msisdn: str) -> AccountView | None:
        def read(conn: Connection) -> AccountView | None:
            customer = parties_store.get_customer(conn, msisdn)
            wallet = ledger_queries.account_balance(conn, accounts.wallet_code(msisdn))
            if customer is None or wallet is None:
                return None
            statement = ledger_queries.statement(
                conn, accounts.wallet_code(msisdn), limit=MINI_STATEMENT_LINES
            )
            points = points_balance(conn, self._ledger, msisdn)
            return AccountView(msisdn, customer.name, wallet["balance_cents"], points, statement)

        if not MSISDN.fullmatch(msisdn):
            return None
        return await asyncio.to_thread(self._read, read)

    # --- shared -----------------------------------------------------------------------

    def clock_now(self) -> float:
        return self._clock.now()

    async def submit_with_receipt(
        self, job: Callable[[Connection, str, float], HandsetTransaction]
    ) -> HandsetTransaction:
        """Run a menu job with a fresh receipt, drawing another if it collides."""
        for attempt in range(_RECEIPT_ATTEMPTS):
            now = self._clock.now()
            receipt = receipt_number(now)
            try:
                return await self._writer.submit(_with_receipt(job, receipt, now))
            except IntegrityError:
                if attempt == _RECEIPT_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def _pin_ok(self, msisdn: str, pin: str) -> bool:
        return await self.pins.mpesa(msisdn, pin) == PinVerdict.RIGHT

    def _read(self, query: Callable[[Connection], T]) -> T:
        with read_transaction(self._engine) as conn:
            return query(conn)


def _with_receipt(
    job: Callable[[Connection, str, float], HandsetTransaction], receipt: str, now: float
) -> Callable[[Connection], HandsetTransaction]:
    return lambda conn: job(conn, receipt, now)
