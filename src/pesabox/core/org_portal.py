"""The org portal's use cases, for a signed-in web operator: balances, statements, moving
funds, withdrawing to the bank, the settlement report, operators, C2B URLs and validation.

Every method takes the operator's `PortalSession` and checks that the shortcode or record it
is asked about belongs to the session's organisation. Anything else is `PortalNotFound`,
the same answer as for something that does not exist, so one organisation cannot even learn
what another has. Actions that need a role the operator lacks are `PortalForbidden`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from pesabox.clock import Clock
from pesabox.domain import accounts
from pesabox.domain.bank_details import BankDetails
from pesabox.domain.operators import (
    PASSWORD_LENGTH_MAX,
    OperatorKind,
    OperatorRole,
    OperatorRuleError,
    check_username,
    parse_roles,
)
from pesabox.domain.org_funds import FundsRefusal, parse_amount
from pesabox.domain.portal_roles import ADMINISTER_ROLES, MOVE_FUNDS_ROLES, WITHDRAW_ROLES
from pesabox.domain.services import operator_admin, org_funds
from pesabox.domain.services.org_funds import MoveOutcome, WithdrawalOutcome
from pesabox.domain.statement_filter import StatementFilter
from pesabox.security.certificates import encrypt_credential
from pesabox.security.web_sessions import PortalSession
from pesabox.settings import Settings
from pesabox.storage import (
    bank_accounts_store,
    c2b_store,
    certificates_store,
    ledger_queries,
    operators_store,
    orgs_store,
    statement_queries,
    withdrawals_store,
)
from pesabox.storage.c2b_store import Registration
from pesabox.storage.db import read_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.operators_store import OperatorRecord
from pesabox.storage.parties_store import ShortcodeCache, ShortcodeRecord, get_shortcode
from pesabox.storage.statement_queries import Line
from pesabox.storage.types import Connection, Engine
from pesabox.storage.withdrawals_store import SettlementDay, WithdrawalRecord
from pesabox.storage.writer import LedgerWriter

T = TypeVar("T")
# The settlement report pages through settlement days, this many at a time.
REPORT_DAYS_PER_PAGE = 14
# A withdrawal's id is its M-Pesa receipt: ten upper-case letters and digits.
_RECEIPT = re.compile(r"[A-Z0-9]{10}")

# The statement's account names as the portal shows them, and their ledger codes.
ACCOUNT_LABELS = {"utility": "Utility", "working": "Working", "charges": "Charges Paid"}
_ACCOUNT_SPECS = {
    "utility": accounts.org_utility,
    "working": accounts.org_working,
    "charges": accounts.org_charges_paid,
}


class PortalNotFound(LookupError):
    """Not there, or not this organisation's: the portal answers 404 either way."""


class PortalForbidden(PermissionError):
    """The operator's roles do not allow this."""


@dataclass(frozen=True, slots=True)
class Balances:
    shortcode: str
    utility_cents: int
    working_cents: int
    charges_cents: int


@dataclass(frozen=True, slots=True)
class Withdrawn:
    withdrawal: WithdrawalRecord
    # True when the same form had been sent before: this is the first one's withdrawal.
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class SettlementReport:
    page: int
    days: list[SettlementDay]
    # Each day's withdrawals, newest first: all of them up to LIST_LIMIT_MAX (a day with
    # more says how many its list leaves out).
    withdrawals: dict[date, list[WithdrawalRecord]]
    has_older: bool


def account_code(shortcode: str, account: str) -> str:
    spec = _ACCOUNT_SPECS.get(account)
    if spec is None:
        raise PortalNotFound(f"no account {account!r}")
    return spec(shortcode).code


async def _password_digest(password: str, *, username: str) -> str:
    # Stretched before the write: PBKDF2 inside it would stall the whole group commit.
    return await asyncio.to_thread(operator_admin.password_digest, password, username=username)


