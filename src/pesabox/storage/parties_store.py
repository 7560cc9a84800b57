"""Customers, organisations, shortcodes, initiators and the handset's SMS inbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from pesabox.storage.fastsql import Statement
from pesabox.storage.tables import organisations, shortcodes, sms_messages


@dataclass(frozen=True, slots=True)
class ShortcodeRecord:
    shortcode: str
    organisation_id: int
    organisation_name: str
    kind: str
    name: str
    passkey: str | None
    store_shortcode: str | None
    tariff_profile: str
    products: frozenset[str]
    validation_enabled: bool


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    msisdn: str
    name: str
    pin_digest: str
    status: str


# Every read of a shortcode wants its organisation's name too (prompts, SMS, statements).
SHORTCODES_WITH_ORGANISATION = select(
    shortcodes, organisations.c.name.label("organisation_name")
).join(organisations, organisations.c.id == shortcodes.c.organisation_id)


def shortcode_record(row: Any) -> ShortcodeRecord:
    """A row of `SHORTCODES_WITH_ORGANISATION` as a record."""
    return ShortcodeRecord(
        shortcode=row.shortcode,
        organisation_id=row.organisation_id,
        organisation_name=row.organisation_name,
        kind=row.kind,
        name=row.name,
        passkey=row.passkey,
        store_shortcode=row.store_shortcode,
        tariff_profile=row.tariff_profile,
        products=frozenset(p for p in row.products.split(",") if p),
        validation_enabled=bool(row.validation_enabled),
    )


# The same read for one shortcode, on the payment path (see `fastsql`).
_SHORTCODE = Statement(
    """
    SELECT s.shortcode, s.organisation_id, o.name, s.kind, s.name, s.passkey,
           s.store_shortcode, s.tariff_profile, s.products, s.validation_enabled
      FROM shortcodes s JOIN organisations o ON o.id = s.organisation_id
     WHERE s.shortcode = :shortcode
    """
)
_CUSTOMER = Statement(
    "SELECT msisdn, name, pin_digest, status FROM customers WHERE msisdn = :msisdn"
)


def get_shortcode(conn: Connection, shortcode: str) -> ShortcodeRecord | None:
    row = _SHORTCODE.one_or_none(conn, {"shortcode": shortcode})
    if row is None:
        return None
    code, organisation_id, organisation, kind, name, passkey, store, tariff, products, on = row
    return ShortcodeRecord(
        shortcode=code,
        organisation_id=organisation_id,
        organisation_name=organisation,
        kind=kind,
        name=name,
        passkey=passkey,
        store_shortcode=store,
        tariff_profile=tariff,
        products=frozenset(p for p in products.split(",") if p),
        validation_enabled=bool(on),
    )


class ShortcodeCache:
    """Shortcodes change only through onboarding, so each process keeps them for a few
    seconds instead of reading them on every push and every payment."""

    def __init__(self, ttl_s: float = 5.0) -> None:
        self._ttl_s = ttl_s
        self._entries: dict[str, tuple[float, ShortcodeRecord | None]] = {}

    def cached(self, shortcode: str, now: float) -> tuple[bool, ShortcodeRecord | None]:
        entry = self._entries.get(shortcode)
        if entry is not None and now - entry[0] < self._ttl_s:
            return True, entry[1]
        return False, None

    def clear(self) -> None:
        """Forget everything: this process just changed a shortcode."""
        self._entries.clear()

    def lookup(self, conn: Connection, shortcode: str, now: float) -> ShortcodeRecord | None:
        hit, record = self.cached(shortcode, now)
        if hit:
            return record
        record = get_shortcode(conn, shortcode)
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[shortcode] = (now, record)
        return record


def get_customer(conn: Connection, msisdn: str) -> CustomerRecord | None:
    row = _CUSTOMER.one_or_none(conn, {"msisdn": msisdn})
    return CustomerRecord(*row) if row is not None else None


_ADD_SMS = Statement(
    "INSERT INTO sms_messages (msisdn, sender, body, created_at) "
    "VALUES (:msisdn, :sender, :body, :now)"
)


def add_sms(conn: Connection, *, msisdn: str, sender: str, body: str, now: float) -> None:
    _ADD_SMS.rowcount(conn, {"msisdn": msisdn, "sender": sender, "body": body, "now": now})


def list_sms(conn: Connection, msisdn: str, *, limit: int = 50) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(sms_messages)
        .where(sms_messages.c.msisdn == msisdn)
        .order_by(sms_messages.c.id.desc())
        .limit(limit)
    ).mappings()
    return [
        {"id": r["id"], "sender": r["sender"], "body": r["body"], "created_at": r["created_at"]}
        for r in rows
    ]
