"""The texts M-PESA and Bonga send a customer about what they did from the handset's menus
(Send Money, Buy Airtime, Bonga), in the shape of the real messages; the moment is worded
by domain/sms.py's `when`, as every M-PESA text is."""

from __future__ import annotations

from pesabox.domain.sms import when as _when
from pesabox.money import cents_to_decimal_string as shillings

MPESA = "MPESA"
BONGA = "Bonga"
SAFARICOM = "Safaricom"


def money_sent(
    *,
    receipt: str,
    amount_cents: int,
    recipient_name: str,
    recipient_msisdn: str,
    balance_cents: int,
    fee_cents: int,
    now: float,
) -> str:
    return (
        f"{receipt} Confirmed. Ksh{shillings(amount_cents)} sent to {recipient_name.upper()} "
        f"{recipient_msisdn} {_when(now)}. New M-PESA balance is Ksh{shillings(balance_cents)}. "
        f"Transaction cost, Ksh{shillings(fee_cents)}."
    )


def money_received(
    *,
    receipt: str,
    amount_cents: int,
    sender_name: str,
    sender_msisdn: str,
    balance_cents: int,
    now: float,
) -> str:
    return (
        f"{receipt} Confirmed. You have received Ksh{shillings(amount_cents)} from "
        f"{sender_name.upper()} {sender_msisdn} {_when(now)}. New M-PESA balance is "
        f"Ksh{shillings(balance_cents)}."
    )


def airtime_bought(
    *, receipt: str, amount_cents: int, msisdn: str, balance_cents: int, now: float
) -> str:
    return (
        f"{receipt} confirmed. You bought Ksh{shillings(amount_cents)} of airtime for "
        f"{msisdn} {_when(now)}. New M-PESA balance is Ksh{shillings(balance_cents)}. "
        "Transaction cost, Ksh0.00."
    )


def bundle_bought(
    *, receipt: str, price_cents: int, bundle_name: str, balance_cents: int, now: float
) -> str:
    return (
        f"{receipt} Confirmed. Ksh{shillings(price_cents)} paid to Safaricom Data Bundles for "
        f"{bundle_name} {_when(now)}. New M-PESA balance is Ksh{shillings(balance_cents)}. "
        "Transaction cost, Ksh0.00."
    )


def bundle_active(*, bundle_name: str) -> str:
    return f"You have received {bundle_name}. Dial *544# to check your balance."


def failed(*, what: str, reason: str) -> str:
    return f"Failed. {what} was not completed. {reason}."


def points_sent(*, points: int, recipient_msisdn: str, balance_points: int) -> str:
    return (
        f"You have transferred {points} Bonga points to {recipient_msisdn}. "
        f"Your new Bonga balance is {balance_points} points."
    )


def points_received(*, points: int, sender_name: str, sender_msisdn: str, balance: int) -> str:
    return (
        f"You have received {points} Bonga points from {sender_name.upper()} {sender_msisdn}. "
        f"Your new Bonga balance is {balance} points."
    )


def pin_set() -> str:
    return "Your Bonga PIN has been set successfully. Keep it secret."


def vetting_failed() -> str:
    return "The details you entered are incorrect. Your Bonga PIN has not been changed."


def mpesa_pin_locked() -> str:
    return (
        "Your M-PESA PIN has been locked after too many wrong attempts. "
        "Dial *334# or call 100 to unlock it."
    )


def vetting_locked() -> str:
    return (
        "Dear customer, the Bonga PIN cannot be set after too many incorrect details. "
        "Please call 100 for assistance."
    )


def call_200() -> str:
    return "Dear customer, postpay lines set or change the Bonga PIN by calling 200."


def pin_wrong(*, attempts_left: int) -> str:
    return f"Wrong Bonga PIN. You have {attempts_left} attempt(s) left."


def pin_locked() -> str:
    return "Your Bonga PIN is locked after too many wrong attempts. Dial *126*5# to set a new one."
