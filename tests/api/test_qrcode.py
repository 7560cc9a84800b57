"""Dynamic QR: `POST /mpesa/qrcode/v1/generate`, read back with an independent QR decoder."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import pytest
import zxingcpp
from mpesakit.dynamic_qr_code import DynamicQRGenerateRequest, DynamicQRGenerateResponse
from PIL import Image

from pesabox.domain import qr_payload
from pesabox.domain.products import Product
from pesabox.domain.qr_payload import QrPayment, QrTransactionCode
from pesabox.security.credentials import new_consumer_credentials, secret_digest
from pesabox.storage import apps_store
from pesabox.storage.db import write_transaction
from tests.api.conftest import Gateway
from tests.support import basic_auth

GENERATE_QR = "/mpesa/qrcode/v1/generate"


def qr_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "MerchantName": "TEST SUPERMARKET",
        "RefNo": "Invoice Test",
        "Amount": 1,
        "TrxCode": "BG",
        "CPI": "373132",
        "Size": "300",
    }
    body.update(changes)
    return {name: value for name, value in body.items() if value is not ...}


def scanned_text(qr_code: str) -> tuple[int, str]:
    """The image side and the text an independent decoder reads from a base64 PNG."""
    png = base64.b64decode(qr_code, validate=True)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    assert image.width == image.height
    (found,) = zxingcpp.read_barcodes(image)
    assert found.format == zxingcpp.BarcodeFormat.QRCode
    return image.width, found.text


@pytest.mark.parametrize(
    ("trx_code", "cpi", "ref_no"),
    [
        ("BG", "373132", "Invoice Test"),
        ("WA", "12345", "Cash out"),
        ("PB", "600000", "ACC-12345"),
        ("SM", "254708374149", "Lunch"),
        ("SB", "254722000000", "Stock"),
    ],
)
async def test_generate_qr_code_scans_back_to_the_request(
    gateway: Gateway, trx_code: str, cpi: str, ref_no: str
) -> None:
    body = qr_body(TrxCode=trx_code, CPI=cpi, RefNo=ref_no, Amount=250, Size="400")
    reply = await gateway.client.post(GENERATE_QR, json=body, headers=gateway.bearer)
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    assert answer.keys() == {"ResponseCode", "RequestID", "ResponseDescription", "QRCode"}
    assert answer["ResponseCode"] == "00"
    assert answer["ResponseDescription"] == "QR Code Successfully Generated."
    assert re.fullmatch(r"\d+-\d+-\d", answer["RequestID"])
    side_px, text = scanned_text(answer["QRCode"])
    assert abs(side_px - 400) <= 40
    assert qr_payload.decode(text) == QrPayment(
        transaction_code=QrTransactionCode(trx_code),
        credit_party=cpi,
        amount_cents=25_000,
        reference=ref_no,
        merchant_name="TEST SUPERMARKET",
    )


async def test_generate_qr_code_answers_mpesakit(gateway: Gateway) -> None:
    # mpesakit's own models on both sides: its request (which turns a 07… SM number into
    # 254…), and its response model and success test on our answer.
    request = DynamicQRGenerateRequest(
        MerchantName="Mama Mboga", RefNo="Sukuma", Amount=30, TrxCode="SM",
        CPI="0708374149", Size="300",
    )  # fmt: skip
    reply = await gateway.client.post(
        GENERATE_QR, json=request.model_dump(by_alias=True), headers=gateway.bearer
    )
    assert reply.status_code == 200, reply.text
    answer = DynamicQRGenerateResponse(**reply.json())
    assert answer.is_successful()
    payment = qr_payload.decode(scanned_text(answer.QRCode)[1])
    assert (payment.credit_party, payment.amount_cents) == ("254708374149", 3000)


async def test_generate_qr_code_trims_and_accepts_numbers(gateway: Gateway) -> None:
    body = qr_body(MerchantName="  Duka  ", Amount="7.00", CPI=373132, Size=150)
    reply = await gateway.client.post(GENERATE_QR, json=body, headers=gateway.bearer)
    assert reply.status_code == 200, reply.text
    side_px, text = scanned_text(reply.json()["QRCode"])
    payment = qr_payload.decode(text)
    assert (payment.merchant_name, payment.amount_cents, payment.credit_party) == (
        "Duka", 700, "373132",
    )  # fmt: skip
    assert abs(side_px - 150) <= 15


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"MerchantName": ...}, "MerchantName"),
        ({"MerchantName": ""}, "MerchantName"),
        ({"MerchantName": "x" * 65}, "MerchantName"),
        ({"MerchantName": "TEST\tSUPERMARKET"}, "MerchantName"),
        ({"MerchantName": True}, "MerchantName"),
        ({"RefNo": ...}, "RefNo"),
        ({"RefNo": "   "}, "RefNo"),
        ({"RefNo": "x" * 65}, "RefNo"),
        ({"RefNo": "a\u200bb"}, "RefNo"),
        # A PayBill account number is at most 20 characters: longer, and no phone could pay it.
        ({"TrxCode": "PB", "CPI": "600000", "RefNo": "x" * 21}, "RefNo"),
        ({"Amount": ...}, "Amount"),
        ({"Amount": 0}, "Amount"),
        ({"Amount": -5}, "Amount"),
        ({"Amount": 1.5}, "Amount"),
        ({"Amount": "ten"}, "Amount"),
        ({"TrxCode": ...}, "TrxCode"),
        ({"TrxCode": "bg"}, "TrxCode"),
        ({"TrxCode": "XX"}, "TrxCode"),
        ({"TrxCode": 1}, "TrxCode"),
        ({"CPI": ...}, "CPI"),
        ({"CPI": "1234"}, "CPI"),
        ({"CPI": "37313a"}, "CPI"),
        ({"CPI": "254708374149"}, "CPI"),
        ({"TrxCode": "PB", "CPI": "12345678"}, "CPI"),
        ({"TrxCode": "SM", "CPI": "0708374149"}, "CPI"),
        ({"TrxCode": "SM", "CPI": "+254708374149"}, "CPI"),
        ({"TrxCode": "SM", "CPI": "373132"}, "CPI"),
        ({"TrxCode": "SB", "CPI": "254608374149"}, "CPI"),
        ({"Size": ...}, "Size"),
        ({"Size": "99"}, "Size"),
        ({"Size": "1001"}, "Size"),
        ({"Size": "300px"}, "Size"),
        ({"Size": ""}, "Size"),
        ({"Size": -300}, "Size"),
        # Two bad fields: the first in Daraja's order is named.
        ({"MerchantName": "", "Size": "1"}, "MerchantName"),
        ({"Amount": 0, "TrxCode": "XX"}, "Amount"),
    ],
)  # fmt: skip
async def test_generate_qr_code_refuses_bad_field(
    gateway: Gateway, changes: dict[str, Any], field: str
) -> None:
    reply = await gateway.client.post(GENERATE_QR, json=qr_body(**changes), headers=gateway.bearer)
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == "400.002.02"
    assert reply.json()["errorMessage"] == f"Bad Request - Invalid {field}"


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b'"text"'])
async def test_generate_qr_code_refuses_malformed_json(gateway: Gateway, content: bytes) -> None:
    headers = gateway.bearer | {"Content-Type": "application/json"}
    reply = await gateway.client.post(GENERATE_QR, content=content, headers=headers)
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == "400.002.05"
    assert reply.json()["errorMessage"] == "Invalid Request Payload"


async def test_generate_qr_code_without_json_content_type_names_first_field(
    gateway: Gateway,
) -> None:
    # As Daraja: a body not sent as JSON reads as empty, and the first field is "invalid".
    headers = gateway.bearer | {"Content-Type": "text/plain"}
    reply = await gateway.client.post(GENERATE_QR, content=b"{}", headers=headers)
    assert reply.status_code == 400
    assert reply.json()["errorMessage"] == "Bad Request - Invalid MerchantName"


@pytest.mark.parametrize(
    ("authorization", "status", "code"),
    [
        (None, 404, "404.001.04"),
        ("Basic abc", 404, "404.001.04"),
        ("Bearer not-a-token", 404, "404.001.03"),
    ],
)
async def test_generate_qr_code_refuses_bad_bearer(
    gateway: Gateway, authorization: str | None, status: int, code: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    # The token is checked before the body, so a bad body still reports the token.
    reply = await gateway.client.post(GENERATE_QR, json=qr_body(Size="1"), headers=headers)
    assert reply.status_code == status
    assert reply.json()["errorCode"] == code


async def test_generate_qr_code_refuses_app_without_dynamic_qr(gateway: Gateway) -> None:
    key, secret = new_consumer_credentials()
    with write_transaction(gateway.platform.engine) as conn:
        apps_store.insert_app(
            conn,
            name="express-only",
            consumer_key=key,
            secret_digest=secret_digest(secret),
            products=frozenset(Product) - {Product.DYNAMIC_QR},
            now=0,
        )
    token_reply = await gateway.client.get(
        "/oauth/v1/generate",
        params={"grant_type": "client_credentials"},
        headers={"Authorization": basic_auth(key, secret)},
    )
    token = token_reply.json()["access_token"]
    reply = await gateway.client.post(
        GENERATE_QR, json=qr_body(), headers={"Authorization": f"Bearer {token}"}
    )
    assert reply.status_code == 401
    assert reply.json()["errorCode"] == "401.003.01"


async def test_generate_qr_code_refuses_get(gateway: Gateway) -> None:
    reply = await gateway.client.get(GENERATE_QR, headers=gateway.bearer)
    assert reply.status_code == 405
    assert reply.json()["errorCode"] == "405.001"


async def test_generate_qr_code_is_in_the_openapi_document(gateway: Gateway) -> None:
    reply = await gateway.client.get("/docs/openapi.json")
    assert reply.status_code == 200
    assert "post" in reply.json()["paths"][GENERATE_QR]
