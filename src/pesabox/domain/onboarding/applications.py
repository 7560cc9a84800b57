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
    problems: list[str] = []

    def attempt(check: object, *args: object) -> object:
        try:
            return check(*args)  # type: ignore[operator]
        except OnboardingError as error:
            problems.append(str(error))
            return None

    chosen_kind = attempt(_kind, kind)
    chosen_type = attempt(parse_business_type, business_type)
    org = attempt(_name, organisation_name, "organisation name")
    trading = attempt(_name, trading_name, "trading name")
    pin = attempt(_kra_pin, kra_pin, chosen_type) if chosen_type is not None else None
    details = attempt(_bank, {k: str(bank.get(k, "")) for k in _BANK_FIELDS})
    admin = [
        attempt(check_person_name, administrator.get("name", ""), "administrator's name"),
        attempt(check_operator_username, administrator.get("username", "")),
        attempt(check_phone, administrator.get("phone", ""), "administrator's phone"),
        attempt(check_email, administrator.get("email", "")),
    ]
    if problems:
        raise OnboardingError("; ".join(problems))
    return ApplicationForm(
        kind=chosen_kind,  # type: ignore[arg-type]
        business_type=chosen_type,  # type: ignore[arg-type]
        organisation_name=org,  # type: ignore[arg-type]
        trading_name=trading,  # type: ignore[arg-type]
        kra_pin=pin,  # type: ignore[arg-type]
        bank=details,  # type: ignore[arg-type]
        administrator=BusinessAdministrator(*admin),  # type: ignore[arg-type]
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
