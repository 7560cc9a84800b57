"""What Buy Airtime and a data bundle bought with M-PESA share inside the ledger writer: the
wallet paying one of Safaricom's sales accounts free of charge, the SMS and record of a
purchase that failed, and the Bonga points an M-PESA menu transaction (these two, and Send
Money) earns."""

from __future__ import annotations

from pesabox.domain import customer_sms
from pesabox.domain.accounts import AccountSpec
from pesabox.domain.result_codes import stk_description
from pesabox.domain.services import bonga_earning, customer_payment
from pesabox.domain.services.handset_menu import MenuContext, MenuRequest, record, tell
from pesabox.storage.handset_store import HandsetTransaction
from pesabox.storage.types import Connection


def pay_safaricom(
    conn: Connection, context: MenuContext, request: MenuRequest, *, sales: AccountSpec
) -> int:
    """The request's amount from the buyer's wallet to `sales`, with no fee; the result code."""
    context.ledger.ensure_accounts(conn, [sales], request.now)
    charge = customer_payment.menu_charge(
        key=request.receipt, msisdn=request.msisdn, credit_account=sales.code,
        amount_cents=request.amount, fee_cents=0, now=request.now,
    )  # fmt: skip
    return int(customer_payment.take(conn, context.ledger, charge, now=request.now, hold=False))


def purchase_failed(
    conn: Connection, request: MenuRequest, *, what: str, result_code: int
) -> HandsetTransaction:
    """Tell the buyer why `what` failed and record the request with that result."""
    failed = customer_sms.failed(what=what, reason=stk_description(result_code))
    tell(conn, request.msisdn, failed, sender=customer_sms.MPESA, now=request.now)
    return record(conn, request, result_code=result_code)


def earn_points(conn: Connection, context: MenuContext, request: MenuRequest) -> None:
    """The Bonga points the customer earns on the amount paid or sent."""
    bonga_earning.earn(
        conn, context.ledger, msisdn=request.msisdn, amount_cents=request.amount,
        transaction_id=request.receipt, points_per_100_kes=context.points_per_100_kes,
        now=request.now,
    )  # fmt: skip
