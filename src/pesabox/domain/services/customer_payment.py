"""A customer paying from the wallet, as the ledger sees it: the part M-Pesa Express, C2B and
the handset's own menus (Send Money, Buy Airtime, data bundles) share.

The customer's wallet pays the principal into the receiving shortcode's Utility account (or,
for a menu purchase, the account named in the charge) and the fee split of its tariff
profile; the daily limit counts what the customer spent. A payment
either posts at once, or is first reserved (C2B with external validation: the money is held
while the business decides) and later completed or released. Transfer ids derive from the
business transaction's key, so each step can happen at most once.
"""

from __future__ import annotations

from dataclasses import dataclass

from pesabox.clock import eat_datetime, eat_day
from pesabox.domain import accounts
from pesabox.domain.ledger import Phase, PostingStatus, Purpose, TransferRequest
from pesabox.domain.result_codes import StkResult
from pesabox.domain.rules import Fees, check_stk_amount, limits_on, stk_fees
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.types import Connection


@dataclass(frozen=True, slots=True)
class Charge:
    # The business transaction (CheckoutRequestID, TransID): the transfers' id prefix.
    key: str
    msisdn: str
    # The shortcode whose Utility account receives the principal.
    receiver: str
    amount_cents: int
    fees: Fees
    # When the payment started: its day's limits and daily total apply, even to a
    # reservation released after midnight.
    started_at: float
    # Where the principal goes when it is not `receiver`'s Utility account: another
    # customer's wallet, or Safaricom's airtime or data-bundle sales.
    credit_account: str | None = None

    @property
    def wallet(self) -> str:
        return accounts.wallet_code(self.msisdn)

    @property
    def principal_account(self) -> str:
        return self.credit_account or accounts.org_utility(self.receiver).code

    @property
    def customer_spend_cents(self) -> int:
        return self.amount_cents + self.fees.customer_cents


def plan_charge(
    *, key: str, msisdn: str, receiver: str, amount_cents: int, tariff_profile: str, now: float
) -> Charge:
    fees = stk_fees(
        amount_cents=amount_cents, tariff_profile=tariff_profile, day=eat_datetime(now).date()
    )
    return Charge(key, msisdn, receiver, amount_cents, fees, now)


def menu_charge(
    *, key: str, msisdn: str, credit_account: str, amount_cents: int, fee_cents: int, now: float
) -> Charge:
    """A purchase from the handset's own menus: no business, so no business fee."""
    return Charge(
        key, msisdn, "", amount_cents, Fees(fee_cents, 0), now, credit_account=credit_account
    )


def take(conn: Connection, ledger: LedgerStore, charge: Charge, *, now: float, hold: bool) -> int:
    """Move (or, with `hold`, reserve) the customer's money; 0 or the failure's result code.

    A refused charge leaves nothing behind: no transfer and no daily total.
    """
    limits = limits_on(eat_datetime(charge.started_at).date())
    refused = check_stk_amount(charge.amount_cents, limits)
    if refused is not None:
        return refused
    if not ledger.add_daily_debit(
        conn,
        account_code=charge.wallet,
        day=eat_day(charge.started_at),
        amount_cents=charge.customer_spend_cents,
        limit_cents=limits.max_daily_cents,
    ):
        if ledger.find_account_id(conn, charge.wallet) is None:
            # Not an M-Pesa customer: nothing reaches a handset.
            return StkResult.UNREACHABLE
        return StkResult.DAILY_LIMIT
    phase = Phase.PENDING if hold else Phase.POSTED
    # Ids derive from a key the caller has just allocated, so they are new; were they not,
    # the primary key would refuse the insert.
    posting = ledger.post(conn, _customer_transfers(charge, phase), now=now, known_new=True)
    if not posting.ok:
        _uncount(conn, ledger, charge)
        if posting.status == PostingStatus.EXCEEDS_CREDIT_BOUND:
            return StkResult.ABOVE_BALANCE_LIMIT
        return StkResult.INSUFFICIENT_FUNDS
    if not hold:
        _post_business_fee(conn, ledger, charge, now=now)
    return StkResult.SUCCESS


def complete_held(conn: Connection, ledger: LedgerStore, charge: Charge, *, now: float) -> None:
    """Turn a reservation made by `take(hold=True)` into the payment."""
    resolved = [_resolve(t, Phase.POST_PENDING) for t in _customer_transfers(charge, Phase.PENDING)]
    _post_or_fail(conn, ledger, resolved, now=now)
    _post_business_fee(conn, ledger, charge, now=now)


def release_held(conn: Connection, ledger: LedgerStore, charge: Charge, *, now: float) -> None:
    """Give a reservation back: the payment did not happen and its spend no longer counts."""
    resolved = [_resolve(t, Phase.VOID_PENDING) for t in _customer_transfers(charge, Phase.PENDING)]
    _post_or_fail(conn, ledger, resolved, now=now)
    _uncount(conn, ledger, charge)


def _customer_transfers(charge: Charge, phase: Phase) -> list[TransferRequest]:
    key = charge.key
    transfers = [
        TransferRequest(
            f"{key}:principal",
            charge.wallet,
            charge.principal_account,
            charge.amount_cents,
            Purpose.PRINCIPAL,
            key,
            phase,
        )
    ]
    if charge.fees.customer_cents:
        transfers.append(
            TransferRequest(
                f"{key}:customer-fee",
                charge.wallet,
                accounts.PLATFORM_REVENUE.code,
                charge.fees.customer_cents,
                Purpose.FEE,
                key,
                phase,
            )
        )
    return transfers


def _resolve(held: TransferRequest, phase: Phase) -> TransferRequest:
    suffix = "post" if phase == Phase.POST_PENDING else "void"
    return TransferRequest(
        f"{held.id}:{suffix}",
        held.debit_account,
        held.credit_account,
        held.amount_cents,
        held.purpose,
        held.transaction_id,
        phase,
        pending_id=held.id,
    )


def _post_business_fee(
    conn: Connection, ledger: LedgerStore, charge: Charge, *, now: float
) -> None:
    if not charge.fees.business_cents:
        return
    fee = TransferRequest(
        f"{charge.key}:business-fee",
        accounts.org_charges_paid(charge.receiver).code,
        accounts.PLATFORM_REVENUE.code,
        charge.fees.business_cents,
        Purpose.FEE,
        charge.key,
    )
    # Charges Paid may run negative (it is what the business owes), so this cannot be refused.
    _post_or_fail(conn, ledger, [fee], now=now)


def _post_or_fail(
    conn: Connection, ledger: LedgerStore, transfers: list[TransferRequest], *, now: float
) -> None:
    posting = ledger.post(conn, transfers, now=now)
    if not posting.ok:
        # Resolving a reservation, or charging an unbounded account, has no business reason
        # to fail: a refusal here is a bug, and the caller's db transaction must roll back.
        raise RuntimeError(f"ledger refused {transfers[0].id}: {posting.status}")


def _uncount(conn: Connection, ledger: LedgerStore, charge: Charge) -> None:
    limits = limits_on(eat_datetime(charge.started_at).date())
    ledger.add_daily_debit(
        conn,
        account_code=charge.wallet,
        day=eat_day(charge.started_at),
        amount_cents=-charge.customer_spend_cents,
        limit_cents=limits.max_daily_cents,
    )
