"""An Account Balance query inside the ledger writer (daraja-api.md §9): the PartyA
shortcode's accounts as Daraja's pipe-and-ampersand string.

Each account reads `<Name>|KES|<Current>|<Available>|<Reserved>|<Uncleared>`, and accounts
are joined by `&`. The order of the four figures is §9's, confirmed by an observed
`Working Account|KES|346568.83|6186.83|340382.00|0.00` (current = available + reserved); the
domain notes' "avail|current" was from memory. From the ledger's running totals:
current = credits posted - debits posted; reserved = pending debits (money held, e.g. by a
validation in progress); available = current - reserved; uncleared = pending credits.

The account set is §9's: a Pay Bill (and a B2C shortcode) shows Working, Float, Utility,
Charges Paid and Organization Settlement, in the order of Daraja's samples; a till or store
shows Merchant (its Utility ledger account, where its payments land), Working, Charges Paid
and Organization Settlement. Accounts pesabox does not keep (Float, Organization Settlement)
are shown as zeros, as Daraja's samples show them.
"""

from __future__ import annotations

import json

from pesabox.clock import daraja_timestamp
from pesabox.domain import accounts
from pesabox.domain.results import Outcome
from pesabox.ids import receipt_number
from pesabox.storage import ledger_queries, parties_store
from pesabox.storage.initiator_store import InitiatorRequest
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.types import Connection

COMMAND_ID = "AccountBalance"
# §7.3: 1 MSISDN, 2 till, 4 organisation shortcode.
IDENTIFIER_TYPES = ("1", "2", "4")
MSISDN_IDENTIFIER = "1"
CURRENCY = "KES"
# The balance sample's own description, without the final full stop B2C's has (§9).
SUCCESS_DESC = "The service request is processed successfully"
NOT_PERMITTED = "2028"
NOT_PERMITTED_DESC = "The request is not permitted according to product assignment."
_TILL_KINDS = frozenset({"till", "store"})


def generic_transaction_id(now: float) -> str:
    """What Daraja puts in a query's TransactionID: the receipt prefix of the day and
    seven zeros (`OA90000000`, §1.4); a query moves no money, so it has no receipt."""
    return receipt_number(now)[:3] + "0000000"


def query(
    conn: Connection, ledger: LedgerStore, request: InitiatorRequest, *, now: float
) -> Outcome:
    del ledger  # balances come from the running totals, read by `ledger_queries`
    identifier_type = json.loads(request.details).get("IdentifierType", "4")
    shortcode = parties_store.get_shortcode(conn, request.party_a)
    # An MSISDN holds no organisation accounts: Account Balance is not one of its products.
    # An unknown shortcode never gets this far (its initiator is unknown: 2001); the check
    # stays for a shortcode removed while the request was queued.
    if shortcode is None or identifier_type == MSISDN_IDENTIFIER:
        return Outcome(NOT_PERMITTED, NOT_PERMITTED_DESC, generic_transaction_id(now))
    return Outcome(
        "0",
        SUCCESS_DESC,
        generic_transaction_id(now),
        [
            ("AccountBalance", balance_text(conn, shortcode.shortcode, kind=shortcode.kind)),
            # A number, as in Daraja's full samples (an SDK must accept a string too, §9).
            ("BOCompletedTime", int(daraja_timestamp(now))),
        ],
    )


def balance_text(conn: Connection, shortcode: str, *, kind: str) -> str:
    utility = accounts.org_utility(shortcode).code
    working = accounts.org_working(shortcode).code
    charges = accounts.org_charges_paid(shortcode).code
    if kind in _TILL_KINDS:
        layout = [
            ("Merchant Account", utility),
            ("Working Account", working),
            ("Charges Paid Account", charges),
            ("Organization Settlement Account", None),
        ]
    else:
        layout = [
            ("Working Account", working),
            ("Float Account", None),
            ("Utility Account", utility),
            ("Charges Paid Account", charges),
            ("Organization Settlement Account", None),
        ]
    return "&".join(_account_text(conn, name, code) for name, code in layout)


def _account_text(conn: Connection, name: str, code: str | None) -> str:
    balance = ledger_queries.account_balance(conn, code) if code is not None else None
    if balance is None:
        figures = (0, 0, 0, 0)
    else:
        figures = (
            balance["balance_cents"],
            balance["available_cents"],
            balance["debits_pending_cents"],
            balance["credits_pending_cents"],
        )
    return "|".join([name, CURRENCY, *(shillings_text(cents) for cents in figures)])


def shillings_text(cents: int) -> str:
    """`-1540.00`: two decimals, from integer cents (no float touches the figure)."""
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    return f"{sign}{whole}.{fraction:02d}"
