"""The customer's simulated handset: the prompts it shows, the SMS inbox, and the buttons."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from pesabox.clock import Clock
from pesabox.core.c2b import C2bService
from pesabox.core.pin_check import PinCheck, PinVerdict
from pesabox.core.stk import StkService
from pesabox.domain.services.c2b_payment import Outcome, PaymentOrder
from pesabox.domain.services.stk_settle import Settlement
from pesabox.errors import SandboxError
from pesabox.sandbox.scenarios import Action
from pesabox.storage import parties_store, stk_store
from pesabox.storage.db import read_transaction
from pesabox.storage.types import Engine


class HandsetService:
    def __init__(
        self, *, engine: Engine, stk: StkService, c2b: C2bService, clock: Clock, pins: PinCheck
    ) -> None:
        self._engine = engine
        self._stk = stk
        self._c2b = c2b
        self._clock = clock
        self._pins = pins

    async def view(self, msisdn: str) -> dict[str, Any]:
        return await asyncio.to_thread(self._read_view, msisdn)

    async def accept(self, msisdn: str, checkout_id: str, *, pin: str) -> Settlement:
        await self._pending_prompt(msisdn, checkout_id)
        # A wrong PIN, a locked PIN or no such customer: 2001 on the wire, as M-Pesa answers.
        verdict = await self._pins.mpesa(msisdn, pin)
        action = Action.ACCEPT if verdict == PinVerdict.RIGHT else Action.WRONG_PIN
        return self._settled(await self._stk.settle(checkout_id, action=action))

    async def pay(self, order: PaymentOrder, *, pin: str) -> Outcome:
        """The customer pays from the M-PESA menu (Pay Bill, Buy Goods, a scanned QR) and
        waits, as the phone does, until the payment is decided."""
        verdict = await self._pins.mpesa(order.msisdn, pin)
        # A number that is no active customer passes the PIN check: the payment itself then
        # fails as unreachable (1037), which says more than a wrong PIN would.
        pin_ok = verdict in (PinVerdict.RIGHT, PinVerdict.NO_CUSTOMER)
        return await self._c2b.pay(replace(order, pin_ok=pin_ok), wait=True)

    async def decline(self, msisdn: str, checkout_id: str) -> Settlement:
        await self._pending_prompt(msisdn, checkout_id)
        return self._settled(await self._stk.settle(checkout_id, action=Action.DECLINE))

    async def ignore(self, msisdn: str, checkout_id: str) -> float:
        """Leave the prompt unanswered: it times out with 1037. Returns when that happens."""
        prompt = await self._pending_prompt(msisdn, checkout_id)
        if not await self._stk.replan(checkout_id, action=Action.IGNORE, due_at=prompt.expires_at):
            raise SandboxError(
                "the prompt is no longer pending", error_code="409.001.01", http_status=409
            )
        return prompt.expires_at

    async def _pending_prompt(self, msisdn: str, checkout_id: str) -> stk_store.StkRecord:
        record = await asyncio.to_thread(self._read_request, checkout_id)
        if record is None or record.msisdn != msisdn:
            raise SandboxError(
                "no such prompt on this handset", error_code="404.001.01", http_status=404
            )
        if record.status != stk_store.PENDING:
            raise SandboxError(
                "the prompt is no longer pending", error_code="409.001.01", http_status=409
            )
        return record

    @staticmethod
    def _settled(settlement: Settlement | None) -> Settlement:
        if settlement is None:
            raise SandboxError(
                "the prompt is no longer pending", error_code="409.001.01", http_status=409
            )
        return settlement

    def _read_request(self, checkout_id: str) -> stk_store.StkRecord | None:
        with read_transaction(self._engine) as conn:
            return stk_store.get_request(conn, checkout_id)

    def _read_view(self, msisdn: str) -> dict[str, Any]:
        with read_transaction(self._engine) as conn:
            customer = parties_store.get_customer(conn, msisdn)
            prompts = stk_store.pending_for_msisdn(conn, msisdn)
            messages = parties_store.list_sms(conn, msisdn)
        return {
            "msisdn": msisdn,
            "registered": customer is not None,
            "name": customer.name if customer else None,
            "prompts": [
                {
                    "CheckoutRequestID": p.checkout_request_id,
                    "MerchantRequestID": p.merchant_request_id,
                    "BusinessShortCode": p.business_shortcode,
                    "PartyB": p.party_b,
                    "Amount": p.amount_cents // 100,
                    "AccountReference": p.account_reference,
                    "TransactionDesc": p.description,
                    "created_at": p.created_at,
                    "expires_at": p.expires_at,
                    "planned_action": p.planned_action,
                    "due_at": p.due_at,
                }
                for p in prompts
            ],
            "messages": messages,
        }
