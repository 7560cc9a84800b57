"""Codes shown in the inspector get the catalogue's words, by family."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pesabox.domain.code_meanings import (
    GATEWAY_MEANINGS,
    family_of_callback,
    family_of_request,
    meaning,
)

SOURCE = Path(__file__).resolve().parents[2] / "src" / "pesabox"


def test_every_gateway_error_code_raised_is_catalogued() -> None:
    raised = {
        code
        for path in SOURCE.rglob("*.py")
        for code in re.findall(r'error_code\s*=\s*"([0-9.]+)"', path.read_text())
    }

    assert raised
    assert raised - set(GATEWAY_MEANINGS) == set()


@pytest.mark.parametrize(
    ("code", "family", "expected"),
    [
        ("2001", "stk", "wrong PIN"),
        ("2001", "initiator", "The initiator information is invalid."),
        ("1032", "stk", "Request cancelled by user"),
        ("R000001", "initiator", "already been reversed"),
        ("2040", "initiator", "can't be supported"),
        ("C2B00012", "c2b", "Invalid Account Number"),
        ("404.001.03", "gateway", "access token"),
    ],
)
def test_meaning_reads_the_family_catalogue(code: str, family: str, expected: str) -> None:
    found = meaning(code, family=family)  # type: ignore[arg-type]

    assert found is not None and expected in found


def test_meaning_of_an_unknown_code_is_none() -> None:
    assert meaning("99999", family="stk") is None
    assert meaning("not-a-number", family="stk") is None
    assert meaning(None, family="gateway") is None


def test_families_follow_kinds_and_paths() -> None:
    assert family_of_callback("stk") == "stk"
    assert family_of_callback("c2b_validation") == "c2b"
    assert family_of_callback("b2c_result") == "initiator"
    assert family_of_request("/mpesa/stkpushquery/v1/query") == "stk"
    assert family_of_request("/mpesa/stkpush/v1/processrequest") == "gateway"
