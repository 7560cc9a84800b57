"""The Dynamic QR payload: its exact layout, round trips, and refusal of anything else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pesabox.domain import qr_payload
from pesabox.domain.qr_payload import (
    InvalidQrPayload,
    QrPayment,
    QrTransactionCode,
    crc16_ccitt,
    decode,
    encode,
)
from pesabox.money import MAX_PARSED_SHILLINGS

SAMPLE = QrPayment(
    transaction_code=QrTransactionCode.BUY_GOODS,
    credit_party="373132",
    amount_cents=100,
    reference="Invoice Test",
    merchant_name="TEST SUPERMARKET",
)
SAMPLE_PAYLOAD = (
    "000201010212"
    "26330013pesabox.mpesa0102BG0206373132"
    "5303404540115802KE5916TEST SUPERMARKET"
    "62160512Invoice Test"
    "6304D40B"
)
# The sample's fields before the checksum, for building payloads with one thing changed.
SAMPLE_FIELDS = [
    ("00", "01"),
    ("01", "12"),
    ("26", "0013pesabox.mpesa0102BG0206373132"),
    ("53", "404"),
    ("54", "1"),
    ("58", "KE"),
    ("59", "TEST SUPERMARKET"),
    ("62", "0512Invoice Test"),
]


def sealed(fields: list[tuple[str, str]]) -> str:
    """A payload of `fields` with a correct checksum: only the content can be wrong."""
    body = "".join(f"{field_id}{len(value):02d}{value}" for field_id, value in fields) + "6304"
    return f"{body}{crc16_ccitt(body.encode()):04X}"


def replaced(field_id: str, value: str) -> list[tuple[str, str]]:
    return [(i, value if i == field_id else v) for i, v in SAMPLE_FIELDS]


def test_qr_payload_exports() -> None:
    assert sorted(qr_payload.__all__) == [
        "InvalidQrPayload", "QrPayment", "QrTransactionCode", "crc16_ccitt", "decode", "encode",
    ]  # fmt: skip


def test_crc16_ccitt_check_value() -> None:
    # The catalogue check value of CRC-16/CCITT-FALSE, the EMV QR checksum.
    assert crc16_ccitt(b"123456789") == 0x29B1


def test_encode_sample_is_pinned() -> None:
    assert encode(SAMPLE) == SAMPLE_PAYLOAD
    assert sealed(SAMPLE_FIELDS) == SAMPLE_PAYLOAD


def test_decode_sample() -> None:
    assert decode(SAMPLE_PAYLOAD) == SAMPLE


def _text(max_size: int) -> st.SearchStrategy[str]:
    # Printable text of any script, spaces included, as names and references may be.
    letters = st.characters(exclude_categories=("C", "Z"), include_characters=" ")
    return st.text(letters, min_size=1, max_size=max_size).filter(str.isprintable)


@st.composite
def payments(draw: st.DrawFn, text: st.SearchStrategy[str] | None = None) -> QrPayment:
    code = draw(st.sampled_from(QrTransactionCode))
    if code in qr_payload.MSISDN_CODES:
        credit_party = draw(st.from_regex(r"254[17][0-9]{8}", fullmatch=True))
    else:
        credit_party = draw(st.from_regex(r"[0-9]{5,7}", fullmatch=True))
    return QrPayment(
        transaction_code=code,
        credit_party=credit_party,
        amount_cents=draw(st.integers(1, MAX_PARSED_SHILLINGS)) * 100,
        reference=draw(_text(qr_payload.MAX_REFERENCE_LENGTH) if text is None else text),
        merchant_name=draw(_text(qr_payload.MAX_NAME_LENGTH) if text is None else text),
    )


@given(payments())
def test_decode_inverts_encode(payment: QrPayment) -> None:
    payload = encode(payment)
    assert len(payload) <= qr_payload.MAX_PAYLOAD_LENGTH
    assert decode(payload) == payment


ASCII_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=40)


@given(payments(text=ASCII_TEXT), st.data())
def test_decode_refuses_any_one_character_changed(payment: QrPayment, data: st.DataObject) -> None:
    # On ASCII a one-character change is an error burst of at most 8 bits, which CRC-16
    # always detects, so every such edit must be refused, whichever character it hits.
    payload = encode(payment)
    position = data.draw(st.integers(0, len(payload) - 1))
    other = data.draw(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E).filter(
            lambda c: c != payload[position]
        )
    )
    with pytest.raises(InvalidQrPayload):
        decode(payload[:position] + other + payload[position + 1 :])


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (SAMPLE_PAYLOAD.replace("Invoice Test", "Invoice Tess"), "checksum mismatch"),
        (SAMPLE_PAYLOAD.replace("540115", "540195"), "checksum mismatch"),
        (SAMPLE_PAYLOAD[:-1], "does not end in a checksum"),
        (SAMPLE_PAYLOAD[:-4] + "d40b", "does not end in a checksum"),
        (SAMPLE_PAYLOAD[:-8], "does not end in a checksum"),
        ("", "does not end in a checksum"),
        ("x" * 513, "too long"),
        (sealed([*SAMPLE_FIELDS, ("27", "x")]), "unknown field 27"),
        (sealed([*SAMPLE_FIELDS, ("63", "ABCD")]), "unknown field 63"),
        (sealed(SAMPLE_FIELDS[:-1]), "missing field 62"),
        (sealed([*SAMPLE_FIELDS, ("54", "1")]), "field 54 appears twice"),
        (sealed(SAMPLE_FIELDS[1:] + SAMPLE_FIELDS[:1]), "must come first"),
        (sealed(replaced("00", "02")), "field 00 must be '01'"),
        (sealed(replaced("01", "11")), "field 01 must be '12'"),
        (sealed(replaced("53", "840")), "field 53 must be '404'"),
        (sealed(replaced("58", "TZ")), "field 58 must be 'KE'"),
        (sealed(replaced("26", "0013pesabox.mpesa0102BG")), "missing field 02"),
        (sealed(replaced("26", "0009other.app0102BG0206373132")), "is not pesabox.mpesa's"),
        (sealed(replaced("26", "0013pesabox.mpesa0102XX0206373132")), "unknown TrxCode"),
        (sealed(replaced("26", "0013pesabox.mpesa0102SM0206373132")), "not valid for TrxCode SM"),
        (sealed(replaced("26", "0013pesabox.mpesa0102BG02122547123456")), "runs past the end"),
        (sealed(replaced("62", "0512Invoice Test0101x")), "unknown field 01"),
        (sealed(replaced("54", "01")), "not a whole number"),
        (sealed(replaced("54", "1.00")), "not a whole number"),
        (sealed(replaced("54", "0")), "not a whole number"),
        (sealed(replaced("54", "１")), "not a whole number"),
        (sealed(replaced("59", "TEST\nSUPERMARKET")), "MerchantName must be"),
        (sealed(replaced("62", "0500")), "RefNo must be"),
        (sealed([*SAMPLE_FIELDS[:-1], ("62", "0512Invoice")]), "runs past the end"),
        (sealed([*SAMPLE_FIELDS[:-1], ("6x", "")]), "bad field ID"),
        (sealed([*SAMPLE_FIELDS[:-1], ("62", "05x1")]), "bad length"),
        (SAMPLE_PAYLOAD[:-8] + "\ud800" + SAMPLE_PAYLOAD[-8:], "not valid Unicode"),
    ],
)  # fmt: skip
def test_decode_refuses(payload: str, message: str) -> None:
    with pytest.raises(InvalidQrPayload, match=message):
        decode(payload)


def test_decode_refuses_text_that_is_not_a_string() -> None:
    with pytest.raises(InvalidQrPayload):
        decode(b"0002" + SAMPLE_PAYLOAD.encode())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"credit_party": "1234"}, "CPI"),
        ({"credit_party": "12345678"}, "CPI"),
        ({"credit_party": "254712345678"}, "CPI"),
        ({"transaction_code": QrTransactionCode.SEND_MONEY}, "CPI"),
        ({"transaction_code": "BG"}, "unknown TrxCode"),
        ({"amount_cents": 150}, "whole shillings"),
        ({"amount_cents": 0}, "whole shillings"),
        ({"amount_cents": (MAX_PARSED_SHILLINGS + 1) * 100}, "whole shillings"),
        ({"merchant_name": ""}, "MerchantName"),
        ({"merchant_name": "x" * 100}, "MerchantName"),
        ({"merchant_name": "a\u200bb"}, "MerchantName"),
        ({"reference": "x" * 96}, "RefNo"),
        ({"reference": "\x00"}, "RefNo"),
    ],
)
def test_encode_refuses(change: dict[str, object], message: str) -> None:
    fields = {
        "transaction_code": SAMPLE.transaction_code,
        "credit_party": SAMPLE.credit_party,
        "amount_cents": SAMPLE.amount_cents,
        "reference": SAMPLE.reference,
        "merchant_name": SAMPLE.merchant_name,
    } | change
    with pytest.raises(InvalidQrPayload, match=message):
        encode(QrPayment(**fields))  # type: ignore[arg-type]


def test_invalid_payload_is_a_value_error() -> None:
    assert issubclass(InvalidQrPayload, ValueError)


def test_decode_accepts_fields_in_any_order_after_the_format_indicator() -> None:
    reordered = [SAMPLE_FIELDS[0], *reversed(SAMPLE_FIELDS[1:])]
    reordered = [(i, "0206373132" + "0102BG" + "0013pesabox.mpesa" if i == "26" else v)
                 for i, v in reordered]  # fmt: skip
    assert decode(sealed(reordered)) == SAMPLE
