"""What an approved application sets up in the PRODUCTION database, in one db transaction:
the organisation, its shortcode(s) with their accounts, bank details, and a Business
Administrator web operator.

Idempotent by the shortcode the application reserved beforehand: if that shortcode already
exists and belongs to an organisation of the application's name, the set-up was done by an
earlier attempt (the approval crashed before recording it), and only the administrator's
password is set again (the earlier one-time password was never sent). Anything else under
that name or number is someone else's, and refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select, update

from pesabox.domain.bank_details import BankDetails
from pesabox.domain.onboarding.applications import ApplicationKind
from pesabox.domain.operators import OperatorKind, OperatorRole
from pesabox.domain.shortcode_setup import (
    ApiService,
    SetupConflict,
    ShortcodeKind,
    ShortcodeSetup,
    TariffProfile,
)
from pesabox.storage import bank_accounts_store, operators_store, orgs_store
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.parties_store import get_shortcode
from pesabox.storage.tables import organisations, shortcodes

# A new business takes and pays on C2B and may pay other businesses; B2C (which may not
# share a shortcode with C2B) is a separate request.
_SERVICES = frozenset({ApiService.C2B, ApiService.B2B})


@dataclass(frozen=True, slots=True)
class BusinessSetup:
    organisation_name: str
    trading_name: str
    kind: ApplicationKind
    # The PayBill, or the till; a till's store is `store_shortcode`.
    shortcode: str
    store_shortcode: str | None
    bank: BankDetails
    admin_username: str

    @property
    def portal_shortcode(self) -> str:
        """The number the administrator signs in with: a till's store, or the PayBill."""
        return self.store_shortcode or self.shortcode


def _setups(setup: BusinessSetup) -> list[ShortcodeSetup]:
    if setup.kind is ApplicationKind.PAYBILL:
        return [
            ShortcodeSetup(
                shortcode=setup.shortcode,
                kind=ShortcodeKind.PAYBILL,
                name=setup.trading_name,
                tariff_profile=TariffProfile.CUSTOMER_BOUQUET,
                services=_SERVICES,
            )
        ]
    if setup.store_shortcode is None:
        raise ValueError("a till is set up with its store")
    return [
        ShortcodeSetup(
            shortcode=setup.store_shortcode,
            kind=ShortcodeKind.STORE,
            name=setup.trading_name,
            tariff_profile=TariffProfile.MAUZO,
            services=_SERVICES,
        ),
        ShortcodeSetup(
            shortcode=setup.shortcode,
            kind=ShortcodeKind.TILL,
            name=setup.trading_name,
            tariff_profile=TariffProfile.MAUZO,
            services=_SERVICES,
            store_shortcode=setup.store_shortcode,
        ),
    ]


def set_up_business(
    conn: Connection,
    setup: BusinessSetup,
    *,
    admin_password_digest: str,
    ledger: LedgerStore,
    now: float,
) -> int:
    """The production organisation's id, set up now or found set up by an earlier attempt."""
    existing = orgs_store.organisation_id(conn, setup.organisation_name)
    record = get_shortcode(conn, setup.portal_shortcode)
    if existing is not None or record is not None:
        if existing is None or record is None or record.organisation_id != existing:
            raise SetupConflict(
                f"production already has an organisation named {setup.organisation_name!r} "
                f"or a shortcode {setup.portal_shortcode} of another organisation"
            )
        operators_store.set_password(
            conn,
            shortcode=setup.portal_shortcode,
            username=setup.admin_username,
            password_digest=admin_password_digest,
            now=now,
        )
        return existing
    organisation = orgs_store.create_organisation(conn, setup.organisation_name, now=now)
    for shortcode_setup in _setups(setup):
        orgs_store.add_shortcode(
            conn, shortcode_setup, organisation=organisation.name, ledger=ledger, now=now
        )
    bank_accounts_store.set_bank_details(conn, organisation.id, setup.bank, now=now)
    operators_store.add_operator(
        conn,
        shortcode=setup.portal_shortcode,
        username=setup.admin_username,
        kind=OperatorKind.WEB,
        roles=[OperatorRole.BUSINESS_ADMINISTRATOR],
        password_digest=admin_password_digest,
        now=now,
    )
    return organisation.id


def set_passkey(conn: Connection, shortcode: str, passkey: str) -> bool:
    """The Lipa na M-Pesa Online passkey of a shortcode; whether the shortcode exists."""
    result = conn.execute(
        update(shortcodes).where(shortcodes.c.shortcode == shortcode).values(passkey=passkey)
    )
    return bool(result.rowcount)


def production_shortcodes_in(conn: Connection, numbers: range) -> set[int]:
    """Production shortcodes that fall in `numbers` (someone may have added one by hand)."""
    found: set[int] = set()
    for record in orgs_store.list_shortcodes(conn):
        if record.shortcode.isdigit() and int(record.shortcode) in numbers:
            found.add(int(record.shortcode))
    return found


def organisation_named(conn: Connection, name: str) -> bool:
    """Whether production has an organisation of this name, in any case or spacing."""
    key = " ".join(name.split()).lower()
    found = conn.execute(
        select(organisations.c.id).where(func.lower(organisations.c.name) == key)
    ).first()
    return found is not None