class OrgPortalService:
    def __init__(
        self,
        *,
        engine: Engine,
        writer: LedgerWriter,
        ledger: LedgerStore,
        clock: Clock,
        settings: Settings,
        shortcodes: ShortcodeCache,
    ) -> None:
        self._engine = engine
        self._writer = writer
        self._ledger = ledger
        self._clock = clock
        self._settings = settings
        self._shortcodes = shortcodes

    # --- scoping ----------------------------------------------------------------------

    @staticmethod
    def own_shortcode(session: PortalSession, shortcode: str) -> str:
        if shortcode not in session.shortcodes:
            raise PortalNotFound(f"no shortcode {shortcode}")
        return shortcode

    @staticmethod
    def require(session: PortalSession, roles: frozenset[OperatorRole]) -> None:
        if not session.has_any(roles):
            names = " or ".join(sorted(role.value for role in roles))
            raise PortalForbidden(f"this needs the {names} role")

    def _authorise(
        self, session: PortalSession, shortcode: str, roles: frozenset[OperatorRole]
    ) -> None:
        """The shortcode is the session's organisation's and the operator holds one of `roles`."""
        self.own_shortcode(session, shortcode)
        self.require(session, roles)

    async def _read(self, query: Callable[[Connection], T]) -> T:
        def run() -> T:
            with read_transaction(self._engine) as conn:
                return query(conn)

        return await asyncio.to_thread(run)

    # --- money ------------------------------------------------------------------------

    async def balances(self, session: PortalSession, shortcode: str) -> Balances:
        self.own_shortcode(session, shortcode)

        def query(conn: Connection) -> Balances:
            values = []
            for account in ("utility", "working", "charges"):
                found = ledger_queries.account_balance(conn, account_code(shortcode, account))
                values.append(found["balance_cents"] if found else 0)
            return Balances(shortcode, *values)

        return await self._read(query)

    async def statement(
        self,
        session: PortalSession,
        shortcode: str,
        account: str,
        filters: StatementFilter,
        *,
        limit: int = 200,
    ) -> list[Line]:
        code = account_code(self.own_shortcode(session, shortcode), account)
        return await self._read(
            lambda conn: statement_queries.statement(conn, code, filters, limit=limit)
        )

    async def move_to_working(
        self, session: PortalSession, shortcode: str, *, amount: str, form_key: str
    ) -> MoveOutcome:
        self._authorise(session, shortcode, MOVE_FUNDS_ROLES)
        amount_cents = parse_amount(amount)
        key = _form_key(form_key)
        now = self._clock.now()
        outcome = await self._writer.submit(
            lambda conn: org_funds.move_to_working(
                conn,
                self._ledger,
                shortcode=shortcode,
                amount_cents=amount_cents,
                idempotency_key=key,
                now=now,
            )
        )
        if outcome.refusal:
            raise FundsRefusal(outcome.refusal)
        return outcome

    async def withdraw(
        self, session: PortalSession, shortcode: str, *, amount: str, form_key: str
    ) -> Withdrawn:
        self._authorise(session, shortcode, WITHDRAW_ROLES)
        amount_cents = parse_amount(amount)
        key = _form_key(form_key)
        now = self._clock.now()

        def job(conn: Connection) -> WithdrawalOutcome:
            return org_funds.withdraw(
                conn,
                self._ledger,
                shortcode=shortcode,
                organisation_id=session.organisation_id,
                operator_id=session.operator_id,
                amount_cents=amount_cents,
                idempotency_key=key,
                now=now,
            )

        outcome = await self._writer.submit(job)
        if outcome.withdrawal is None:
            raise FundsRefusal(outcome.refusal or "the withdrawal was refused")
        return Withdrawn(outcome.withdrawal, replayed=outcome.replayed)

    async def withdrawals(
        self, session: PortalSession, *, settle_on: date | None = None, limit: int = 100
    ) -> list[WithdrawalRecord]:
        """The organisation's withdrawals, newest first (at most `limit`, up to 500)."""
        return await self._read(
            lambda conn: withdrawals_store.list_withdrawals(
                conn, shortcodes=session.shortcodes, settle_on=settle_on, limit=limit
            )
        )

    async def withdrawal(self, session: PortalSession, withdrawal_id: str) -> WithdrawalRecord:
        if not _RECEIPT.fullmatch(withdrawal_id):
            raise PortalNotFound(f"no withdrawal {withdrawal_id!r}")
        found = await self._read(
            lambda conn: withdrawals_store.get_withdrawal(
                conn, withdrawal_id, shortcodes=session.shortcodes
            )
        )
        if found is None:
            raise PortalNotFound(f"no withdrawal {withdrawal_id}")
        return found

    async def settlement_days(self, session: PortalSession) -> list[SettlementDay]:
        return await self._read(
            lambda conn: withdrawals_store.settlement_days(conn, shortcodes=session.shortcodes)
        )

    async def settlement_report(self, session: PortalSession, *, page: int) -> SettlementReport:
        """One page of the report: `REPORT_DAYS_PER_PAGE` settlement days, newest first, each
        with its totals and its withdrawals, so the lists cover exactly the days totalled."""
        page = max(page, 1)

        def query(conn: Connection) -> SettlementReport:
            found = withdrawals_store.settlement_days(
                conn,
                shortcodes=session.shortcodes,
                limit=REPORT_DAYS_PER_PAGE + 1,
                offset=(page - 1) * REPORT_DAYS_PER_PAGE,
            )
            days = found[:REPORT_DAYS_PER_PAGE]
            listed = {
                day.settle_on: withdrawals_store.list_withdrawals(
                    conn,
                    shortcodes=session.shortcodes,
                    settle_on=day.settle_on,
                    limit=withdrawals_store.LIST_LIMIT_MAX,
                )
                for day in days
            }
            return SettlementReport(page, days, listed, has_older=len(found) > len(days))

        return await self._read(query)

    async def bank_details(self, session: PortalSession) -> BankDetails | None:
        return await self._read(
            lambda conn: bank_accounts_store.get_bank_details(conn, session.organisation_id)
        )

    # --- shortcodes -------------------------------------------------------------------

    async def shortcode_records(self, session: PortalSession) -> list[ShortcodeRecord]:
        def query(conn: Connection) -> list[ShortcodeRecord]:
            found = (get_shortcode(conn, code) for code in session.shortcodes)
            return [record for record in found if record is not None]

        return await self._read(query)

    async def registration(self, session: PortalSession, shortcode: str) -> Registration | None:
        self.own_shortcode(session, shortcode)
        return await self._read(lambda conn: c2b_store.get_registration(conn, shortcode))

    async def set_validation(self, session: PortalSession, shortcode: str, *, on: bool) -> bool:
        self._authorise(session, shortcode, ADMINISTER_ROLES)
        changed = await self._writer.submit(
            lambda conn: orgs_store.set_validation(conn, shortcode, enabled=on)
        )
        # This process sees the switch at once; others within the cache's few seconds.
        self._shortcodes.clear()
        return changed

    # --- operators --------------------------------------------------------------------

    async def operators(self, session: PortalSession) -> list[OperatorRecord]:
        def query(conn: Connection) -> list[OperatorRecord]:
            found: list[OperatorRecord] = []
            for code in session.shortcodes:
                found.extend(operators_store.list_operators(conn, shortcode=code))
            return found

        return await self._read(query)

    async def add_api_operator(
        self,
        session: PortalSession,
        shortcode: str,
        *,
        username: str,
        roles: Iterable[str],
        password: str,
    ) -> OperatorRecord:
        self._authorise(session, shortcode, ADMINISTER_ROLES)
        chosen = parse_roles(roles)
        digest = await _password_digest(password, username=username)
        now = self._clock.now()
        return await self._writer.submit(
            lambda conn: operator_admin.add_operator(
                conn,
                shortcode=shortcode,
                username=username,
                kind=OperatorKind.API,
                roles=chosen,
                digest=digest,
                now=now,
            )
        )

    async def set_password(
        self, session: PortalSession, shortcode: str, *, username: str, password: str
    ) -> OperatorRecord:
        self._authorise(session, shortcode, ADMINISTER_ROLES)
        username = check_username(username)
        digest = await _password_digest(password, username=username)
        now = self._clock.now()
        return await self._writer.submit(
            lambda conn: operator_admin.set_password(
                conn, shortcode=shortcode, username=username, digest=digest, now=now
            )
        )

    async def unlock(self, session: PortalSession, shortcode: str, *, username: str) -> bool:
        self._authorise(session, shortcode, ADMINISTER_ROLES)
        username = check_username(username)
        return await self._writer.submit(
            lambda conn: operator_admin.unlock(conn, shortcode=shortcode, username=username)
        )

    async def security_credential(self, password: str) -> str:
        """`password` encrypted with this environment's certificate, as an initiator's
        SecurityCredential (the portal's counterpart of `pesabox credential encrypt`)."""
        if not 1 <= len(password) <= PASSWORD_LENGTH_MAX:
            raise OperatorRuleError(
                f"enter the initiator's password (1 to {PASSWORD_LENGTH_MAX} characters)"
            )
        environment = self._settings.environment
        stored = await self._read(lambda conn: certificates_store.get(conn, environment))
        if stored is None:
            raise PortalNotFound(f"no certificate for the {environment} environment")
        return encrypt_credential(password, stored.certificate_pem)


def _form_key(text: str) -> str:
    # The form's hidden one-time key: random text the page made; only its shape is checked.
    key = text.strip()
    if not 16 <= len(key) <= 64 or not key.replace("-", "").replace("_", "").isalnum():
        raise FundsRefusal("the form has expired; reload the page and try again")
    return key
