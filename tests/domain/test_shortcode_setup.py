from __future__ import annotations

from typing import Any

import pytest

from pesabox.domain.shortcode_setup import (
    SHARING_RULE,
    ApiService,
    ShortcodeKind,
    ShortcodeSetup,
    ShortcodeSetupError,
    TariffProfile,
    check_store,
    format_services,
    parse_services,
    parse_setup,
)

C2B, B2C, B2B = ApiService.C2B, ApiService.B2C, ApiService.B2B


def setup(**overrides: Any) -> ShortcodeSetup:
    values: dict[str, Any] = {
        "shortcode": "600100",
        "kind": "paybill",
        "name": "Acme PayBill",
        "tariff_profile": "customer_bouquet",
        "services": "c2b,b2b",
    }
    return parse_setup(**(values | overrides))


@pytest.mark.parametrize(
    ("names", "services"),
    [
        ("c2b", {C2B}),
        ("b2c", {B2C}),
        ("b2b", {B2B}),
        ("c2b,b2b", {C2B, B2B}),
        ("b2c,b2b", {B2C, B2B}),
        (" B2B , c2b ,", {C2B, B2B}),
        (["b2b", "b2c"], {B2C, B2B}),
    ],
)
def test_parse_services_sharing_allowed(names: str | list[str], services: set[ApiService]) -> None:
    assert parse_services(names) == services


@pytest.mark.parametrize("names", ["c2b,b2c", "b2c,c2b", "c2b,b2c,b2b", ["b2b", "c2b", "b2c"]])
def test_parse_services_c2b_with_b2c_refused(names: str | list[str]) -> None:
    with pytest.raises(ShortcodeSetupError) as refused:
        parse_services(names)
    assert str(refused.value) == SHARING_RULE
    assert "C2B and B2C cannot share a shortcode" in SHARING_RULE


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ("c2b,teleport", "unknown API service 'teleport': use one of c2b, b2c, b2b"),
        ("mpesa_express", "unknown API service 'mpesa_express'"),
        ("", "name at least one API service"),
        (" , ", "name at least one API service"),
        ([], "name at least one API service"),
    ],
)
def test_parse_services_bad_names_refused(names: str | list[str], message: str) -> None:
    with pytest.raises(ShortcodeSetupError, match=message):
        parse_services(names)


def test_format_services_is_sorted_and_round_trips() -> None:
    assert format_services({B2B, C2B}) == "b2b,c2b"
    assert parse_services(format_services({B2C, B2B})) == {B2C, B2B}


@pytest.mark.parametrize(
    ("kind", "tariff", "allowed"),
    [
        (kind, tariff, allowed)
        for kind, allowed_tariffs in [
            ("paybill", {"customer_bouquet", "business_bouquet", "mgao"}),
            ("till", {"mauzo"}),
            ("store", {"customer_bouquet", "business_bouquet", "mgao", "mauzo"}),
        ]
        for tariff in TariffProfile
        for allowed in [tariff in allowed_tariffs]
    ],
)
def test_setup_kind_and_tariff_compatibility(kind: str, tariff: str, allowed: bool) -> None:
    store = "174380" if kind == "till" else None
    if allowed:
        made = setup(kind=kind, tariff_profile=tariff, store_shortcode=store)
        assert (made.kind, made.tariff_profile) == (kind, tariff)
    else:
        with pytest.raises(ShortcodeSetupError, match=f"a {kind} cannot have the {tariff} tariff"):
            setup(kind=kind, tariff_profile=tariff, store_shortcode=store)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"shortcode": "1234"}, "shortcode '1234' must be 5 to 7 digits"),
        ({"shortcode": "12345678"}, "must be 5 to 7 digits"),
        ({"shortcode": "60O100"}, "must be 5 to 7 digits"),
        ({"shortcode": "６００１００"}, "must be 5 to 7 digits"),
        ({"kind": "shop"}, "unknown kind 'shop': use one of paybill, till, store"),
        ({"tariff_profile": "free"}, "unknown tariff profile 'free'"),
        ({"name": "  "}, "name must be 1 to 100 characters"),
        ({"name": "x" * 101}, "name must be 1 to 100 characters"),
        ({"services": "c2b,b2c"}, "C2B and B2C cannot share"),
        ({"store_shortcode": "174380"}, "only a till belongs to a store, not a paybill"),
        ({"kind": "till", "tariff_profile": "mauzo"}, "a till must name the store shortcode"),
        (
            {"kind": "till", "tariff_profile": "mauzo", "store_shortcode": "17"},
            "store shortcode '17' must be 5 to 7 digits",
        ),
        (
            {"kind": "till", "tariff_profile": "mauzo", "store_shortcode": "600100"},
            "a till cannot be its own store",
        ),
        ({"passkey": "k" * 129}, "passkey must be 1 to 128 printable characters"),
    ],
)
def test_setup_refusals(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ShortcodeSetupError, match=message):
        setup(**overrides)


def test_setup_cleans_text() -> None:
    made = setup(shortcode=" 600100 ", kind="PayBill", name=" Acme ", passkey="")
    assert (made.shortcode, made.kind, made.name, made.passkey) == (
        "600100",
        ShortcodeKind.PAYBILL,
        "Acme",
        None,
    )


def test_setup_checks_even_when_built_directly() -> None:
    # The dataclass is the only way to hold a set-up, so bypassing parse_setup checks too.
    with pytest.raises(ShortcodeSetupError, match=SHARING_RULE[:20]):
        ShortcodeSetup(
            "600100",
            ShortcodeKind.PAYBILL,
            "Acme",
            TariffProfile.MGAO,
            frozenset({C2B, B2C}),
        )


@pytest.mark.parametrize(
    ("store_kind", "same_organisation", "message"),
    [
        (None, False, "store shortcode 174380 does not exist"),
        ("paybill", True, "shortcode 174380 is a paybill, not a store"),
        ("till", True, "is a till, not a store"),
        ("store", False, "store 174380 belongs to another organisation"),
    ],
)
def test_check_store_refusals(
    store_kind: str | None, same_organisation: bool, message: str
) -> None:
    till = setup(kind="till", tariff_profile="mauzo", store_shortcode="174380")
    with pytest.raises(ShortcodeSetupError, match=message):
        check_store(till, store_kind=store_kind, same_organisation=same_organisation)


def test_check_store_accepts_own_store_and_ignores_non_tills() -> None:
    till = setup(kind="till", tariff_profile="mauzo", store_shortcode="174380")
    check_store(till, store_kind="store", same_organisation=True)
    check_store(setup(), store_kind=None, same_organisation=False)
