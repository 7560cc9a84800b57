"""Bonga on the simulated handset (*126#): the points balance, setting the Bonga PIN at
*126*5#, transferring points, and data bundles paid via M-PESA."""

from __future__ import annotations

import asyncio

from pesabox.core.customer_admin import CustomerAdminService
from pesabox.core.customer_menu import CustomerMenuService, bad_input, check_msisdn
from pesabox.core.pin_check import PinCheck
from pesabox.domain.bonga import is_valid_pin
from pesabox.domain.data_bundles import CATALOGUE, DataBundle, find_bundle
from pesabox.domain.services.bonga_earning import points_balance
from pesabox.domain.services.bonga_pin import PinSetOutcome, PinSetRequest, set_pin
from pesabox.domain.services.bonga_transfer import PointsTransferOrder, transfer_points
from pesabox.domain.services.data_bundle_purchase import BundleOrder, buy_bundle
from pesabox.errors import SandboxError
from pesabox.security.credentials import pin_digest
from pesabox.storage.db import read_transaction
from pesabox.storage.handset_store import HandsetTransaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.types import Engine
from pesabox.storage.writer import LedgerWriter


class BongaService:
    def __init__(
        self,
        *,
        engine: Engine,
        writer: LedgerWriter,
        ledger: LedgerStore,
        menu: CustomerMenuService,
        customers: CustomerAdminService,
        pins: PinCheck,
    ) -> None:
        self._customers = customers
        self._pins = pins
        self._engine = engine
        self._writer = writer
        self._ledger = ledger
        self._menu = menu

    @staticmethod
    def bundles() -> tuple[DataBundle, ...]:
        return CATALOGUE

    async def balance(self, msisdn: str) -> int | None:
        """The customer's points; None for a number that is no customer."""
        if await self._customers.profile(msisdn) is None:
            return None

        def read() -> int:
            with read_transaction(self._engine) as conn:
                return points_balance(conn, self._ledger, msisdn)

        return await asyncio.to_thread(read)

    async def set_pin(
        self, msisdn: str, *, national_id: str, last_topup_cents: int, new_pin: str
    ) -> PinSetOutcome:
        if not is_valid_pin(new_pin):
            raise bad_input("new_pin", "4 digits")
        digest = await asyncio.to_thread(pin_digest, new_pin)
        request = PinSetRequest(msisdn, national_id, last_topup_cents, digest)
        now = self._menu.clock_now()
        threshold = self._menu.context.pin_lockout_threshold
        return await self._writer.submit(
            lambda conn: set_pin(conn, request, lockout_threshold=threshold, now=now)
        )

    async def transfer(
        self, msisdn: str, *, recipient: str, points: int, pin: str, key: str | None
    ) -> HandsetTransaction:
        check_msisdn(recipient, "recipient")
        if points <= 0:
            raise bad_input("points", "a positive whole number")
        order = PointsTransferOrder(
            msisdn, recipient, points, await self._pins.bonga(msisdn, pin), key
        )
        context = self._menu.context
        return await self._menu.submit_with_receipt(
            lambda conn, receipt, now: transfer_points(
                conn, context, order, receipt=receipt, now=now
            )
        )

    async def buy_bundle(
        self, msisdn: str, *, bundle_code: str, pin: str, key: str | None
    ) -> HandsetTransaction:
        bundle = find_bundle(bundle_code)
        if bundle is None:
            raise SandboxError("no such data bundle", error_code="404.001.01", http_status=404)
        order = BundleOrder(msisdn, bundle, await self._pins.bonga(msisdn, pin), key)
        context = self._menu.context
        return await self._menu.submit_with_receipt(
            lambda conn, receipt, now: buy_bundle(conn, context, order, receipt=receipt, now=now)
        )
