"""The sandbox's seeded world, as data: Daraja's public test values (daraja-api.md §20)."""

from __future__ import annotations

from dataclasses import dataclass

SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
TEST_PIN = "1234"
INITIATOR_NAME = "testapi"
INITIATOR_PASSWORD = "Safaricom999!*!"  # noqa: S105 - a public sandbox value
DEFAULT_APP_NAME = "sandbox"
BULK_MSISDN_PREFIX = "2547200"
BULK_WALLET_SHILLINGS = 200_000


@dataclass(frozen=True, slots=True)
class ShortcodeFixture:
    shortcode: str
    organisation: str
    kind: str
    name: str
    tariff_profile: str
    passkey: str | None = None
    store_shortcode: str | None = None
    # The API services on the shortcode; C2B and B2C never share one (integration FAQ).
    products: str = "c2b,b2b"
    # Money already in the Utility account, so a B2C shortcode can pay out at once.
    utility_shillings: int = 0


@dataclass(frozen=True, slots=True)
class CustomerFixture:
    msisdn: str
    name: str
    wallet_shillings: int
    # What Bonga PIN vetting at *126*5# checks (issue 5): the ID number and the last top-up.
    national_id: str | None = None
    line_type: str = "prepay"
    last_topup_shillings: int = 0


SHORTCODES: tuple[ShortcodeFixture, ...] = (
    ShortcodeFixture(
        "174379",
        "Safaricom Daraja Sandbox",
        "paybill",
        "Lipa Na M-Pesa Online",
        "customer_bouquet",
        passkey=SANDBOX_PASSKEY,
    ),
    ShortcodeFixture(
        "174380",
        "Daraja Test Shop",
        "store",
        "Daraja Test Shop HQ",
        "mauzo",
        passkey=SANDBOX_PASSKEY,
    ),
    ShortcodeFixture(
        "977380",
        "Daraja Test Shop",
        "till",
        "Daraja Test Shop Till 1",
        "mauzo",
        store_shortcode="174380",
    ),
    ShortcodeFixture(
        "600000", "Safaricom Daraja 000", "paybill", "Shortcode 2", "customer_bouquet"
    ),
    ShortcodeFixture(
        "600977", "Safaricom Daraja 977", "paybill", "Shortcode 1 (C2B)", "business_bouquet"
    ),
    ShortcodeFixture(
        "600996",
        "Safaricom Daraja 996",
        "paybill",
        "Shortcode 1 (B2C)",
        "customer_bouquet",
        products="b2c,b2b",
        utility_shillings=10_000_000,
    ),
    ShortcodeFixture("600999", "Safaricom Daraja 999", "paybill", "Shortcode 1", "mgao"),
)

CUSTOMERS: tuple[CustomerFixture, ...] = (
    CustomerFixture("254708374149", "John Doe", 100_000, "12345678", "prepay", 100),
    CustomerFixture("254708374150", "Jane Wanjiru", 50_000, "23456789", "prepay", 50),
    # The postpay line: it sets its Bonga PIN by calling 200.
    CustomerFixture("254722000000", "Peter Otieno", 20_000, "34567890", "postpay"),
    CustomerFixture("254722111111", "Mary Akinyi", 20_000, "45678901", "prepay", 20),
    CustomerFixture("254110000001", "Faith Chebet", 5_000, "56789012", "prepay", 10),
    # Too poor for most payments: the wallet balance, not a flag, gives result code 1.
    CustomerFixture("254711000004", "Low Balance", 5, "67890123", "prepay", 5),
    *(
        CustomerFixture(
            f"2547110000{n:02d}",
            f"Scenario Customer {n:02d}",
            10_000,
            f"700000{n:02d}",
            "prepay",
            50,
        )
        for n in (1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13)
    ),
)


# --- the org portal (issue 5) -------------------------------------------------------------

# Each seeded organisation's web operator, on its first shortcode, with both portal roles a
# demo needs: Business Manager (move funds, withdraw) and Business Administrator (operators,
# validation). Public sandbox values, printed by `pesabox seed --print-credentials`.
WEB_OPERATOR_NAME = "webadmin"
WEB_OPERATOR_PASSWORD = "Pesabox#2026"  # noqa: S105 - a public sandbox value
WEB_OPERATOR_ROLES = "Business Manager,Business Administrator"


@dataclass(frozen=True, slots=True)
class OrganisationFixture:
    organisation: str
    # Where the organisation's web operator signs in.
    portal_shortcode: str
    bank_name: str
    branch: str
    account_number: str


ORGANISATIONS: tuple[OrganisationFixture, ...] = (
    OrganisationFixture(
        "Safaricom Daraja Sandbox", "174379", "KCB Bank Kenya", "Moi Avenue", "1100174379"
    ),
    OrganisationFixture("Daraja Test Shop", "174380", "Equity Bank", "Westlands", "0180174380"),
    OrganisationFixture(
        "Safaricom Daraja 000", "600000", "Co-operative Bank", "Upper Hill", "0110600000"
    ),
    OrganisationFixture(
        "Safaricom Daraja 977", "600977", "NCBA Bank", "Mombasa Road", "0120600977"
    ),
    OrganisationFixture(
        "Safaricom Daraja 996", "600996", "Stanbic Bank", "Kenyatta Avenue", "0130600996"
    ),
    OrganisationFixture(
        "Safaricom Daraja 999", "600999", "Absa Bank Kenya", "Kisumu", "0140600999"
    ),
)
