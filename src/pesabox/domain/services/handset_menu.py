"""What the handset's own menus (Send Money, Buy Airtime, Bonga) share inside the ledger
writer: their context, the replay of an Idempotency-Key, the record of each outcome, and the
customer's SMS."""

from __future__ import annotations

from dataclasses import dataclass

from pesabox.domain.result_codes import stk_description
from pesabox.errors import SandboxError
from pesabox.storage import handset_store, parties_store
from pesabox.storage.handset_store import HandsetTransaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.types import Connection


@dataclass(frozen=True, slots=True)
class MenuContext:
    ledger: LedgerStore
    # Bonga points per KES 100 of an M-PESA transaction (0: none earned).
    points_per_100_kes: int
    # Wrong Bonga PINs in a row that lock it.
    pin_lockout_threshold: int


@dataclass(frozen=True, slots=True)
class MenuRequest:
    """Who did what from the menu, with the receipt allocated for it."""

    kind: str
    msisdn: str
    counterparty: str
    # Cents, or whole points for a Bonga transfer.
    amount: int
    receipt: str
    idempotency_key: str | None
    now: float


def replayed(conn: Connection, request: MenuRequest) -> HandsetTransaction | None:
    """The first outcome of a request made again with the same Idempotency-Key; a key reused
    for a different request is refused rather than answered with another's outcome."""
    if request.idempotency_key is None:
        return None
    earlier = handset_store.find_by_idempotency_key(conn, request.idempotency_key)
    if earlier is None:
        return None
    same = (earlier.kind, earlier.msisdn, earlier.counterparty, earlier.amount) == (
        request.kind, request.msisdn, request.counterparty, request.amount,
    )  # fmt: skip
    if not same:
        raise SandboxError(
            "this Idempotency-Key was used for a different request",
            error_code="409.001.01",
            http_status=409,
        )
    return earlier


def record(
    conn: Connection,
    request: MenuRequest,
    *,
    result_code: int,
    fee_cents: int = 0,
    result_desc: str | None = None,
) -> HandsetTransaction:
    transaction = HandsetTransaction(
        receipt=request.receipt,
        kind=request.kind,
        msisdn=request.msisdn,
        counterparty=request.counterparty,
        amount=request.amount,
        fee_cents=fee_cents,
        result_code=result_code,
        result_desc=result_desc or stk_description(result_code),
        idempotency_key=request.idempotency_key,
        created_at=request.now,
    )
    handset_store.insert_transaction(conn, transaction)
    return transaction


def tell(conn: Connection, msisdn: str, body: str, *, sender: str, now: float) -> None:
    parties_store.add_sms(conn, msisdn=msisdn, sender=sender, body=body, now=now)
