"""Ledger account kinds, their codes and bounds.

Every balance is `credits_posted - debits_posted`. Wallets and organisation accounts hold
what the platform owes their owners, so they are credited when money arrives. The float
account issues e-money: it is debited when a wallet is funded and runs negative by exactly
the e-money in circulation, which is why all balances together always sum to zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AccountKind(StrEnum):
    CUSTOMER_WALLET = "customer_wallet"
    BONGA_POINTS = "bonga_points"
    ORG_UTILITY = "org_utility"
    ORG_WORKING = "org_working"
    ORG_CHARGES_PAID = "org_charges_paid"
    PLATFORM_REVENUE = "platform_revenue"
    BANK_SETTLEMENT = "bank_settlement"
    FLOAT = "float"
    SUSPENSE = "suspense"


@dataclass(frozen=True, slots=True)
class AccountSpec:
    code: str
    kind: AccountKind
    owner: str
    # None: unbounded on that side.
    min_balance_cents: int | None
    max_balance_cents: int | None


def wallet_code(msisdn: str) -> str:
    """The ledger code of a customer's M-PESA wallet."""
    return f"wallet:{msisdn}"


def customer_wallet(msisdn: str, *, max_balance_cents: int) -> AccountSpec:
    return AccountSpec(
        wallet_code(msisdn), AccountKind.CUSTOMER_WALLET, msisdn, 0, max_balance_cents
    )


def org_utility(shortcode: str) -> AccountSpec:
    # C2B and STK payments land here, and B2C pays out of it; it may not go negative.
    return AccountSpec(f"utility:{shortcode}", AccountKind.ORG_UTILITY, shortcode, 0, None)


def org_working(shortcode: str) -> AccountSpec:
    return AccountSpec(f"working:{shortcode}", AccountKind.ORG_WORKING, shortcode, 0, None)


def org_charges_paid(shortcode: str) -> AccountSpec:
    # Charges owed to Safaricom accrue here and may run negative until settled.
    return AccountSpec(f"charges:{shortcode}", AccountKind.ORG_CHARGES_PAID, shortcode, None, None)


def org_accounts(shortcode: str) -> list[AccountSpec]:
    return [org_utility(shortcode), org_working(shortcode), org_charges_paid(shortcode)]


PLATFORM_REVENUE = AccountSpec(
    "platform:revenue", AccountKind.PLATFORM_REVENUE, "platform", None, None
)
FLOAT = AccountSpec("platform:float", AccountKind.FLOAT, "platform", None, None)
SUSPENSE = AccountSpec("platform:suspense", AccountKind.SUSPENSE, "platform", None, None)
PLATFORM_ACCOUNTS = [PLATFORM_REVENUE, FLOAT, SUSPENSE]


# --- the customer side (issue 5) -----------------------------------------------------------
# Bonga accounts count whole points, not cents: their `*_cents` columns hold points, and no
# transfer ever links a points account with a money account. The issuer runs negative by the
# points in circulation, as the float does for e-money, so the ledger still sums to zero.


def customer_bonga(msisdn: str) -> AccountSpec:
    return AccountSpec(f"bonga:{msisdn}", AccountKind.BONGA_POINTS, msisdn, 0, None)


BONGA_ISSUER = AccountSpec("platform:bonga", AccountKind.BONGA_POINTS, "platform", None, None)
# What customers pay for airtime and data bundles: Safaricom's own sales, not fees.
AIRTIME_SALES = AccountSpec(
    "platform:airtime", AccountKind.PLATFORM_REVENUE, "platform", None, None
)
DATA_BUNDLE_SALES = AccountSpec(
    "platform:data-bundles", AccountKind.PLATFORM_REVENUE, "platform", None, None
)
CUSTOMER_SIDE_ACCOUNTS = [BONGA_ISSUER, AIRTIME_SALES, DATA_BUNDLE_SALES]


# --- the organisation side (issue 5) -------------------------------------------------------
# Where a withdrawal to the bank waits between leaving M-Pesa and reaching the bank. Settling
# moves it on to the float account: the e-money is redeemed, so circulation shrinks by it.
BANK_SETTLEMENT = AccountSpec(
    "platform:bank_settlement", AccountKind.BANK_SETTLEMENT, "platform", 0, None
)
