"""The B2B family and Tax Remittance (daraja-api.md §7, §13): what each CommandID moves, who
it may pay, which tariff it pays, its result codes and the Result's value formats.

Every decision here is explained in docs/reference/api/b2b.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pesabox.clock import daraja_timestamp
from pesabox.domain.results import Outcome
from pesabox.ids import receipt_number


class Account(StrEnum):
    """Which of an organisation's accounts a command debits or credits (§2.6)."""

    UTILITY = "utility"
    WORKING = "working"


class Receiver(StrEnum):
    """Which shortcodes a command may pay."""

    PAYBILL = "paybill"  # a PayBill (kind `paybill`)
    TILL = "till"  # a Buy Goods till (kind `till`)
    B2C = "b2c"  # a shortcode holding the B2C product (a disbursement account)
    MERCHANT = "merchant"  # a till or its store
    SELF = "self"  # the sender itself: a move between its own accounts
    ANY = "any"  # any other organisation shortcode
    KRA = "kra"  # the tax collector, 572572
    NONE = "none"  # nobody: the command is known but pesabox models no such product


class Fee(StrEnum):
    NONE = "none"
    # The PayBill tariff, split by the receiver's tariff profile as for a customer's payment
    # (the sender stands in for the customer), since Nov 2022 (domain §2.2).
    PAYBILL = "paybill"
    # Buy Goods: the merchant pays the Mauzo tariff, the payer nothing (domain §2.2).
    MAUZO = "mauzo"


@dataclass(frozen=True, slots=True)
class Command:
    debit: Account
    credit: Account
    receiver: Receiver
    fee: Fee = Fee.NONE
    # The documented commands require an AccountReference; the legacy ones do not.
    needs_reference: bool = False


COMMANDS: dict[str, Command] = {
    "BusinessPayBill": Command(
        Account.WORKING, Account.UTILITY, Receiver.PAYBILL, Fee.PAYBILL, needs_reference=True
    ),
    "BusinessBuyGoods": Command(
        Account.WORKING, Account.UTILITY, Receiver.TILL, Fee.MAUZO, needs_reference=True
    ),
    # B2C Account Top Up: load a B2C shortcode's Utility account, from which B2C pays.
    "BusinessPayToBulk": Command(
        Account.WORKING, Account.UTILITY, Receiver.B2C, needs_reference=True
    ),
    # Revenue settlement (Utility -> Working), to the sender itself or another business.
    "DisburseFundsToBusiness": Command(Account.UTILITY, Account.WORKING, Receiver.ANY),
    "BusinessToBusinessTransfer": Command(Account.WORKING, Account.WORKING, Receiver.ANY),
    "BusinessTransferFromMMFToUtility": Command(Account.WORKING, Account.UTILITY, Receiver.SELF),
    "BusinessTransferFromUtilityToMMF": Command(Account.UTILITY, Account.WORKING, Receiver.SELF),
    "MerchantToMerchantTransfer": Command(Account.UTILITY, Account.UTILITY, Receiver.MERCHANT),
    "MerchantTransferFromMerchantToWorking": Command(
        Account.UTILITY, Account.WORKING, Receiver.SELF
    ),
    "MerchantServicesMMFAccountTransfer": Command(
        Account.WORKING, Account.WORKING, Receiver.MERCHANT
    ),
    # Agents' float is not modelled: accepted on the wire, refused with 2028.
    "AgencyFloatAdvance": Command(Account.WORKING, Account.WORKING, Receiver.NONE),
}
B2B_COMMANDS = tuple(COMMANDS)

TAX_COMMAND = "PayTaxToKRA"
TAX = Command(Account.WORKING, Account.UTILITY, Receiver.KRA, needs_reference=True)
KRA_SHORTCODE = "572572"
KRA_NAME = "Kenya Revenue Authority"

# Only `4` (organisation shortcode) is allowed on either side (§7.1); Daraja accepts it as a
# JSON number too, as mpesakit sends it.
SHORTCODE_IDENTIFIER = "4"
ACCOUNT_REFERENCE_MAX = 13
REMARKS_MAX = 100
OCCASION_MAX = 100

ACCOUNT_NAMES = {Account.UTILITY: "Utility Account", Account.WORKING: "Working Account"}
CHARGE_NAMES = {Fee.PAYBILL: "Business Pay Bill Charge", Fee.MAUZO: "Business Buy Goods Charge"}


class B2bResult(StrEnum):
    SUCCESS = "0"
    INSUFFICIENT_FUNDS = "1"
    UNRESOLVED_RECEIVER = "7"
    ABOVE_BALANCE_LIMIT = "8"
    DEBIT_PARTY_INVALID = "11"
    NOT_PERMITTED = "2028"


DESCRIPTIONS: dict[str, str] = {
    # §7.2 writes it without the final full stop that B2C's sample has.
    "0": "The service request is processed successfully",
    "1": "The balance is insufficient for the transaction.",
    "7": "Unresolved Receiver Party",
    "8": "Declined due to limit rule: would exceed the maximum balance.",
    "11": "The DebitParty is in an invalid state.",
    "2028": "The request is not permitted according to product assignment.",
}


def refused(code: str, description: str, now: float) -> Outcome:
    """A failed B2B Result as §7.2's failure sample: a generic TransactionID (`OAK0000000`:
    the date prefix, then zeros) and one `BOCompletedTime` parameter."""
    generic = receipt_number(now)[:3] + "0000000"
    return Outcome(code, description, generic, (("BOCompletedTime", int(daraja_timestamp(now))),))


def failure(code: str, now: float) -> Outcome:
    return refused(code, DESCRIPTIONS[code], now)


def amount_text(cents: int) -> str:
    """`190.00`: §7.2 sends amounts as strings with two decimals."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def amount_record(cents: int) -> str:
    """`{Amount={CurrencyCode=KES, MinimumAmount=618683, BasicAmount=6186.83}}`: the
    minimum amount is in cents."""
    basic = amount_text(cents)
    return f"{{Amount={{CurrencyCode=KES, MinimumAmount={cents}, BasicAmount={basic}}}}}"


def affected_balance(account: Account, cents: int) -> str:
    """`Working Account|KES|<current>|<available>|<reserved>|<uncleared>` (§9's order);
    pesabox reserves and holds nothing, so current and available are the balance."""
    balance = amount_text(cents)
    return f"{ACCOUNT_NAMES[account]}|KES|{balance}|{balance}|0.00|0.00"


def charges_text(fee: Fee, cents: int) -> str:
    """`Business Pay Bill Charge|KES|77.00`, or empty when the sender paid nothing."""
    return f"{CHARGE_NAMES[fee]}|KES|{amount_text(cents)}" if cents and fee in CHARGE_NAMES else ""
