"""What a CRQ may ask for, and the one-time code's rules, as pure functions."""

from __future__ import annotations

import pytest

from pesabox.domain import change_requests as crq
from pesabox.domain import one_time_codes as otp
from pesabox.domain.products import Product


def test_go_live_products_and_name() -> None:
    asked = crq.go_live("  Duka Shop ", ["c2b", "mpesa_express"])
    assert asked == crq.GoLive("Duka Shop", frozenset({Product.C2B, Product.MPESA_EXPRESS}))


@pytest.mark.parametrize(
    ("name", "products", "message"),
    [
        ("", ["c2b"], "app name"),
        ("x" * 101, ["c2b"], "app name"),
        ("Shop\x00", ["c2b"], "app name"),
        ("Shop", [], "at least one product"),
        ("Shop", ["c2b", "teleport"], "unknown product"),
    ],
)
def test_go_live_refusals(name: str, products: list[str], message: str) -> None:
    with pytest.raises(crq.ChangeRequestError, match=message):
        crq.go_live(name, products)


def test_url_change_keeps_https_urls() -> None:
    change = crq.url_change("https://shop.example/confirm", "https://shop.example/v", "Completed")
    assert change.validation_url == "https://shop.example/v"


@pytest.mark.parametrize(
    ("confirmation", "response_type", "message"),
    [
        ("http://shop.example/confirm", "Completed", "must be an https URL"),
        ("https://shop.example/mpesa/confirm", "Completed", "the word MPESA"),
        ("https://shop.example/M-Pesa/c", "Completed", "the word MPESA"),
        ("https://safaricom.example/c", "Completed", "the word SAFARICOM"),
        ("https://shop.example/query", "Completed", "the word QUERY"),
        ("https://shop.example/c", "completed", "ResponseType"),
        ("https://shop.example/c", "Canceled", "ResponseType"),
        ("https:///nohost", "Completed", "https URL"),
        ("https://[::1/c", "Completed", "not a URL"),
        (" https://shop.example/c", "Completed", "not a URL"),
        ("https://shop.example/" + "a" * 1100, "Completed", "longer than"),
    ],
)
def test_url_change_refusals(confirmation: str, response_type: str, message: str) -> None:
    with pytest.raises(crq.ChangeRequestError, match=message):
        crq.url_change(confirmation, "https://shop.example/validate", response_type)


def test_certificate_signing_wants_one_pem_request() -> None:
    with pytest.raises(crq.ChangeRequestError, match="PEM certificate request"):
        crq.certificate_signing("-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----")


@pytest.mark.parametrize(
    ("text", "message"), [("", "required"), ("   ", "required"), ("x" * 1001, "longer")]
)
def test_reason_text_refusals(text: str, message: str) -> None:
    with pytest.raises(crq.ChangeRequestError, match=message):
        crq.reason_text(text)


# --- one-time codes ---------------------------------------------------------------------


def _stored(code: str, *, attempts: int = 0, dead: bool = False) -> otp.StoredCode:
    salt = otp.new_salt()
    return otp.StoredCode(salt, otp.code_digest(code, salt), 600.0, attempts, dead)


def test_new_code_is_six_digits() -> None:
    codes = [otp.new_code() for _ in range(100)]
    assert all(otp.is_well_formed(code) for code in codes)


def test_digest_is_salted() -> None:
    assert otp.code_digest("123456", "a") != otp.code_digest("123456", "b")


@pytest.mark.parametrize(
    ("typed", "attempts", "dead", "now", "verdict"),
    [
        ("123456", 0, False, 0.0, otp.Verdict.ACCEPTED),
        ("123456", 2, False, 599.9, otp.Verdict.ACCEPTED),
        ("654321", 0, False, 0.0, otp.Verdict.WRONG),
        ("654321", 1, False, 0.0, otp.Verdict.WRONG),
        ("654321", 2, False, 0.0, otp.Verdict.EXHAUSTED),
        ("123456", 3, False, 0.0, otp.Verdict.DEAD),
        ("123456", 0, True, 0.0, otp.Verdict.DEAD),
        ("123456", 0, False, 600.0, otp.Verdict.EXPIRED),
        ("12345", 0, False, 0.0, otp.Verdict.WRONG),
        ("１２３４５６", 0, False, 0.0, otp.Verdict.WRONG),
    ],
)
def test_judge(typed: str, attempts: int, dead: bool, now: float, verdict: otp.Verdict) -> None:
    assert otp.judge(_stored("123456", attempts=attempts, dead=dead), typed, now=now) is verdict
