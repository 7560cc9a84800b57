"""The texts M-PESA sends a customer about a payment, in its usual shape."""

from __future__ import annotations

from pesabox.clock import eat_datetime
from pesabox.money import cents_to_decimal_string as shillings


def when(now: float) -> str:
    """The moment as M-PESA's texts say it: "on 28/11/26 at 09:15 AM" (East Africa Time)."""
    moment = eat_datetime(now)
    return f"on {moment:%d/%m/%y} at {moment:%I:%M %p}"


def payment_confirmed(
    *,
    receipt: str,
    amount_cents: int,
    payee: str,
    account: str,
    balance_cents: int,
    fee_cents: int,
    now: float,
) -> str:
    """A customer's payment to an organisation went through; `account` may be empty
    (Buy Goods has none)."""
    for_account = f" for account {account}" if account else ""
    return (
        f"{receipt} Confirmed. Ksh{shillings(amount_cents)} sent to {payee}{for_account} "
        f"{when(now)}. New M-PESA balance is "
        f"Ksh{shillings(balance_cents)}. Transaction cost, Ksh{shillings(fee_cents)}."
    )


def payment_refused(*, receipt: str, amount_cents: int, payee: str, reason: str) -> str:
    """The business (or M-Pesa on its behalf) refused the payment; nothing was taken."""
    return (
        f"{receipt} Failed. Ksh{shillings(amount_cents)} to {payee} was not paid: {reason}. "
        "No money has been deducted from your M-PESA account."
    )


def payment_failed(*, amount_cents: int, payee: str, reason: str) -> str:
    """The customer could not pay (wrong PIN, balance, limits)."""
    return f"Failed. M-PESA cannot pay Ksh{shillings(amount_cents)} to {payee}. {reason}."


def payout_received(
    *, receipt: str, amount_cents: int, payer: str, balance_cents: int, now: float
) -> str:
    """A business paid the customer (B2C)."""
    return (
        f"{receipt} Confirmed. You have received Ksh{shillings(amount_cents)} from {payer} "
        f"{when(now)}. New M-PESA balance is "
        f"Ksh{shillings(balance_cents)}."
    )


def payment_reversed(
    *,
    receipt: str,
    original_receipt: str,
    amount_cents: int,
    payee: str,
    balance_cents: int,
    now: float,
) -> str:
    """The business reversed the customer's payment (Reversal API); `amount_cents` is what
    came back to the wallet."""
    return (
        f"{receipt} Confirmed. Transaction {original_receipt} to {payee} has been reversed. "
        f"Ksh{shillings(amount_cents)} has been credited to your M-PESA account "
        f"{when(now)}. New M-PESA balance is "
        f"Ksh{shillings(balance_cents)}."
    )
