"""The data bundles a customer can buy with M-PESA from the Bonga menu: a small catalogue.

The bundles and prices are illustrative sandbox values in the style of Safaricom's offers,
not a published price list (mpesa-domain-and-g2.md §2.9 leaves the current flow open).
"""

from __future__ import annotations

from dataclasses import dataclass

from pesabox.money import shillings_to_cents as kes


@dataclass(frozen=True, slots=True)
class DataBundle:
    code: str
    name: str
    price_cents: int


CATALOGUE: tuple[DataBundle, ...] = (
    DataBundle("DAILY_1GB", "1GB valid for 1 hour", kes(19)),
    DataBundle("DAILY_1_5GB", "1.5GB valid for 3 hours", kes(50)),
    DataBundle("WEEKLY_2_5GB", "2.5GB valid for 7 days", kes(300)),
    DataBundle("MONTHLY_10GB", "10GB valid for 30 days", kes(1_000)),
)
_BY_CODE = {bundle.code: bundle for bundle in CATALOGUE}


def find_bundle(code: str) -> DataBundle | None:
    return _BY_CODE.get(code)
