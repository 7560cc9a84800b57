"""Customers, organisations, shortcodes, initiators and the handset's SMS inbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from pesabox.storage.tables import customers, organisations, shortcodes, sms_messages


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


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    msisdn: str
    name: str
    pin_digest: str
    status: str


def get_shortcode(conn: Connection, shortcode: str) -> ShortcodeRecord | None:
    row = conn.execute(
        select(shortcodes, organisations.c.name.label("organisation_name"))
        .join(organisations, organisations.c.id == shortcodes.c.organisation_id)
        .where(shortcodes.c.shortcode == shortcode)
    ).first()
    if row is None:
        return None
    return ShortcodeRecord(
        shortcode=row.shortcode,
        organisation_id=row.organisation_id,
        organisation_name=row.organisation_name,
        kind=row.kind,
        name=row.name,
        passkey=row.passkey,
        store_shortcode=row.store_shortcode,
        tariff_profile=row.tariff_profile,
    )


def get_customer(conn: Connection, msisdn: str) -> CustomerRecord | None:
    row = conn.execute(select(customers).where(customers.c.msisdn == msisdn)).first()
    if row is None:
        return None
    return CustomerRecord(row.msisdn, row.name, row.pin_digest, row.status)


def add_sms(conn: Connection, *, msisdn: str, sender: str, body: str, now: float) -> None:
    conn.execute(
        sms_messages.insert().values(msisdn=msisdn, sender=sender, body=body, created_at=now)
    )


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
