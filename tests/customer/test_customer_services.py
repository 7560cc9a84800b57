"""The handset's own menus in the ledger writer's steps: Send Money, Buy Airtime, Bonga
points, the Bonga PIN and data bundles, on both databases."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

import pytest
from sqlalchemy import func, select

from pesabox.domain import accounts
from pesabox.domain.data_bundles import find_bundle
from pesabox.domain.ledger import Purpose, TransferRequest
from pesabox.domain.services import bonga_earning
from pesabox.domain.services.airtime import AirtimeOrder, buy_airtime
from pesabox.domain.services.bonga_pin import PinSetOutcome, PinSetRequest, TypedPin, set_pin
from pesabox.domain.services.bonga_transfer import PointsTransferOrder, transfer_points
from pesabox.domain.services.data_bundle_purchase import BundleOrder, buy_bundle
from pesabox.domain.services.handset_menu import MenuContext
from pesabox.domain.services.send_money import SendOrder, send_money
from pesabox.errors import SandboxError
from pesabox.sandbox.seed import SandboxCredentials
from pesabox.security.credentials import pin_digest
from pesabox.storage import customer_store, handset_store, parties_store
from pesabox.storage.db import write_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.ledger_verify import verify
from pesabox.storage.tables import accounts as ledger_accounts
from pesabox.storage.tables import daily_totals, transfers
from pesabox.storage.types import Connection, Engine

T = TypeVar("T")
NOW = 1_780_000_000.0
JOHN = "254708374149"  # prepay, ID 12345678, last top-up KES 100, KES 100,000
JANE = "254708374150"
PETER = "254722000000"  # postpay


@lru_cache(maxsize=1)
def _digest() -> str:
    return pin_digest("4321")


def _run(engine: Engine, job: Callable[[Connection], T]) -> T:
    with write_transaction(engine) as conn:
        return job(conn)


def _context() -> MenuContext:
    return MenuContext(ledger=LedgerStore(), points_per_100_kes=10, pin_lockout_threshold=3)


def _balance(engine: Engine, context: MenuContext, code: str) -> int:
    return _run(engine, lambda conn: context.ledger.balance_cents(conn, code))


def _points(engine: Engine, context: MenuContext, msisdn: str) -> int:
    return _run(engine, lambda c: bonga_earning.points_balance(c, context.ledger, msisdn))


def _texts(engine: Engine, msisdn: str) -> list[str]:
    return [m["body"] for m in _run(engine, lambda c: parties_store.list_sms(c, msisdn))]


def _send(
    engine: Engine, context: MenuContext, order: SendOrder, receipt: str
) -> handset_store.HandsetTransaction:
    return _run(engine, lambda c: send_money(c, context, order, receipt=receipt, now=NOW))


def _with_pin(engine: Engine, msisdn: str = JOHN) -> None:
    request = PinSetRequest(msisdn, "12345678", 10_000, _digest())
    assert (
        _run(engine, lambda c: set_pin(c, request, lockout_threshold=3, now=NOW))
        == PinSetOutcome.SET
    )


def _transfer(
    engine: Engine, context: MenuContext, points: int, receipt: str, *, right_pin: bool = True
) -> handset_store.HandsetTransaction:
    order = PointsTransferOrder(JOHN, JANE, points, TypedPin(right_pin, _digest()))
    return _run(engine, lambda c: transfer_points(c, context, order, receipt=receipt, now=NOW))


def test_send_money_charges_the_p2p_tariff_and_tells_both_sides(
    seeded_engine: tuple[Engine, SandboxCredentials],
) -> None:
    engine, _ = seeded_engine
    context = _context()
    done = _send(engine, context, SendOrder(JOHN, JANE, 100_000, pin_ok=True), "TST0000001")
    assert (done.result_code, done.fee_cents) == (0, 1_300)  # KES 1,000: the 501-1,000 band
    assert _balance(engine, context, f"wallet:{JOHN}") == 10_000_000 - 100_000 - 1_300
    assert _balance(engine, context, f"wallet:{JANE}") == 5_000_000 + 100_000
    sent, received = _texts(engine, JOHN)[0], _texts(engine, JANE)[0]
    assert sent.startswith("TST0000001 Confirmed. Ksh1000.00 sent to JANE WANJIRU")
    assert "New M-PESA balance is Ksh98987.00. Transaction cost, Ksh13.00." in sent
    assert "You have received Ksh1000.00 from JOHN DOE 254708374149" in received
    assert _points(engine, context, JOHN) == 100
    assert _run(engine, verify) == []


def test_send_money_replays_an_idempotency_key(
    seeded_engine: tuple[Engine, SandboxCredentials],
) -> None:
    engine, _ = seeded_engine
    context = _context()
    order = SendOrder(JOHN, JANE, 5_000, pin_ok=True, idempotency_key="k-1")
    first = _send(engine, context, order, "TST0000002")
    again = _send(engine, context, order, "TST0000003")
    assert again == first
    assert _balance(engine, context, f"wallet:{JANE}") == 5_000_000 + 5_000
    assert len(_texts(engine, JANE)) == 1


def test_send_money_refuses_a_key_reused_for_another_request(
    seeded_engine: tuple[Engine, SandboxCredentials],
) -> None:
    engine, _ = seeded_engine
    context = _context()
    _send(engine, context, SendOrder(JOHN, JANE, 5_000, True, "k-2"), "TST0000006")
    with pytest.raises(SandboxError, match="different request"):
        _send(engine, context, SendOrder(JOHN, JANE, 6_000, True, "k-2"), "TST0000007")
    assert _balance(engine, context, f"wallet:{JANE}") == 5_000_000 + 5_000


@pytest.mark.parametrize(
    ("order", "code"),
    [
        (SendOrder(JOHN, JANE, 5_000, pin_ok=False), 2001),
        (SendOrder(JOHN, "254799999999", 5_000, pin_ok=True), 2028),
        (SendOrder(JOHN, JOHN, 5_000, pin_ok=True), 2028),
        (SendOrder(JOHN, JANE, 30_000_000, pin_ok=True), 3),
        (SendOrder("254711000004", JANE, 1_000, pin_ok=True), 1),
    ],
)
def test_send_money_refusals_move_nothing(
    seeded_engine: tuple[Engine, SandboxCredentials], order: SendOrder, code: int
) -> None:
    engine, _ = seeded_engine
    context = _context()
    sender_before = _balance(engine, context, f"wallet:{order.msisdn}")
    done = _send(engine, context, order, "TST0000004")
    assert done.result_code == code
    assert _balance(engine, context, f"wallet:{JANE}") == 5_000_000
    assert _balance(engine, context, f"wallet:{order.msisdn}") == sender_before
    assert _daily_debits(engine, order.msisdn) == 0
    assert _texts(engine, order.msisdn)[0].startswith("Failed.")
    assert _points(engine, context, order.msisdn) == 0


def _daily_debits(engine: Engine, msisdn: str) -> int:
    """What today's (any day's) daily limit has counted for the wallet."""

    def read(conn: Connection) -> int:
        total = conn.execute(
            select(func.coalesce(func.sum(daily_totals.c.debits_cents), 0))
            .select_from(daily_totals.join(ledger_accounts))
            .where(ledger_accounts.c.code == f"wallet:{msisdn}")
        ).scalar_one()
        return int(total)

    return _run(engine, read)


def _fund(engine: Engine, msisdn: str, cents: int) -> None:
    funding = TransferRequest(
        f"fund:{msisdn}", accounts.FLOAT.code, f"wallet:{msisdn}", cents, Purpose.FUNDING
    )
    assert _run(engine, lambda c: LedgerStore().post(c, [funding], now=NOW)).ok


def test_send_money_over_the_daily_limit_or_the_recipients_cap_moves_nothing(
    seeded_engine: tuple[Engine, SandboxCredentials],
) -> None:
    engine, _ = seeded_engine
    context = _context()
    # JOHN, funded to his KES 500,000 cap, sends 250,000 and 240,000: a third KES 20,000
    # would pass the KES 500,000 daily limit, and is neither paid nor counted.
    _fund(engine, JOHN, 40_000_000)
    assert _send(engine, context, SendOrder(JOHN, PETER, 25_000_000, True), "TST0000061")
    assert _send(engine, context, SendOrder(JOHN, JANE, 24_000_000, True), "TST0000062")
    spent = _daily_debits(engine, JOHN)
    wallet = _balance(engine, context, f"wallet:{JOHN}")
    assert (spent, wallet) == (49_000_000 + 10_800 + 10_800, 1_000_000 - 21_600)
    over = _send(engine, context, SendOrder(JOHN, PETER, 2_000_000, True), "TST0000063")
    assert over.result_code == 4
    assert (_daily_debits(engine, JOHN), _balance(engine, context, f"wallet:{JOHN}")) == (
        spent, wallet,
    )  # fmt: skip
    # JANE (now KES 290,000) is brought to KES 499,990: KES 100 more would pass her cap.
    _fund(engine, JANE, 20_999_000)
    capped = _send(engine, context, SendOrder(PETER, JANE, 10_000, pin_ok=True), "TST0000064")
    assert capped.result_code == 8
    assert _balance(engine, context, f"wallet:{JANE}") == 49_999_000
    assert _daily_debits(engine, PETER) == 0


def test_bonga_pin_checked_against_an_old_digest_is_wrong(
    seeded_engine: tuple[Engine, SandboxCredentials],
) -> None:
    engine, _ = seeded_engine
    context = _context()
    _with_pin(engine)
    _send(engine, context, SendOrder(JOHN, JANE, 200_000, pin_ok=True), "TST0000070")
    old = _digest()
    # The PIN changes between the check (off the writer) and the transfer's writer job.
    changed = PinSetRequest(JOHN, "12345678", 10_000, pin_digest("8642"))
    assert _run(engine, lambda c: set_pin(c, changed, lockout_threshold=3, now=NOW)) == (
        PinSetOutcome.SET
    )
    order = PointsTransferOrder(JOHN, JANE, 50, TypedPin(True, old))
    done = _run(engine, lambda c: transfer_points(c, context, order, receipt="TST0000071", now=NOW))
    assert done.result_code == 2001
    assert _points(engine, context, JANE) == 0


def test_airtime_is_recorded_as_the_numbers_last_topup(
    seeded_engine: tuple[Engine, SandboxCredentials],
) -> None:
    engine, _ = seeded_engine
    context = _context()
    order = AirtimeOrder(JOHN, JANE, 25_000, pin_ok=True)
    done = _run(engine, lambda c: buy_airtime(c, context, order, receipt="TST0000005", now=NOW))
    assert done.result_code == 0
    # Bought by someone else: not JANE's own last top-up (still her seeded KES 50)...
    assert _run(engine, lambda c: handset_store.last_topup_cents(c, JANE)) == 5_000
    assert _balance(engine, context, accounts.AIRTIME_SALES.code) == 25_000
    assert _balance(engine, context, f"wallet:{JOHN}") == 10_000_000 - 25_000
    assert _points(engine, context, JOHN) == 25
    assert "You bought Ksh250.00 of airtime for 254708374150" in _texts(engine, JOHN)[0]
    # ...while airtime JOHN buys for his own line is his.
    own = AirtimeOrder(JOHN, JOHN, 700, pin_ok=True)
    _run(engine, lambda c: buy_airtime(c, context, own, receipt="TST0000015", now=NOW))
    assert _run(engine, lambda c: handset_store.last_topup_cents(c, JOHN)) == 700


def test_points_are_earned_once_per_transaction(
    seeded_engine: tuple[Engine, SandboxCredentials],
) -> None:
    engine, _ = seeded_engine
    context = _context()

    def earn(conn: Connection) -> int:
        return bonga_earning.earn(
            conn, context.ledger, msisdn=JOHN, amount_cents=123_456, transaction_id="TX1",
            points_per_100_kes=10, now=NOW,
        )  # fmt: skip

    assert _run(engine, earn) == 123
    assert _run(engine, earn) == 0  # a replay issues nothing
    assert _points(engine, context, JOHN) == 123
    issued = _run(
        engine,
        lambda c: c.execute(
            select(func.count()).select_from(transfers).where(transfers.c.id == "TX1:bonga")
        ).scalar_one(),
    )
    assert issued == 1


@pytest.mark.parametrize(
    ("national_id", "topup_cents", "outcome"),
    [
        ("12345678", 10_000, PinSetOutcome.SET),
        ("12345679", 10_000, PinSetOutcome.VETTING_FAILED),
        ("12345678", 5_000, PinSetOutcome.VETTING_FAILED),
    ],
)
def test_bonga_pin_vetting_needs_the_id_and_the_last_topup(
    seeded_engine: tuple[Engine, SandboxCredentials],
    national_id: str,
    topup_cents: int,
    outcome: PinSetOutcome,
) -> None:
    engine, _ = seeded_engine
    request = PinSetRequest(JOHN, national_id, topup_cents, _digest())
    assert _run(engine, lambda c: set_pin(c, request, lockout_threshold=3, now=NOW)) == outcome
    profile = _run(engine, lambda c: customer_store.get_profile(c, JOHN))
    assert profile is not None
    assert (profile.bonga_pin_digest == _digest()) == (outcome == PinSetOutcome.SET)


def test_bonga_pin_postpay_is_told_to_call_200(
    seeded_engine: tuple[Engine, SandboxCredentials],
) -> None:
    engine, _ = seeded_engine
    request = PinSetRequest(PETER, "34567890", 0, _digest())
    assert (
        _run(engine, lambda c: set_pin(c, request, lockout_threshold=3, now=NOW))
        == PinSetOutcome.CALL_200
    )
    assert "calling 200" in _texts(engine, PETER)[0]


def test_bonga_transfer_minimum_50_and_keep_50(
    seeded_engine: tuple[Engine, SandboxCredentials],
) -> None:
    engine, _ = seeded_engine
    context = _context()
    _with_pin(engine)
    _send(engine, context, SendOrder(JOHN, JANE, 120_000, pin_ok=True), "TST0000010")
    assert _points(engine, context, JOHN) == 120
    assert _transfer(engine, context, 49, "TST0000011").result_code == 2
    assert _transfer(engine, context, 71, "TST0000012").result_code == 1  # would leave 49
    done = _transfer(engine, context, 70, "TST0000013")
    assert done.result_code == 0
    assert (_points(engine, context, JOHN), _points(engine, context, JANE)) == (50, 70)
    assert "You have received 70 Bonga points from JOHN DOE" in _texts(engine, JANE)[0]
    assert _run(engine, verify) == []


def test_bonga_pin_locks_after_three_wrong_and_a_new_pin_unlocks(
    seeded_engine: tuple[Engine, SandboxCredentials],
) -> None:
    engine, _ = seeded_engine
    context = _context()
    _with_pin(engine)
    _send(engine, context, SendOrder(JOHN, JANE, 200_000, pin_ok=True), "TST0000020")
    codes = [
        _transfer(engine, context, 50, f"TST000002{n}", right_pin=False).result_code
        for n in (1, 2, 3)
    ]
    assert codes == [2001, 2001, 8006]
    # Locked: even the right PIN is refused until the PIN is set again.
    assert _transfer(engine, context, 50, "TST0000024").result_code == 8006
    _with_pin(engine)
    assert _transfer(engine, context, 50, "TST0000025").result_code == 0


def test_data_bundle_needs_the_bonga_pin_and_debits_the_wallet(
    seeded_engine: tuple[Engine, SandboxCredentials],
) -> None:
    engine, _ = seeded_engine
    context = _context()
    bundle = find_bundle("WEEKLY_2_5GB")
    assert bundle is not None

    def buy(receipt: str, pin: TypedPin) -> handset_store.HandsetTransaction:
        order = BundleOrder(JOHN, bundle, pin)
        return _run(engine, lambda c: buy_bundle(c, context, order, receipt=receipt, now=NOW))

    no_pin = buy("TST0000030", TypedPin(True, _digest()))
    # Not "locked": no PIN was ever set.
    assert (no_pin.result_code, no_pin.result_desc) == (
        2028, "No Bonga PIN is set; dial *126*5# to set one",
    )  # fmt: skip
    _with_pin(engine)
    assert buy("TST0000031", TypedPin(False, _digest())).result_code == 2001
    assert _balance(engine, context, f"wallet:{JOHN}") == 10_000_000
    assert buy("TST0000032", TypedPin(True, _digest())).result_code == 0
    assert _balance(engine, context, f"wallet:{JOHN}") == 10_000_000 - 30_000
    assert _balance(engine, context, accounts.DATA_BUNDLE_SALES.code) == 30_000
    assert (
        _texts(engine, JOHN)[0]
        == "You have received 2.5GB valid for 7 days. Dial *544# to check your balance."
    )
    assert _points(engine, context, JOHN) == 30


def test_take_back_returns_at_most_the_points_still_held(
    seeded_engine: tuple[Engine, SandboxCredentials],
) -> None:
    engine, _ = seeded_engine
    context = _context()
    ledger = context.ledger

    def earn_then_spend(conn: Connection) -> None:
        bonga_earning.earn(
            conn, ledger, msisdn=JOHN, amount_cents=123_456, transaction_id="TX9",
            points_per_100_kes=10, now=NOW,
        )  # fmt: skip
        # 100 of the 123 points are spent elsewhere before the payment is reversed.
        spent = TransferRequest(
            "spent", accounts.customer_bonga(JOHN).code, accounts.BONGA_ISSUER.code, 100,
            Purpose.PRINCIPAL, "spent",
        )  # fmt: skip
        assert ledger.post(conn, [spent], now=NOW).ok

    _run(engine, earn_then_spend)

    def take(conn: Connection) -> int:
        return bonga_earning.take_back(conn, ledger, msisdn=JOHN, transaction_id="TX9", now=NOW)

    assert _run(engine, take) == 23
    assert _points(engine, context, JOHN) == 0
    assert _run(engine, take) == 0
    assert _run(engine, verify) == []


def _vet(engine: Engine, national_id: str, topup_cents: int) -> PinSetOutcome:
    request = PinSetRequest(JOHN, national_id, topup_cents, _digest())
    return _run(engine, lambda c: set_pin(c, request, lockout_threshold=3, now=NOW))


def test_airtime_bought_by_someone_else_cannot_plant_the_vetting_answer(
    seeded_engine: tuple[Engine, SandboxCredentials],
) -> None:
    engine, _ = seeded_engine
    context = _context()
    # JANE tops JOHN's line up with KES 7, then tries JOHN's ID (which she knows) and 7.
    order = AirtimeOrder(JANE, JOHN, 700, pin_ok=True)
    assert _run(engine, lambda c: buy_airtime(c, context, order, receipt="TST0000040", now=NOW))
    assert _vet(engine, "12345678", 700) == PinSetOutcome.VETTING_FAILED
    # JOHN's own last top-up (KES 100) is still the answer.
    assert _vet(engine, "12345678", 10_000) == PinSetOutcome.SET


def test_bonga_pin_vetting_locks_after_three_wrong_answers(
    seeded_engine: tuple[Engine, SandboxCredentials],
) -> None:
    engine, _ = seeded_engine
    # A right answer starts the count again...
    assert [_vet(engine, "12345678", n) for n in (100, 200)] == [PinSetOutcome.VETTING_FAILED] * 2
    assert _vet(engine, "12345678", 10_000) == PinSetOutcome.SET
    # ...three wrong in a row lock *126*5#, after which even the right answer is refused.
    outcomes = [_vet(engine, "12345678", n) for n in (100, 200, 300)]
    assert outcomes == [PinSetOutcome.VETTING_FAILED] * 2 + [PinSetOutcome.VETTING_LOCKED]
    assert _vet(engine, "12345678", 10_000) == PinSetOutcome.VETTING_LOCKED
    assert "call 100" in _texts(engine, JOHN)[0]
    profile = _run(engine, lambda c: customer_store.get_profile(c, JOHN))
    assert profile is not None and profile.bonga_vetting_locked
    _run(engine, lambda c: customer_store.unlock(c, JOHN, customer_store.BONGA_VETTING))
    assert _vet(engine, "12345678", 10_000) == PinSetOutcome.SET


def test_bonga_transfer_to_yourself_says_so(
    seeded_engine: tuple[Engine, SandboxCredentials],
) -> None:
    engine, _ = seeded_engine
    context = _context()
    _with_pin(engine)
    _send(engine, context, SendOrder(JOHN, JANE, 200_000, pin_ok=True), "TST0000050")
    order = PointsTransferOrder(JOHN, JOHN, 60, TypedPin(True, _digest()))
    done = _run(engine, lambda c: transfer_points(c, context, order, receipt="TST0000051", now=NOW))
    assert (done.result_code, done.result_desc) == (
        2028, "You cannot transfer Bonga points to your own number",
    )  # fmt: skip
    assert "your own number" in _texts(engine, JOHN)[0]
