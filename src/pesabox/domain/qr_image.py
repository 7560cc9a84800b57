"""A QR code as a square PNG of about the size Daraja's `Size` asks for."""

from __future__ import annotations

import io

import segno

# The QR standard asks for a light margin ("quiet zone") of at least four modules around the
# symbol; scanners find the code by it.
MIN_BORDER_MODULES = 4


def qr_png(text: str, *, size_px: int) -> bytes:
    """A PNG of `text` as a QR code, as close to `size_px` square as whole pixels allow.

    Error correction M (15 % of the symbol may be lost) is the usual choice for codes shown on
    screens and till printouts; segno raises it further when that costs no extra modules.
    """
    # micro=False: a micro QR is smaller but most phone scanners cannot read one.
    code = segno.make(text, error="m", micro=False)
    symbol_modules, _ = code.symbol_size(scale=1, border=0)
    scale, border = scale_and_border(int(symbol_modules), size_px)
    output = io.BytesIO()
    code.save(output, kind="png", scale=scale, border=border)
    return output.getvalue()


def scale_and_border(symbol_modules: int, size_px: int) -> tuple[int, int]:
    """Pixels per module and border modules for an image side within one module of `size_px`.

    A module must be a whole number of pixels to stay sharp, so the side is
    `(symbol_modules + 2 * border) * scale`. The largest scale that fits with the minimum
    border makes the code easiest to scan; widening the border then takes up what the scale
    alone cannot. A request too small for one pixel per module gets the smallest readable image.
    """
    scale = max(1, size_px // (symbol_modules + 2 * MIN_BORDER_MODULES))
    border = max(MIN_BORDER_MODULES, round((size_px / scale - symbol_modules) / 2))
    return scale, border
