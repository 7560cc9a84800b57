from __future__ import annotations

from datetime import datetime

import pytest

from pesabox.clock import EAT
from pesabox.domain import pull_transactions as pull


def eat(year: int, month: int, day: int, hour: int, minute: int, second: int) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=EAT).timestamp()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-08-04 8:36:00", eat(2020, 8, 4, 8, 36, 0)),
        ("2020-08-16 10:10:000", eat(2020, 8, 16, 10, 10, 0)),
        ("2020-08-16 10:10:59", eat(2020, 8, 16, 10, 10, 59)),
        ("2020-8-6 07:05", eat(2020, 8, 6, 7, 5, 0)),
        ("2020-08-16T10:10:00", eat(2020, 8, 16, 10, 10, 0)),
        ("  2020-08-16 10:10:00 ", eat(2020, 8, 16, 10, 10, 0)),
    ],
)
def test_parse_pull_date_accepts_daraja_samples(text: str, expected: float) -> None:
    assert pull.parse_pull_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2020-08-04",
        "20200804083600",
        "2020-02-30 10:00:00",
        "2020-08-04 24:00:00",
        "2020-08-04 10:60:00",
        "2020-08-04 10:10:075",
        "2020-08-04 10:10:0000",
        "04-08-2020 10:10:00",
        "2020-08-04 10:10:00Z",
        "2020-08-04 10:10:00 extra",
    ],
)
def test_parse_pull_date_refuses_non_dates(text: str) -> None:
    assert pull.parse_pull_date(text) is None


def test_query_window_cuts_the_start_to_48_hours() -> None:
    now = eat(2026, 1, 10, 12, 0, 0)
    query = pull.PullQuery("600000", start_s=now - 7 * 86400, end_s=now, offset=0)
    window = pull.query_window(query, now_s=now)
    assert window.start_s == now - pull.WINDOW_S
    assert window.end_s == now + 1


def test_query_window_keeps_a_recent_start() -> None:
    now = eat(2026, 1, 10, 12, 0, 0)
    query = pull.PullQuery("600000", start_s=now - 3600, end_s=now - 60, offset=0)
    window = pull.query_window(query, now_s=now)
    assert (window.start_s, window.end_s) == (now - 3600, now - 59)


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("0722000000", "254722000000"),
        ("0110000001", "254110000001"),
        ("254722000000", "254722000000"),
        ("254110000001", "254110000001"),
        ("0622000000", None),
        ("072200000", None),
        ("2547220000001", None),
        ("254622000000", None),
        ("722000000", None),
    ],
)
def test_normalise_nominated_number(digits: str, expected: str | None) -> None:
    assert pull.normalise_nominated_number(digits) == expected


def test_trx_date_is_utc_with_z() -> None:
    assert pull.trx_date(eat(2020, 8, 5, 13, 13, 0) + 0.75) == "2020-08-05T10:13:00Z"


def test_transaction_type_names() -> None:
    assert pull.transaction_type_name("Pay Bill") == "c2b-pay-bill-debit"
    assert pull.transaction_type_name("Buy Goods") == "c2b-buy-goods-debit"
    with pytest.raises(ValueError, match="unknown C2B transaction type"):
        pull.transaction_type_name("Send Money")


def payment(**names: str) -> pull.PulledPayment:
    return pull.PulledPayment(
        trans_id="UAB1234567",
        completed_at=0.0,
        transaction_type="Pay Bill",
        msisdn="254722000000",
        first_name=names.get("first", ""),
        middle_name=names.get("middle", ""),
        last_name=names.get("last", ""),
        bill_ref_number="INV1",
        amount_cents=16_800,
        organisation_name="Org",
    )


def test_sender_name_skips_empty_parts() -> None:
    assert pull.sender_name(payment(first="John", middle="", last="Doe")) == "John Doe"
    assert pull.sender_name(payment(first="John", middle="K", last="Doe")) == "John K Doe"
    assert pull.sender_name(payment()) == ""


def test_amount_text_has_two_decimals() -> None:
    assert pull.amount_text(16_800) == "168.00"
    assert pull.amount_text(5) == "0.05"
