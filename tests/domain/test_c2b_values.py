"""C2B's pure rules: refused URL words, the payer's MSISDN forms, the validation answer."""

from __future__ import annotations

import hashlib

import pytest

from pesabox.domain import c2b


@pytest.mark.parametrize(
    ("url", "word"),
    [
        ("https://shop.example/M-PESA/cb", "MPESA"),
        ("https://shop.example/m_pesa", "MPESA"),
        ("https://mpesa.shop.example/cb", "MPESA"),
        ("https://hooks.example/Safaricom", "SAFARICOM"),
        ("https://shop.example/run.exe", "EXE"),
        ("https://shop.example/exec", "EXEC"),
        ("https://shop.example/cmd/x", "CMD"),
        ("https://shop.example/MySQL", "SQL"),
        ("https://shop.example/c?query=1", "QUERY"),
        ("https://shop.example/c2b/confirm", None),
        ("https://example.org/c2b/validate", None),
    ],
)
def test_forbidden_words(url: str, word: str | None) -> None:
    assert c2b.forbidden_word(url) == word


def test_msisdn_forms() -> None:
    assert c2b.show_msisdn("254708374149", "full") == "254708374149"
    assert c2b.show_msisdn("254708374149", "masked") == "2547 ***** 149"
    hashed = c2b.show_msisdn("254708374149", "hashed")
    assert hashed == hashlib.sha256(b"254708374149").hexdigest()
    assert len(hashed) == 64


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("John Doe", ("JOHN", "", "DOE")),
        ("Mary Wanjiru Kamau", ("MARY", "WANJIRU", "KAMAU")),
        ("Faith", ("FAITH", "", "")),
        ("", ("", "", "")),
    ],
)
def test_names(name: str, parts: tuple[str, str, str]) -> None:
    assert c2b.split_name(name) == parts


@pytest.mark.parametrize(
    ("status", "body", "accepted", "result", "third_party"),
    [
        (200, '{"ResultCode": "0", "ResultDesc": "Accepted"}', True, "0", ""),
        (200, '{"ResultCode": 0, "ThirdPartyTransID": "T-1"}', True, "0", "T-1"),
        (200, '{"ResultCode": "C2B00012", "ResultDesc": "Rejected"}', False, "C2B00012", ""),
        (200, '{"ResultCode": 1, "ResultDesc": "Rejected"}', False, "1", ""),
        (200, '{"ResultCode": null}', None, "bad_answer", ""),
        (200, '{"ResultCode": true}', None, "bad_answer", ""),
        (200, '{"ResultCode": 0.0}', None, "bad_answer", ""),
        (200, '{"ResultDesc": "Accepted"}', None, "bad_answer", ""),
        (200, "Accepted", None, "bad_answer", ""),
        (200, "[0]", None, "bad_answer", ""),
        (200, "", None, "bad_answer", ""),
        (500, '{"ResultCode": "0"}', None, "bad_answer", ""),
        (302, '{"ResultCode": "0"}', None, "bad_answer", ""),
        (200, '{"ResultCode": "0", "ThirdPartyTransID": true}', True, "0", ""),
    ],
)
def test_reading_the_answer(
    status: int, body: str, accepted: bool | None, result: str, third_party: str
) -> None:
    answer = c2b.read_validation_answer(status, body)
    assert (answer.accepted, answer.result, answer.third_party_trans_id) == (
        accepted,
        result,
        third_party,
    )


@pytest.mark.parametrize(
    ("accepted", "response_type", "completes"),
    [
        (True, "Cancelled", True),
        (False, "Completed", False),
        (None, "Completed", True),
        (None, "Cancelled", False),
    ],
)
def test_who_decides(accepted: bool | None, response_type: str, completes: bool) -> None:
    assert c2b.ValidationAnswer(accepted, "x").decides(response_type) is completes
