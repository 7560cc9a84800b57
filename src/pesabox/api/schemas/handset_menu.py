"""Bodies of the sandbox's customer-side API: test customers, Send Money, Buy Airtime and
Bonga on the simulated handset. Amounts are whole shillings, as on a phone's menu."""

from __future__ import annotations

from typing import Any

import msgspec

from pesabox.api import validation as check
from pesabox.core.customer_admin import CustomerForm
from pesabox.core.customer_menu import AccountView
from pesabox.domain.data_bundles import DataBundle
from pesabox.domain.menu_numbers import MAX_SHILLINGS, parse_whole
from pesabox.errors import BadRequest
from pesabox.storage.customer_store import CustomerProfile
from pesabox.storage.handset_store import HandsetTransaction


def _text(value: Any, field: str, *, max_length: int = 100) -> str:
    return check.text(value, field, max_length=max_length)


def whole_number(value: Any, field: str, *, cap: int) -> int:
    # A JSON number only (as a phone's menu sends), parsed as the phone page parses it.
    number = parse_whole(value, cap=cap) if isinstance(value, int) else None
    if number is None:
        raise BadRequest(field)
    return number


class CustomerEntry(msgspec.Struct, frozen=True):
    msisdn: Any = None
    name: Any = None
    pin: Any = None
    national_id: Any = None
    line_type: Any = "prepay"
    opening_balance: Any = 0

    def to_form(self) -> CustomerForm:
        return CustomerForm(
            msisdn=_text(self.msisdn, "msisdn", max_length=12),
            name=_text(self.name, "name"),
            pin=_text(self.pin, "pin", max_length=4),
            national_id=_text(self.national_id, "national_id", max_length=10),
            line_type=check.one_of(self.line_type, "line_type", ("prepay", "postpay")),
            opening_balance_cents=whole_number(
                self.opening_balance, "opening_balance", cap=MAX_SHILLINGS
            )
            * 100,
        )


class SendMoneyEntry(msgspec.Struct, frozen=True):
    recipient: Any = None
    amount: Any = None
    pin: Any = ""


class AirtimeEntry(msgspec.Struct, frozen=True):
    amount: Any = None
    pin: Any = ""
    # Another number to top up; the buyer's own when absent.
    recipient: Any = None


class BongaPinEntry(msgspec.Struct, frozen=True):
    national_id: Any = None
    last_topup: Any = None
    new_pin: Any = None


class PointsTransferEntry(msgspec.Struct, frozen=True):
    recipient: Any = None
    points: Any = None
    bonga_pin: Any = ""


class BundleEntry(msgspec.Struct, frozen=True):
    bundle: Any = None
    bonga_pin: Any = ""


def pin_text(value: Any, field: str) -> str:
    # A PIN of the wrong shape is still a PIN attempt: it simply does not match.
    return value if isinstance(value, str) and len(value) <= 12 else check.text(value, field)


def customer_out(profile: CustomerProfile) -> dict[str, Any]:
    # No national ID: it is half of the Bonga PIN vetting answer, and anyone holding the
    # sandbox's credentials can list customers. The customer's own phone page hints it.
    return {
        "msisdn": profile.msisdn,
        "name": profile.name,
        "status": profile.status,
        "line_type": profile.line_type,
        "bonga_pin_set": profile.bonga_pin_digest is not None,
        "bonga_pin_locked": profile.bonga_pin_locked,
        "bonga_vetting_locked": profile.bonga_vetting_locked,
        "pin_locked": profile.pin_locked,
    }


def transaction_out(transaction: HandsetTransaction) -> dict[str, Any]:
    points = transaction.kind == "bonga_transfer"
    return {
        "receipt": transaction.receipt if transaction.succeeded else None,
        "kind": transaction.kind,
        "msisdn": transaction.msisdn,
        "counterparty": transaction.counterparty,
        "points" if points else "amount": (
            transaction.amount if points else transaction.amount / 100
        ),
        "fee": transaction.fee_cents / 100,
        "result_code": transaction.result_code,
        "result_desc": transaction.result_desc,
        "created_at": transaction.created_at,
    }


def account_out(view: AccountView) -> dict[str, Any]:
    return {
        "msisdn": view.msisdn,
        "name": view.name,
        "balance": view.balance_cents / 100,
        "bonga_points": view.points,
        "mini_statement": [
            {
                "transfer_id": line["transfer_id"],
                "created_at": line["created_at"],
                "direction": line["direction"],
                "amount": line["amount_cents"] / 100,
                "counterparty": line["counterparty"],
                "purpose": line["purpose"],
                "phase": line["phase"],
                "transaction_id": line["transaction_id"],
                "balance_after": line["balance_after_cents"] / 100,
            }
            for line in view.mini_statement
        ],
    }


def bundle_out(bundle: DataBundle) -> dict[str, Any]:
    return {"code": bundle.code, "name": bundle.name, "price": bundle.price_cents / 100}
