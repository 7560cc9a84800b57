"""Withdrawing to the bank and the settlement job, on SQLite and PostgreSQL: the money leaves
M-Pesa at once, reaches the bank the next business day, exactly once, and the ledger holds."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time

import pytest

from pesabox.clock import eat_datetime
from pesabox.core import org_portal
from pesabox.core.org_portal import OrgPortalService, PortalForbidden, PortalNotFound
from pesabox.core.platform import Platform
from pesabox.domain import accounts
from pesabox.domain.accounts import BANK_SETTLEMENT
from pesabox.domain.business_days import is_business_day, next_business_day
from pesabox.domain.ledger import Purpose, TransferRequest
from pesabox.domain.operators import OperatorRole
from pesabox.domain.org_funds import FundsRefusal, WithdrawalStatus
from pesabox.domain.services import org_funds
from pesabox.domain.statement_filter import StatementFilter
from pesabox.security.web_sessions import PortalSession
from pesabox.storage import ledger_queries, ledger_verify, withdrawals_store
from pesabox.storage.db import make_engine, read_transaction, write_transaction
from pesabox.storage.withdrawals_store import WithdrawalRecord
from tests.portal.conftest import add_web_operator, sign_in

B2C_PAYBILL = "600996"  # its Utility account is seeded with KES 10,000,000


def form_key() -> str:
    return secrets.token_urlsafe(24)


async def withdraw(
    portal: OrgPortalService, session: PortalSession, amount: str
) -> WithdrawalRecord:
    """A new withdrawal of `amount` from B2C_PAYBILL, through a fresh form."""
    made = await portal.withdraw(session, B2C_PAYBILL, amount=amount, form_key=form_key())
    return made.withdrawal


def balance(platform: Platform, code: str) -> int:
    with read_transaction(platform.engine) as conn:
        found = ledger_queries.account_balance(conn, code)
    return found["balance_cents"] if found else 0


def assert_ledger_sound(platform: Platform) -> None:
    with ledger_queries.snapshot_transaction(platform.engine) as conn:
        assert ledger_verify.verify(conn) == []


async def test_withdrawal_leaves_at_once_and_settles_next_business_day_once(
    platform: Platform,
) -> None:
    session = await sign_in(platform, B2C_PAYBILL)
    portal = platform.org_portal
    await portal.move_to_working(session, B2C_PAYBILL, amount="5,000", form_key=form_key())
    working = accounts.org_working(B2C_PAYBILL).code
    assert balance(platform, working) == 500_000

    withdrawal = await withdraw(portal, session, "3000")
    assert withdrawal.status is WithdrawalStatus.PENDING
    assert withdrawal.amount_cents == 300_000
    assert withdrawal.bank.bank_name == "Stanbic Bank"
    made_on = eat_datetime(withdrawal.created_at).date()
    assert withdrawal.settle_on == next_business_day(made_on)
    assert is_business_day(withdrawal.settle_on)
    # Gone from M-Pesa at once, waiting in the bank settlement account.
    assert balance(platform, working) == 200_000
    assert balance(platform, BANK_SETTLEMENT.code) == 300_000

    # Nothing is due yet: the settlement day has not begun.
    await platform.sweep_once()
    assert (await portal.withdrawal(session, withdrawal.id)).status is WithdrawalStatus.PENDING

    float_before = balance(platform, accounts.FLOAT.code)
    await platform.sandbox.advance_clock(withdrawal.due_at - platform.clock.now() + 60)
    settled = await portal.withdrawal(session, withdrawal.id)
    assert settled.status is WithdrawalStatus.SETTLED
    assert settled.settled_at is not None and settled.settled_at >= settled.due_at
    assert settled.bank_reference == f"STL{settled.settle_on:%Y%m%d}{settled.id}"
    assert balance(platform, BANK_SETTLEMENT.code) == 0
    # The e-money is redeemed: it goes back to the float that issued it.
    assert balance(platform, accounts.FLOAT.code) == float_before + 300_000

    # More sweeps settle nothing again.
    await platform.sweep_once()
    assert await platform.settlement.settle_due() == 0
    assert balance(platform, accounts.FLOAT.code) == float_before + 300_000
    assert_ledger_sound(platform)

    days = await portal.settlement_days(session)
    assert [(d.settle_on, d.count, d.total_cents, d.settled) for d in days] == [
        (settled.settle_on, 1, 300_000, 1)
    ]


async def test_two_processes_settle_a_withdrawal_once(platform: Platform) -> None:
    session = await sign_in(platform, B2C_PAYBILL)
    portal = platform.org_portal
    await portal.move_to_working(session, B2C_PAYBILL, amount="1000", form_key=form_key())
    made = [await withdraw(portal, session, str(n)) for n in (100, 200, 300)]
    other = Platform(platform.settings, engine=make_engine(platform.settings.database_url))
    try:
        jump = max(w.due_at for w in made) - platform.clock.now() + 60
        platform.clock.offset_s = other.clock.offset_s = jump
        counts = await asyncio.gather(
            platform.settlement.settle_due(), other.settlement.settle_due()
        )
    finally:
        await other.stop()
    assert sum(counts) == 3
    for withdrawal in made:
        assert (await portal.withdrawal(session, withdrawal.id)).status is WithdrawalStatus.SETTLED
    assert balance(platform, BANK_SETTLEMENT.code) == 0
    assert_ledger_sound(platform)


async def test_a_resent_form_withdraws_once(platform: Platform) -> None:
    session = await sign_in(platform, B2C_PAYBILL)
    portal = platform.org_portal
    move_key = form_key()
    await portal.move_to_working(session, B2C_PAYBILL, amount="700", form_key=move_key)
    replay = await portal.move_to_working(session, B2C_PAYBILL, amount="700", form_key=move_key)
    assert replay.replayed
    with pytest.raises(FundsRefusal, match="already sent"):
        await portal.move_to_working(session, B2C_PAYBILL, amount="701", form_key=move_key)
    working = accounts.org_working(B2C_PAYBILL).code
    assert balance(platform, working) == 70_000

    key = form_key()
    first = (await portal.withdraw(session, B2C_PAYBILL, amount="500", form_key=key)).withdrawal
    again = (await portal.withdraw(session, B2C_PAYBILL, amount="500", form_key=key)).withdrawal
    assert again.id == first.id
    assert (await portal.withdraw(session, B2C_PAYBILL, amount="500", form_key=key)).replayed
    assert balance(platform, working) == 20_000
    with pytest.raises(FundsRefusal, match="already sent"):
        await portal.withdraw(session, B2C_PAYBILL, amount="10", form_key=key)
    assert len(await portal.withdrawals(session)) == 1


async def test_refusals_leave_no_trace(platform: Platform) -> None:
    session = await sign_in(platform, B2C_PAYBILL)
    portal = platform.org_portal
    with pytest.raises(FundsRefusal, match="Working account holds only KES 0.00"):
        await portal.withdraw(session, B2C_PAYBILL, amount="1", form_key=form_key())
    with pytest.raises(FundsRefusal, match="whole shillings"):
        await portal.withdraw(session, B2C_PAYBILL, amount="12.50", form_key=form_key())
    with pytest.raises(FundsRefusal, match="between KES 1"):
        await portal.move_to_working(session, B2C_PAYBILL, amount="0", form_key=form_key())
    with pytest.raises(FundsRefusal, match="Utility account holds only"):
        await portal.move_to_working(session, B2C_PAYBILL, amount="10,000,001", form_key=form_key())
    assert await portal.withdrawals(session) == []
    assert_ledger_sound(platform)


async def test_only_a_business_manager_may_withdraw(platform: Platform) -> None:
    add_web_operator(
        platform.engine, shortcode=B2C_PAYBILL, username="auditor1",
        role=OperatorRole.BUSINESS_AUDITOR, password="Audit#2026x", now=platform.clock.now(),
    )  # fmt: skip
    signed = await platform.portal_sessions.sign_in(
        shortcode=B2C_PAYBILL, username="auditor1", password="Audit#2026x"
    )
    session = await platform.portal_sessions.resolve(signed.token)
    assert session is not None
    with pytest.raises(PortalForbidden, match="Business Manager"):
        await platform.org_portal.withdraw(session, B2C_PAYBILL, amount="1", form_key=form_key())
    with pytest.raises(PortalForbidden):
        await platform.org_portal.move_to_working(
            session, B2C_PAYBILL, amount="1", form_key=form_key()
        )
    # Reading is allowed.
    assert (await platform.org_portal.balances(session, B2C_PAYBILL)).utility_cents > 0


async def test_an_operator_reaches_nothing_of_another_organisation(platform: Platform) -> None:
    owner = await sign_in(platform, B2C_PAYBILL)
    stranger = await sign_in(platform, "600000")
    portal = platform.org_portal
    await portal.move_to_working(owner, B2C_PAYBILL, amount="100", form_key=form_key())
    made = (await portal.withdraw(owner, B2C_PAYBILL, amount="100", form_key=form_key())).withdrawal
    with pytest.raises(PortalNotFound):
        await portal.balances(stranger, B2C_PAYBILL)
    with pytest.raises(PortalNotFound):
        await portal.statement(stranger, B2C_PAYBILL, "utility", StatementFilter())
    with pytest.raises(PortalNotFound):
        await portal.withdraw(stranger, B2C_PAYBILL, amount="1", form_key=form_key())
    with pytest.raises(PortalNotFound):
        await portal.withdrawal(stranger, made.id)
    with pytest.raises(PortalNotFound):
        await portal.set_validation(stranger, B2C_PAYBILL, on=True)
    assert await portal.withdrawals(stranger) == []
    assert await portal.settlement_days(stranger) == []
    assert all(o.shortcode == "600000" for o in await portal.operators(stranger))


async def test_statement_filters_and_running_balance(platform: Platform) -> None:
    session = await sign_in(platform, B2C_PAYBILL)
    portal = platform.org_portal
    await portal.move_to_working(session, B2C_PAYBILL, amount="900", form_key=form_key())
    made = await withdraw(portal, session, "400")
    lines = await portal.statement(session, B2C_PAYBILL, "working", StatementFilter())
    assert [(line.direction, line.amount_cents, line.balance_after_cents) for line in lines] == [
        ("debit", 40_000, 50_000),
        ("credit", 90_000, 90_000),
    ]
    assert lines[0].counterparty == BANK_SETTLEMENT.code
    debits = await portal.statement(
        session, B2C_PAYBILL, "working", StatementFilter(direction="debit")
    )
    assert [line.transaction_id for line in debits] == [made.id]
    by_receipt = await portal.statement(
        session, B2C_PAYBILL, "working", StatementFilter(receipt=made.id)
    )
    assert len(by_receipt) == 1 and by_receipt[0].balance_after_cents == 50_000
    later = await portal.statement(
        session, B2C_PAYBILL, "working", StatementFilter(since=platform.clock.now() + 3600)
    )
    assert later == []


async def test_a_withdrawal_that_cannot_settle_does_not_hold_back_the_others(
    platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    session = await sign_in(platform, B2C_PAYBILL)
    portal = platform.org_portal
    await portal.move_to_working(session, B2C_PAYBILL, amount="1000", form_key=form_key())
    broken, *sound = [await withdraw(portal, session, str(n)) for n in (100, 200, 300)]
    # The settlement's transfer id already taken with other fields: settling `broken` breaks
    # a ledger invariant (InvariantViolation) every time it is tried.
    with write_transaction(platform.engine) as conn:
        platform.ledger.post(
            conn,
            [TransferRequest(f"{broken.id}:settlement", BANK_SETTLEMENT.code,
                             accounts.FLOAT.code, 1, Purpose.PRINCIPAL)],
            now=platform.clock.now(),
        )  # fmt: skip
    platform.clock.offset_s = max(w.due_at for w in sound) - time.time() + 60
    with caplog.at_level(logging.ERROR, logger="pesabox.core.settlement"):
        assert await platform.settlement.settle_due() == 2
        assert await platform.settlement.settle_due() == 0
    assert f"settling withdrawal {broken.id} failed" in caplog.text
    for withdrawal in sound:
        assert (await portal.withdrawal(session, withdrawal.id)).status is WithdrawalStatus.SETTLED
    assert (await portal.withdrawal(session, broken.id)).status is WithdrawalStatus.PENDING
    assert_ledger_sound(platform)


async def test_settling_twice_finds_nothing_the_second_time(platform: Platform) -> None:
    """`mark_settled`'s conditional update is the guard: asked again (by a process that read
    the withdrawal as pending before another settled it), it changes nothing."""
    session = await sign_in(platform, B2C_PAYBILL)
    portal = platform.org_portal
    await portal.move_to_working(session, B2C_PAYBILL, amount="1000", form_key=form_key())
    made = await withdraw(portal, session, "400")
    now = made.due_at + 60
    with write_transaction(platform.engine) as conn:
        assert withdrawals_store.mark_settled(conn, made.id, bank_reference="STL1", now=now)
        assert not withdrawals_store.mark_settled(conn, made.id, bank_reference="STL2", now=now)
    settled = await portal.withdrawal(session, made.id)
    assert (settled.status, settled.bank_reference) == (WithdrawalStatus.SETTLED, "STL1")
    # And settle() on a settled withdrawal posts nothing.
    float_before = balance(platform, accounts.FLOAT.code)
    with write_transaction(platform.engine) as conn:
        assert org_funds.settle(conn, platform.ledger, made.id, now=now) is False
    assert balance(platform, accounts.FLOAT.code) == float_before


async def test_the_settlement_report_lists_every_withdrawal_of_the_days_it_totals(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(org_portal, "REPORT_DAYS_PER_PAGE", 2)
    session = await sign_in(platform, B2C_PAYBILL)
    portal = platform.org_portal
    await portal.move_to_working(session, B2C_PAYBILL, amount="1000", form_key=form_key())
    made = []
    for week in range(3):
        # A week apart: the same weekday, so three different settlement days.
        platform.clock.offset_s = week * 7 * 86_400.0
        made += [await withdraw(portal, session, str(n)) for n in (10, 20)]
    first = await portal.settlement_report(session, page=1)
    second = await portal.settlement_report(session, page=2)
    assert first.has_older and not second.has_older
    days = first.days + second.days
    assert [d.settle_on for d in days] == sorted({w.settle_on for w in made}, reverse=True)
    for report in (first, second):
        for day in report.days:
            listed = report.withdrawals[day.settle_on]
            assert len(listed) == day.count == 2
            assert sum(w.amount_cents for w in listed) == day.total_cents
    shown = {w.id for r in (first, second) for rows in r.withdrawals.values() for w in rows}
    assert shown == {w.id for w in made}


async def test_statement_balances_agree_whatever_the_filter_or_limit(platform: Platform) -> None:
    """Balances are worked back from the balance now over the lines shown; they must match
    a forward running sum over the whole history, filtered, limited or not."""
    session = await sign_in(platform, B2C_PAYBILL)
    portal = platform.org_portal
    for amount in ("900", "1,100"):
        await portal.move_to_working(session, B2C_PAYBILL, amount=amount, form_key=form_key())
        platform.clock.offset_s += 7200
    for amount in ("150", "250", "300"):
        await withdraw(portal, session, amount)
        platform.clock.offset_s += 7200
    everything = await portal.statement(session, B2C_PAYBILL, "working", StatementFilter())
    running, expected = 0, {}
    for line in reversed(everything):
        running += line.amount_cents if line.direction == "credit" else -line.amount_cents
        expected[line.transfer_id] = running
    assert [line.balance_after_cents for line in reversed(everything)] == list(expected.values())
    assert everything[0].balance_after_cents == balance(
        platform, accounts.org_working(B2C_PAYBILL).code
    )
    middle = everything[2].created_at
    for filters, limit in (
        (StatementFilter(direction="debit"), 200),
        (StatementFilter(direction="credit"), 200),
        (StatementFilter(), 2),
        (StatementFilter(since=middle), 200),
        (StatementFilter(until=middle), 200),
        (StatementFilter(since=middle, direction="debit"), 1),
    ):
        shown = await portal.statement(session, B2C_PAYBILL, "working", filters, limit=limit)
        assert shown, filters
        assert len(shown) <= limit
        for line in shown:
            assert line.balance_after_cents == expected[line.transfer_id], (filters, limit)
