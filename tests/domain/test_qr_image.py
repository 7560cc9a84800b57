"""QR images: sized as asked, and readable by an independent decoder (zxing-cpp)."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from pesabox.domain.qr_image import MIN_BORDER_MODULES, qr_png, scale_and_border


def read_qr(png: bytes) -> tuple[tuple[int, int], list[str]]:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    found = zxingcpp.read_barcodes(image)
    return image.size, [code.text for code in found if code.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.mark.parametrize("size_px", [100, 300, 555, 1000])
@pytest.mark.parametrize("text", ["0002010102", "Café Ñandú · 钱 · 😀", "x" * 299])
def test_qr_png_reads_back_at_about_the_size_asked(text: str, size_px: int) -> None:
    (width, height), texts = read_qr(qr_png(text, size_px=size_px))
    assert texts == [text]
    assert width == height
    # Whole pixels per module: the side can miss by at most one module's width.
    assert abs(width - size_px) <= size_px // 10


@given(st.integers(21, 177), st.integers(1, 2000))
def test_scale_and_border_is_within_one_module(symbol_modules: int, size_px: int) -> None:
    scale, border = scale_and_border(symbol_modules, size_px)
    assert scale >= 1 and border >= MIN_BORDER_MODULES
    side = (symbol_modules + 2 * border) * scale
    smallest = symbol_modules + 2 * MIN_BORDER_MODULES
    if size_px >= smallest:
        assert abs(side - size_px) <= scale
        # No larger module would still fit with the minimum border.
        assert (scale + 1) * smallest > size_px
    else:
        assert (scale, border) == (1, MIN_BORDER_MODULES)
