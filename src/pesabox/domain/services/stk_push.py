"""M-Pesa Express: accept a push (merchant and password checks, the subscriber lock, the
customer's planned answer) and answer queries. Settling is in `stk_settle`."""

from __future__ import annotations

from dataclasses import dataclass

from pesabox.errors import (
    MERCHANT_DOES_NOT_EXIST,
    TRANSACTION_BEING_PROCESSED,
    UNABLE_TO_LOCK_SUBSCRIBER,
    WRONG_CREDENTIALS,
    BadRequest,
    MerchantError,
)
from pesabox.sandbox.scenarios import Action, CallbackMode, Scenario
from pesabox.security.stk_password import stk_password_matches
from pesabox.storage import stk_store
from pesabox.storage.parties_store import ShortcodeRecord
from pesabox.storage.types import Connection

PAYBILL_ONLINE = "CustomerPayBillOnline"
BUY_GOODS_ONLINE = "CustomerBuyGoodsOnline"
TRANSACTION_TYPES = (PAYBILL_ONLINE, BUY_GOODS_ONLINE)
MAX_PROMPT_CHARS = 182
MAX_ACCOUNT_REFERENCE_CHARS = 12


@dataclass(frozen=True, slots=True)
class StkPushCommand:
    business_shortcode: str
    password: str
    timestamp: str
    transaction_type: str
    amount_cents: int
    party_a: str
    party_b: str
    phone_number: str
    callback_url: str
    account_reference: str
    description: str


@dataclass(frozen=True, slots=True)
class StkQueryCommand:
    business_shortcode: str
    password: str
    timestamp: str
    checkout_request_id: str


@dataclass(frozen=True, slots=True)
class Plan:
    action: Action
    result_code: int | None
    due_at: float
    expires_at: float
    callback_mode: CallbackMode
    callback_fail_times: int
    callback_delay_s: float


def check_merchant(
    merchant: ShortcodeRecord | None, *, password: str, shortcode: str, timestamp: str
) -> ShortcodeRecord:
    if merchant is None or merchant.passkey is None:
        raise MerchantError(MERCHANT_DOES_NOT_EXIST)
    if not stk_password_matches(
        password=password, shortcode=shortcode, passkey=merchant.passkey, timestamp=timestamp
    ):
        raise MerchantError(WRONG_CREDENTIALS)
    return merchant


def receiver_fits(
    command: StkPushCommand, merchant: ShortcodeRecord, receiver: ShortcodeRecord | None
) -> bool:
    """Whether PartyB can take this TransactionType (otherwise M-Pesa answers 2028)."""
    if receiver is None:
        return False
    if command.transaction_type == BUY_GOODS_ONLINE:
        return receiver.kind == "till" and receiver.store_shortcode == merchant.shortcode
    # A PayBill pays the shortcode whose passkey signed the push: one merchant's passkey must
    # not route customers' money to another PayBill (the prompt names the merchant).
    return receiver.kind == "paybill" and receiver.shortcode == merchant.shortcode


def prompt_text(command: StkPushCommand, merchant: ShortcodeRecord) -> str:
    """What the handset shows; M-Pesa cannot push a prompt longer than 182 characters."""
    shillings = command.amount_cents // 100
    return (
        f"Do you want to pay Ksh{shillings:,} to {merchant.organisation_name} "
        f"account no. {command.account_reference}? Enter M-PESA PIN:"
    )


def plan_outcome(
    *,
    scenario: Scenario | None,
    default_delay_s: float,
    prompt_timeout_s: float,
    now: float,
    deliverable: bool,
    receiver_ok: bool,
) -> Plan:
    """What the simulated customer will do, unless someone acts on the handset first."""
    expires_at = now + prompt_timeout_s
    mode, fail_times, cb_delay = CallbackMode.DELIVER, 0, 0.0
    if scenario is not None:
        mode = scenario.callback_mode
        fail_times, cb_delay = scenario.callback_fail_times, scenario.callback_delay_s
    if not receiver_ok:
        return Plan(Action.RESULT, 2028, now, expires_at, mode, fail_times, cb_delay)
    if not deliverable:
        return Plan(Action.PUSH_ERROR, None, now, expires_at, mode, fail_times, cb_delay)
    action = scenario.action if scenario else Action.ACCEPT
    delay_s = default_delay_s
    if scenario is not None and scenario.delay_s is not None:
        delay_s = scenario.delay_s
    if now + delay_s >= expires_at and action not in (Action.EXPIRE, Action.RESULT):
        # The customer would answer after the prompt is gone: it times out (1037).
        action = Action.IGNORE
    due_at = min(now + delay_s, expires_at)
    if action in (Action.IGNORE, Action.EXPIRE):
        due_at = expires_at
    result_code = scenario.result_code if scenario else None
    return Plan(action, result_code, due_at, expires_at, mode, fail_times, cb_delay)


def record_push(
    conn: Connection,
    *,
    command: StkPushCommand,
    plan: Plan,
    ids: tuple[str, str],
    app_id: int,
    now: float,
) -> bool:
    """Insert the request unless the subscriber already has a pending one."""
    merchant_request_id, checkout_request_id = ids
    return stk_store.insert_request(
        conn,
        {
            "checkout_request_id": checkout_request_id,
            "merchant_request_id": merchant_request_id,
            "app_id": app_id,
            "business_shortcode": command.business_shortcode,
            "party_b": command.party_b,
            "transaction_type": command.transaction_type,
            "msisdn": command.phone_number,
            "party_a": command.party_a,
            "amount_cents": command.amount_cents,
            "account_reference": command.account_reference,
            "description": command.description,
            "callback_url": command.callback_url,
            "status": stk_store.PENDING,
            "planned_action": str(plan.action),
            "planned_result_code": plan.result_code,
            "due_at": plan.due_at,
            "expires_at": plan.expires_at,
            "callback_mode": str(plan.callback_mode),
            "callback_fail_times": plan.callback_fail_times,
            "callback_delay_s": plan.callback_delay_s,
            "created_at": now,
            "completed_at": None,
            "result_code": None,
            "result_desc": None,
            "receipt": None,
        },
    )


def unable_to_lock() -> MerchantError:
    return MerchantError(UNABLE_TO_LOCK_SUBSCRIBER)


def check_query_result(
    record: stk_store.StkRecord | None, command: StkQueryCommand
) -> stk_store.StkRecord:
    if record is None or record.business_shortcode != command.business_shortcode:
        raise BadRequest("CheckoutRequestID")
    if record.status == stk_store.PENDING:
        # Daraja answers a pending query with an error whose requestId is the checkout id.
        raise MerchantError(TRANSACTION_BEING_PROCESSED, request_id=record.checkout_request_id)
    return record
