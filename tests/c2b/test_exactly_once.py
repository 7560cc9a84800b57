"""A validation answer decides a payment at most once, whatever arrives after it."""

from __future__ import annotations

from sqlalchemy import func, select, update

from pesabox.domain import c2b
from pesabox.domain.services.c2b_payment import (
    C2bContext,
    PaymentOrder,
    decide_payment,
    open_payment,
)
from pesabox.sandbox.seed import SandboxCredentials
from pesabox.storage import c2b_store
from pesabox.storage.db import write_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.ledger_verify import verify
from pesabox.storage.tables import apps, callbacks, shortcodes, transfers
from pesabox.storage.types import Engine

NOW = 1_780_000_000.0
SHORTCODE = "600000"
CUSTOMER = "254708374149"
ACCEPT = c2b.ValidationAnswer(True, "0", "TP-1")
REJECT = c2b.ValidationAnswer(False, "C2B00012")
NO_ANSWER = c2b.ValidationAnswer(None, c2b.NO_ANSWER_TIMEOUT)


def _context() -> C2bContext:
    return C2bContext(ledger=LedgerStore(), max_callback_attempts=6, validation_timeout_s=8.0)


def _validating_payment(engine: Engine, context: C2bContext, trans_id: str) -> None:
    with write_transaction(engine) as conn:
        app_id = conn.execute(select(apps.c.id)).scalars().first()
        c2b_store.save_registration(
            conn,
            c2b_store.Registration(
                SHORTCODE,
                int(app_id or 1),
                "v1",
                "Completed",
                "http://127.0.0.1:9/confirm",
                "http://127.0.0.1:9/validate",
                "full",
                NOW,
                NOW,
            ),  # fmt: skip
            overwrite=True,
        )
        conn.execute(
            update(shortcodes)
            .where(shortcodes.c.shortcode == SHORTCODE)
            .values(validation_enabled=True)
        )
        order = PaymentOrder(
            channel="simulate",
            msisdn=CUSTOMER,
            shortcode=SHORTCODE,
            transaction_type=c2b.PAY_BILL,
            amount_cents=50_000,
            bill_ref_number="ACC",
        )
        opened = open_payment(conn, context, order, trans_id=trans_id, now=NOW)
    assert opened.payment.status == c2b.PaymentStatus.VALIDATING


def _counts(engine: Engine, trans_id: str) -> tuple[int, int]:
    with write_transaction(engine) as conn:
        moved = conn.execute(
            select(func.count())
            .select_from(transfers)
            .where(transfers.c.transaction_id == trans_id)
        ).scalar_one()
        confirmations = conn.execute(
            select(func.count())
            .select_from(callbacks)
            .where(callbacks.c.transaction_id == trans_id, callbacks.c.kind == "c2b_confirmation")
        ).scalar_one()
    return int(moved), int(confirmations)


def test_a_second_answer_changes_nothing(
    seeded_engine: tuple[Engine, SandboxCredentials],
) -> None:
    engine, _ = seeded_engine
    context = _context()
    _validating_payment(engine, context, "UAA0000001")
    with write_transaction(engine) as conn:
        first = decide_payment(conn, context, "UAA0000001", ACCEPT, now=NOW + 1)
    after_first = _counts(engine, "UAA0000001")
    with write_transaction(engine) as conn:
        again = decide_payment(conn, context, "UAA0000001", ACCEPT, now=NOW + 2)
        contrary = decide_payment(conn, context, "UAA0000001", REJECT, now=NOW + 3)
    assert first is not None and first.payment.status == c2b.PaymentStatus.COMPLETED
    assert again is None and contrary is None
    # Hold (1) + post of the hold (1) + the business fee (1); one confirmation.
    assert after_first == _counts(engine, "UAA0000001") == (3, 1)
    with write_transaction(engine) as conn:
        assert verify(conn) == []


def test_a_late_answer_after_response_type_decided_changes_nothing(
    seeded_engine: tuple[Engine, SandboxCredentials],
) -> None:
    engine, _ = seeded_engine
    context = _context()
    _validating_payment(engine, context, "UAA0000002")
    with write_transaction(engine) as conn:
        overdue = c2b_store.overdue_validations(conn, deadline_before=NOW + 9, limit=10)
        assert overdue == ["UAA0000002"]
        swept = decide_payment(conn, context, "UAA0000002", NO_ANSWER, now=NOW + 9)
    with write_transaction(engine) as conn:
        late = decide_payment(conn, context, "UAA0000002", REJECT, now=NOW + 10)
        payment = c2b_store.get_payment(conn, "UAA0000002")
    assert swept is not None and late is None
    assert payment is not None
    assert (payment.status, payment.validation_result) == ("completed", "timeout")
    assert _counts(engine, "UAA0000002")[1] == 1


def test_a_rejection_releases_the_hold(seeded_engine: tuple[Engine, SandboxCredentials]) -> None:
    engine, _ = seeded_engine
    context = _context()
    ledger = context.ledger
    with write_transaction(engine) as conn:
        before = ledger.balance_cents(conn, f"wallet:{CUSTOMER}")
    _validating_payment(engine, context, "UAA0000003")
    with write_transaction(engine) as conn:
        decided = decide_payment(conn, context, "UAA0000003", REJECT, now=NOW + 1)
        after = ledger.balance_cents(conn, f"wallet:{CUSTOMER}")
        assert verify(conn) == []
    assert decided is not None and decided.payment.status == c2b.PaymentStatus.CANCELLED
    assert after == before
    assert _counts(engine, "UAA0000003") == (2, 0)  # hold + its void; no confirmation
