"""The sandbox's bank-account body (snake_case: not a Daraja API)."""

from __future__ import annotations

import msgspec

from pesabox.domain.bank_details import BankDetails


class BankAccountRequest(msgspec.Struct, frozen=True):
    bank_name: str
    branch: str
    account_number: str | int
    account_name: str


def bank_account_out(organisation_id: int, details: BankDetails) -> dict[str, object]:
    return {
        "organisation_id": organisation_id,
        "bank_name": details.bank_name,
        "branch": details.branch,
        "account_number": details.account_number,
        "account_name": details.account_name,
    }
