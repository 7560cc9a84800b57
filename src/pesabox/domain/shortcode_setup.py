"""The rules for setting up an organisation's shortcodes: kinds, tariffs and API services.

M-Pesa's integration FAQ: "While C2B & B2B or B2C & B2B can certainly share the same
shortcode, C2B and B2C cannot." The rule is enforced wherever a shortcode is set up or its
services change, and a breach is refused with a message, never quietly corrected: dropping one
of the two would leave an integrator wondering why their C2B or B2C calls stopped working.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

# [0-9], not \d: \d also matches digits of other scripts. 5 to 7 digits is the gateway's
# shortcode rule too (`api/validation.shortcode`, docs/decisions.md).
_SHORTCODE = re.compile(r"[0-9]{5,7}")
# The widths of the `organisations.name`, `shortcodes.name` and `shortcodes.passkey` columns.
NAME_LENGTH_MAX = 100
PASSKEY_LENGTH_MAX = 128
E = TypeVar("E", bound=StrEnum)

SHARING_RULE = (
    "C2B and B2C cannot share a shortcode (M-Pesa integration FAQ: C2B & B2B or B2C & B2B "
    "may share one, C2B and B2C may not); use a separate shortcode for B2C"
)


class ShortcodeSetupError(ValueError):
    """A shortcode or organisation set-up that breaks a rule; the message says which."""


class SetupNotFound(ShortcodeSetupError):
    """The organisation or shortcode named does not exist."""


class SetupConflict(ShortcodeSetupError):
    """The organisation or shortcode to create exists already."""


class ApiService(StrEnum):
    """The API services a shortcode is enabled for (not an app's products)."""

    C2B = "c2b"
    B2C = "b2c"
    B2B = "b2b"


class ShortcodeKind(StrEnum):
    PAYBILL = "paybill"
    TILL = "till"
    # A till's head office: the number Buy Goods pushes are signed with.
    STORE = "store"


class TariffProfile(StrEnum):
    CUSTOMER_BOUQUET = "customer_bouquet"
    BUSINESS_BOUQUET = "business_bouquet"
    MGAO = "mgao"
    MAUZO = "mauzo"


# Mauzo is the Buy Goods tariff and the bouquets and Mgao are PayBill tariffs; a store heads
# tills but may also take payments itself, so it may carry either family.
TARIFFS_BY_KIND: dict[ShortcodeKind, frozenset[TariffProfile]] = {
    ShortcodeKind.PAYBILL: frozenset(
        {TariffProfile.CUSTOMER_BOUQUET, TariffProfile.BUSINESS_BOUQUET, TariffProfile.MGAO}
    ),
    ShortcodeKind.TILL: frozenset({TariffProfile.MAUZO}),
    ShortcodeKind.STORE: frozenset(TariffProfile),
}


def _choice(enum: type[E], value: str, what: str) -> E:
    try:
        return enum(value.strip().lower())
    except ValueError:
        choices = ", ".join(member.value for member in enum)
        raise ShortcodeSetupError(f"unknown {what} {value!r}: use one of {choices}") from None


def check_shortcode(value: str, what: str = "shortcode") -> str:
    text = value.strip()
    if not _SHORTCODE.fullmatch(text):
        raise ShortcodeSetupError(f"{what} {value!r} must be 5 to 7 digits")
    return text


def check_name(value: str, what: str = "name") -> str:
    text = value.strip()
    if not text or len(text) > NAME_LENGTH_MAX or "\x00" in text:
        raise ShortcodeSetupError(f"{what} must be 1 to {NAME_LENGTH_MAX} characters")
    return text


def check_sharing(services: frozenset[ApiService]) -> None:
    if not services:
        raise ShortcodeSetupError("name at least one API service: c2b, b2c or b2b")
    if {ApiService.C2B, ApiService.B2C} <= services:
        raise ShortcodeSetupError(SHARING_RULE)


def parse_services(names: str | Iterable[str]) -> frozenset[ApiService]:
    """`"c2b,b2b"` or `["c2b", "b2b"]` -> the services, after the sharing rule."""
    parts = names.split(",") if isinstance(names, str) else names
    services = frozenset(_choice(ApiService, part, "API service") for part in parts if part.strip())
    check_sharing(services)
    return services


def format_services(services: Iterable[ApiService]) -> str:
    return ",".join(sorted(services))


@dataclass(frozen=True, slots=True)
class ShortcodeSetup:
    """A shortcode as it is to be set up; checked when made, so none exists that breaks a
    rule. Whether its store exists is a question for the database (`check_store`)."""

    shortcode: str
    kind: ShortcodeKind
    name: str
    tariff_profile: TariffProfile
    services: frozenset[ApiService]
    store_shortcode: str | None = None
    passkey: str | None = None

    def __post_init__(self) -> None:
        check_shortcode(self.shortcode)
        check_name(self.name)
        check_sharing(self.services)
        if self.tariff_profile not in TARIFFS_BY_KIND[self.kind]:
            allowed = ", ".join(sorted(TARIFFS_BY_KIND[self.kind]))
            raise ShortcodeSetupError(
                f"a {self.kind} cannot have the {self.tariff_profile} tariff: use {allowed}"
            )
        self._check_store_shortcode()
        if self.passkey is not None and (
            not 0 < len(self.passkey) <= PASSKEY_LENGTH_MAX or not self.passkey.isprintable()
        ):
            raise ShortcodeSetupError(
                f"passkey must be 1 to {PASSKEY_LENGTH_MAX} printable characters"
            )

    def _check_store_shortcode(self) -> None:
        if self.kind is not ShortcodeKind.TILL:
            if self.store_shortcode is not None:
                raise ShortcodeSetupError(f"only a till belongs to a store, not a {self.kind}")
            return
        if self.store_shortcode is None:
            raise ShortcodeSetupError("a till must name the store shortcode it belongs to")
        check_shortcode(self.store_shortcode, "store shortcode")
        if self.store_shortcode == self.shortcode:
            raise ShortcodeSetupError("a till cannot be its own store")


def parse_setup(
    *,
    shortcode: str,
    kind: str,
    name: str,
    tariff_profile: str,
    services: str | Iterable[str],
    store_shortcode: str | None = None,
    passkey: str | None = None,
) -> ShortcodeSetup:
    """A set-up from text as a person or a JSON body gives it."""
    return ShortcodeSetup(
        shortcode=check_shortcode(shortcode),
        kind=_choice(ShortcodeKind, kind, "kind"),
        name=check_name(name),
        tariff_profile=_choice(TariffProfile, tariff_profile, "tariff profile"),
        services=parse_services(services),
        store_shortcode=store_shortcode.strip() if store_shortcode else None,
        passkey=passkey or None,
    )


def check_store(setup: ShortcodeSetup, *, store_kind: str | None, same_organisation: bool) -> None:
    """A till's store must exist, be a store, and belong to the till's organisation (one
    head office, stores and tills form one organisation's hierarchy)."""
    if setup.store_shortcode is None:
        return
    if store_kind is None:
        raise ShortcodeSetupError(f"store shortcode {setup.store_shortcode} does not exist")
    if store_kind != ShortcodeKind.STORE:
        raise ShortcodeSetupError(
            f"shortcode {setup.store_shortcode} is a {store_kind}, not a store"
        )
    if not same_organisation:
        raise ShortcodeSetupError(f"store {setup.store_shortcode} belongs to another organisation")
