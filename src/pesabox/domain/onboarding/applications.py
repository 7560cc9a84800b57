"""A business application (PayBill or Till) as a developer fills it in, checked whole: one
refusal names every wrong field, so nobody fixes one field at a time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from pesabox.domain.bank_details import BankDetails, BankDetailsError, check_bank_details
from pesabox.domain.onboarding.documents import BusinessType, parse_business_type
from pesabox.domain.onboarding.errors import OnboardingError
from pesabox.domain.onboarding.identity import (
    check_email,
    check_operator_username,
    check_person_name,
    check_phone,
)
from pesabox.domain.shortcode_setup import ShortcodeSetupError, check_name

# KRA PINs: A (individuals) or P (everyone else), nine digits, a check letter.
_KRA_PIN = re.compile(r"[AP][0-9]{9}[A-Z]")
REJECTION_REASON_LENGTH_MAX = 500
# Production shortcodes come from here: clear of the sandbox's test numbers (174xxx, 600xxx,
# 977xxx) so a number never means one business in the sandbox and another in production.
SHORTCODE_RANGE = range(400_000, 500_000)


class ApplicationKind(StrEnum):
    PAYBILL = "paybill"
    TILL = "till"


@dataclass(frozen=True, slots=True)
class BusinessAdministrator:
    name: str
    username: str
    phone: str
    email: str


@dataclass(frozen=True, slots=True)
class ApplicationForm:
    kind: ApplicationKind
    business_type: BusinessType
    organisation_name: str
    trading_name: str
    kra_pin: str | None
    bank: BankDetails
    administrator: BusinessAdministrator


def organisation_key(name: str) -> str:
    """Names compared for uniqueness: case and spacing do not make a new organisation."""
    return " ".join(name.split()).casefold()


def _kind(text: str) -> ApplicationKind:
    try:
        return ApplicationKind(text.strip().lower())
    except ValueError:
        raise OnboardingError(f"kind must be paybill or till, not {text!r}") from None


def _kra_pin(text: str | None, business_type: BusinessType) -> str | None:
    clean = (text or "").strip().upper()
    if not clean:
        # §3.4: a sole proprietor's KRA PIN is optional, everyone else's is required.
        if business_type is BusinessType.SOLE_PROPRIETOR:
            return None
        raise OnboardingError(f"a {business_type.value} must give its KRA PIN")
    if not _KRA_PIN.fullmatch(clean):
        raise OnboardingError(f"KRA PIN {text!r} must look like P051234567X")
    return clean


def _name(text: str, what: str) -> str:
    try:
        return check_name(" ".join(text.split()), what)
    except ShortcodeSetupError as error:
        raise OnboardingError(str(error)) from None


def _bank(fields: dict[str, str]) -> BankDetails:
    try:
        return check_bank_details(**fields)
    except BankDetailsError as error:
        raise OnboardingError(str(error)) from None


class _Problems:
    """Collects refusals: `with problems:` around each field's check keeps going after one."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: object, _tb: object) -> bool:
        if isinstance(error, OnboardingError):
            self.found.append(str(error))
            return True
        return False

    def raise_any(self) -> None:
        if self.found:
            raise OnboardingError("; ".join(self.found))


def check_application(
    *,
    kind: str,
    business_type: str,
    organisation_name: str,
    trading_name: str,
    kra_pin: str | None,
    bank: dict[str, str],
    administrator: dict[str, str],
) -> ApplicationForm:
    """`bank` has bank_name, branch, account_number, account_name; `administrator` has name,
    username, phone and email. OnboardingError lists every problem."""
    problems = _Problems()
    chosen_type: BusinessType | None = None
    with problems:
        chosen_kind = _kind(kind)
    with problems:
        chosen_type = parse_business_type(business_type)
    with problems:
        org = _name(organisation_name, "organisation name")
    with problems:
        trading = _name(trading_name, "trading name")
    with problems:
        pin = _kra_pin(kra_pin, chosen_type) if chosen_type is not None else None
    with problems:
        details = _bank({field: str(bank.get(field, "")) for field in _BANK_FIELDS})
    with problems:
        admin_name = check_person_name(administrator.get("name", ""), "administrator's name")
    with problems:
        username = check_operator_username(administrator.get("username", ""))
    with problems:
        phone = check_phone(administrator.get("phone", ""), "administrator's phone")
    with problems:
        email = check_email(administrator.get("email", ""))
    problems.raise_any()
    if chosen_type is None:  # reported above; this only tells the type checker
        raise OnboardingError("business type is missing")
    return ApplicationForm(
        kind=chosen_kind,
        business_type=chosen_type,
        organisation_name=org,
        trading_name=trading,
        kra_pin=pin,
        bank=details,
        administrator=BusinessAdministrator(admin_name, username, phone, email),
    )


_BANK_FIELDS = ("bank_name", "branch", "account_number", "account_name")


def check_reason(reason: str) -> str:
    clean = " ".join(reason.split())
    if not clean or len(clean) > REJECTION_REASON_LENGTH_MAX or not clean.isprintable():
        raise OnboardingError(
            f"a rejection needs a reason of 1 to {REJECTION_REASON_LENGTH_MAX} characters"
        )
    return clean


def next_free_shortcodes(taken: set[int], count: int) -> list[str]:
    """The `count` lowest numbers of SHORTCODE_RANGE not in `taken`."""
    found: list[str] = []
    for number in SHORTCODE_RANGE:
        if number not in taken:
            found.append(str(number))
            if len(found) == count:
                return found
    raise OnboardingError("no production shortcodes are left in the onboarding range")
