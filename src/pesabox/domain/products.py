"""API products: an app may call only the APIs whose product it holds (Apigee's model)."""

from __future__ import annotations

from enum import StrEnum


class Product(StrEnum):
    MPESA_EXPRESS = "mpesa_express"
    # Daraja sells C2B v1 and v2 as separate products; an app holding one cannot call the other.
    C2B = "c2b"
    C2B_V2 = "c2b_v2"
    DYNAMIC_QR = "dynamic_qr"
    PULL_TRANSACTIONS = "pull_transactions"
    B2C = "b2c"
    B2B = "b2b"
    ACCOUNT_BALANCE = "account_balance"
    TRANSACTION_STATUS = "transaction_status"
    REVERSAL = "reversal"


ALL_PRODUCTS = frozenset(Product)


def parse_products(text: str) -> frozenset[Product]:
    """`"mpesa_express,c2b"` -> products; unknown names raise ValueError."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    return frozenset(Product(name) for name in names)


def format_products(products: frozenset[Product]) -> str:
    return ",".join(sorted(products))
