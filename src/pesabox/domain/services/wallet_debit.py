"""Money out of a customer's wallet for something bought from the handset's menus (another
customer's wallet, airtime, a data bundle): the per-transaction limits, the daily limit,
and the balance, checked in that order. A refused debit leaves nothing behind."""

from __future__ import annotations

from dataclasses import dataclass

from pesabox.clock import eat_datetime, eat_day
from pesabox.domain import accounts
from pesabox.domain.ledger import PostingStatus, Purpose, TransferRequest
from pesabox.domain.result_codes import StkResult
from pesabox.domain.rules import check_stk_amount, limits_on
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.types import Connection


@dataclass(frozen=True, slots=True)
class WalletDebit:
    # The business transaction (its receipt): the transfers' id prefix.
    key: str
    msisdn: str
    credit_account: str
    amount_cents: int
    fee_cents: int

    @property
    def wallet(self) -> str:
        return f"wallet:{self.msisdn}"


def debit(conn: Connection, ledger: LedgerStore, order: WalletDebit, *, now: float) -> int:
    """Move the money; 0, or the result code that refused it."""
    limits = limits_on(eat_datetime(now).date())
    refused = check_stk_amount(order.amount_cents, limits)
    if refused is not None:
        return int(refused)
    spend_cents = order.amount_cents + order.fee_cents
    day = eat_day(now)
    if not ledger.add_daily_debit(
        conn,
        account_code=order.wallet,
        day=day,
        amount_cents=spend_cents,
        limit_cents=limits.max_daily_cents,
    ):
        if ledger.find_account_id(conn, order.wallet) is None:
            return int(StkResult.UNREACHABLE)
        return int(StkResult.DAILY_LIMIT)
    posting = ledger.post(conn, _transfers(order), now=now, known_new=True)
    if posting.ok:
        return 0
    # Undo the daily count: a refused debit spent nothing.
    ledger.add_daily_debit(
        conn,
        account_code=order.wallet,
        day=day,
        amount_cents=-spend_cents,
        limit_cents=limits.max_daily_cents,
    )
    if posting.status == PostingStatus.EXCEEDS_CREDIT_BOUND:
        return int(StkResult.ABOVE_BALANCE_LIMIT)
    return int(StkResult.INSUFFICIENT_FUNDS)


def _transfers(order: WalletDebit) -> list[TransferRequest]:
    transfers = [
        TransferRequest(
            f"{order.key}:principal",
            order.wallet,
            order.credit_account,
            order.amount_cents,
            Purpose.PRINCIPAL,
            order.key,
        )
    ]
    if order.fee_cents:
        transfers.append(
            TransferRequest(
                f"{order.key}:customer-fee",
                order.wallet,
                accounts.PLATFORM_REVENUE.code,
                order.fee_cents,
                Purpose.FEE,
                order.key,
            )
        )
    return transfers
