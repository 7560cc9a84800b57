"""Bonga's and Send Money's rules as pure values: points earned, transfers, the PIN's shape,
vetting, and the P2P tariff's bands."""

from __future__ import annotations

from datetime import date

import pytest

from pesabox.domain.bonga import is_valid_pin, points_earned, transfer_refusal, vetting_passes
from pesabox.domain.rules import p2p_fee_cents

DAY = date(2026, 11, 28)


@pytest.mark.parametrize(
    ("amount_cents", "rate", "points"),
    [
        (100_000, 10, 100),  # KES 1,000 at one point per KES 10
        (999, 10, 0),  # KES 9.99: fractions are dropped
        (1_000, 10, 1),
        (123_456, 10, 123),
        (100_000, 0, 0),  # earning off
        (100_000, 1, 10),
    ],
)
def test_points_earned_are_whole_points(amount_cents: int, rate: int, points: int) -> None:
    assert points_earned(amount_cents, points_per_100_kes=rate) == points


@pytest.mark.parametrize(
    ("balance", "points", "refused"),
    [
        (200, 49, "minimum of 50"),
        (200, 50, None),
        (100, 50, None),  # leaves exactly 50
        (100, 51, "keep at least 50"),
        (60, 50, "keep at least 50"),
    ],
)
def test_transfer_needs_50_points_and_keeps_50(
    balance: int, points: int, refused: str | None
) -> None:
    reason = transfer_refusal(balance_points=balance, points=points)
    assert (reason is None) == (refused is None)
    if refused is not None:
        assert refused in (reason or "")


@pytest.mark.parametrize(
    ("pin", "valid"), [("1234", True), ("0000", True), ("123", False), ("12345", False),
                       ("12a4", False), ("١٢٣٤", False)],
)  # fmt: skip
def test_bonga_pin_is_four_ascii_digits(pin: str, valid: bool) -> None:
    assert is_valid_pin(pin) is valid


@pytest.mark.parametrize(
    ("given_id", "on_file", "given_topup", "last_topup", "passes"),
    [
        ("12345678", "12345678", 10_000, 10_000, True),
        (" 12345678 ", "12345678", 10_000, 10_000, True),
        ("12345679", "12345678", 10_000, 10_000, False),
        ("12345678", "12345678", 5_000, 10_000, False),
        ("12345678", None, 10_000, 10_000, False),  # no ID on file
        ("12345678", "12345678", 0, None, False),  # never topped up
    ],
)
def test_vetting_needs_both_answers(
    given_id: str, on_file: str | None, given_topup: int, last_topup: int | None, passes: bool
) -> None:
    assert (
        vetting_passes(
            national_id_given=given_id,
            national_id_on_file=on_file,
            topup_given_cents=given_topup,
            last_topup_cents=last_topup,
        )
        is passes
    )


@pytest.mark.parametrize(
    ("shillings", "fee"),
    [(1, 0), (100, 0), (101, 7), (500, 7), (501, 13), (1_500, 23), (2_500, 33), (3_500, 53),
     (5_000, 57), (7_500, 78), (10_000, 90), (15_000, 100), (20_000, 105), (250_000, 108)],
)  # fmt: skip
def test_send_money_fee_follows_the_p2p_bands(shillings: int, fee: int) -> None:
    assert p2p_fee_cents(shillings * 100, DAY) == fee * 100
