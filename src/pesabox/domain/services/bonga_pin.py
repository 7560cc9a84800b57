"""The Bonga PIN (§2.9): set or changed at *126*5# after vetting (prepay: the national ID
number and the amount of the last top-up; postpay: call 200), and checked, with a lockout,
before a points transfer or a data bundle bought with M-PESA.

Key stretching happens outside the writer: the caller derives the new digest, or checks a
typed PIN against the digest it read, and hands the result in. The check inside the job
then confirms that digest is still the one on file, so a PIN changed meanwhile is not
accepted on the strength of the old one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pesabox.domain import customer_sms
from pesabox.domain.bonga import LineType, vetting_passes
from pesabox.domain.services.handset_menu import MenuContext, MenuRequest, record, tell
from pesabox.storage import customer_store, handset_store
from pesabox.storage.handset_store import HandsetTransaction
from pesabox.storage.types import Connection


class PinSetOutcome(StrEnum):
    SET = "set"
    VETTING_FAILED = "vetting_failed"
    # Too many wrong vetting answers in a row: *126*5# refuses until the sandbox resets it.
    VETTING_LOCKED = "vetting_locked"
    CALL_200 = "call_200"
    UNKNOWN_CUSTOMER = "unknown_customer"


@dataclass(frozen=True, slots=True)
class PinSetRequest:
    msisdn: str
    national_id: str
    last_topup_cents: int
    new_pin_digest: str


def set_pin(
    conn: Connection, request: PinSetRequest, *, lockout_threshold: int, now: float
) -> PinSetOutcome:
    """Vet the customer and set the PIN; wrong answers are counted like wrong PINs, so the
    ID number and top-up amount cannot be guessed without limit."""
    profile = customer_store.get_profile(conn, request.msisdn)
    if profile is None or profile.status != "active":
        return PinSetOutcome.UNKNOWN_CUSTOMER
    if profile.line_type == LineType.POSTPAY:
        tell(conn, request.msisdn, customer_sms.call_200(), sender=customer_sms.BONGA, now=now)
        return PinSetOutcome.CALL_200
    if profile.bonga_vetting_locked:
        return _vetting_locked(conn, request.msisdn, now=now)
    if not vetting_passes(
        national_id_given=request.national_id,
        national_id_on_file=profile.national_id,
        topup_given_cents=request.last_topup_cents,
        last_topup_cents=handset_store.last_topup_cents(conn, request.msisdn),
    ):
        failures = customer_store.record_failure(
            conn, request.msisdn, customer_store.BONGA_VETTING,
            lockout_threshold=lockout_threshold,
        )  # fmt: skip
        if failures >= lockout_threshold:
            return _vetting_locked(conn, request.msisdn, now=now)
        tell(conn, request.msisdn, customer_sms.vetting_failed(), sender=customer_sms.BONGA,
             now=now)  # fmt: skip
        return PinSetOutcome.VETTING_FAILED
    customer_store.clear_failures(conn, request.msisdn, customer_store.BONGA_VETTING)
    customer_store.set_bonga_pin(conn, request.msisdn, digest=request.new_pin_digest)
    tell(conn, request.msisdn, customer_sms.pin_set(), sender=customer_sms.BONGA, now=now)
    return PinSetOutcome.SET


def _vetting_locked(conn: Connection, msisdn: str, *, now: float) -> PinSetOutcome:
    tell(conn, msisdn, customer_sms.vetting_locked(), sender=customer_sms.BONGA, now=now)
    return PinSetOutcome.VETTING_LOCKED


class PinCheck(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"
    NOT_SET = "not_set"


@dataclass(frozen=True, slots=True)
class TypedPin:
    """A Bonga PIN typed on the handset, already compared with `checked_digest`."""

    matched: bool
    checked_digest: str | None


def check_pin(
    conn: Connection, context: MenuContext, msisdn: str, typed: TypedPin, *, now: float
) -> PinCheck:
    """Count a wrong PIN (locking at the threshold) or clear the count on a right one."""
    profile = customer_store.get_profile(conn, msisdn)
    if profile is None or profile.bonga_pin_digest is None:
        return PinCheck.NOT_SET
    if profile.bonga_pin_locked:
        tell(conn, msisdn, customer_sms.pin_locked(), sender=customer_sms.BONGA, now=now)
        return PinCheck.LOCKED
    if typed.matched and typed.checked_digest == profile.bonga_pin_digest:
        customer_store.clear_failures(conn, msisdn, customer_store.BONGA_PIN)
        return PinCheck.OK
    failures = customer_store.record_failure(
        conn, msisdn, customer_store.BONGA_PIN, lockout_threshold=context.pin_lockout_threshold
    )
    attempts_left = context.pin_lockout_threshold - failures
    if attempts_left <= 0:
        tell(conn, msisdn, customer_sms.pin_locked(), sender=customer_sms.BONGA, now=now)
        return PinCheck.LOCKED
    body = customer_sms.pin_wrong(attempts_left=attempts_left)
    tell(conn, msisdn, body, sender=customer_sms.BONGA, now=now)
    return PinCheck.WRONG


# How a failed Bonga PIN check is reported in a transaction's result.
PIN_RESULTS: dict[PinCheck, tuple[int, str]] = {
    PinCheck.WRONG: (2001, "The Bonga PIN is wrong"),
    PinCheck.LOCKED: (8006, "The Bonga PIN is locked; dial *126*5# to set a new one"),
    # Not locked (8006): nothing was ever set. M-Pesa's nearest code is "not permitted".
    PinCheck.NOT_SET: (2028, "No Bonga PIN is set; dial *126*5# to set one"),
}


def refused_by_pin(
    conn: Connection, context: MenuContext, request: MenuRequest, typed: TypedPin
) -> HandsetTransaction | None:
    """Check the Bonga PIN guarding a menu request: the request recorded as refused when the
    PIN is not accepted; None when it is and the request may go on."""
    pin = check_pin(conn, context, request.msisdn, typed, now=request.now)
    if pin == PinCheck.OK:
        return None
    code, reason = PIN_RESULTS[pin]
    return record(conn, request, result_code=code, result_desc=reason)
