"""What the phone page shows, built from the services' answers: prompts with the merchant's
name, the mini statement in words, and the notice each menu action ends with."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from pesabox.core.platform import Platform
from pesabox.domain.result_codes import stk_description
from pesabox.web.pages import Notice

# The menu's screens, by the `screen` query parameter; anything else is the main menu.
SCREENS = frozenset(
    {
        "menu", "send", "paybill", "buygoods", "airtime", "account",
        "bonga", "bonga-pin", "bonga-transfer", "bonga-bundle",
    }
)  # fmt: skip
_COUNTERPARTIES = {
    "platform:revenue": "Transaction cost",
    "platform:airtime": "Airtime",
    "platform:data-bundles": "Data bundle",
    "platform:float": "Deposit",
}
_KIND_NAMES = {
    "send_money": "Send Money",
    "airtime": "Airtime",
    "data_bundle": "Data bundle",
    "bonga_transfer": "Bonga transfer",
}


@dataclass(frozen=True, slots=True)
class StatementRow:
    created_at: float
    details: str
    # Signed: money in is positive.
    amount_cents: int
    balance_after_cents: int


def form_key(msisdn: str, token: str) -> str | None:
    """A form's one-time token as an idempotency key, scoped to this phone: submitting the
    same form twice (a double click, a reload) makes one payment."""
    token = token.strip()
    if not token or len(token) > 64 or not token.isprintable():
        return None
    return hashlib.sha256(f"phone-page:{msisdn}\n{token}".encode()).hexdigest()


def counterparty_name(code: str) -> str:
    if code in _COUNTERPARTIES:
        return _COUNTERPARTIES[code]
    kind, _, owner = code.partition(":")
    if kind == "wallet":
        return owner
    if kind == "utility":
        return f"Business {owner}"
    return code


def statement_rows(lines: list[Any]) -> list[StatementRow]:
    rows = []
    for line in lines:
        sign = 1 if line["direction"] == "credit" else -1
        rows.append(
            StatementRow(
                created_at=line["created_at"],
                details=counterparty_name(line["counterparty"]),
                amount_cents=sign * line["amount_cents"],
                balance_after_cents=line["balance_after_cents"],
            )
        )
    return rows


async def prompts_with_merchants(
    platform: Platform, prompts: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The handset's pending prompts, each with the name the customer sees: the business
    that owns the shortcode paid."""
    shown = []
    for prompt in prompts:
        shortcode = await platform.c2b.shortcode(str(prompt["PartyB"]))
        merchant = shortcode.organisation_name if shortcode else str(prompt["PartyB"])
        shown.append(prompt | {"merchant": merchant})
    return shown


def outcome_notice(transaction: Any, *, done: str) -> Notice:
    """The menu's answer to a Send Money, Airtime or Bonga action (a handset transaction)."""
    if transaction.result_code == 0:
        return Notice(f"{done} Receipt {transaction.receipt}.")
    name = _KIND_NAMES.get(transaction.kind, "The request")
    return Notice(f"{name} failed: {transaction.result_desc}", "error")


def result_notice(result_code: int, receipt: str | None, *, done: str) -> Notice:
    """The answer to a prompt or a Pay Bill / Buy Goods, by its M-Pesa result code."""
    if result_code == 0:
        return Notice(f"{done} Receipt {receipt}.")
    return Notice(f"Failed: {stk_description(result_code)}", "error")
