"""Apps (consumer key/secret + products) and their access tokens."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from pesabox.domain.products import Product, format_products, parse_products
from pesabox.storage.tables import access_tokens, apps


@dataclass(frozen=True, slots=True)
class AppRecord:
    id: int
    name: str
    consumer_key: str
    secret_digest: str
    products: frozenset[Product]
    created_at: float
    organisation_id: int | None = None


@dataclass(frozen=True, slots=True)
class TokenGrant:
    token: str
    app_id: int
    products: frozenset[Product]
    expires_at: float
    # The organisation a production app belongs to; None for sandbox apps.
    organisation_id: int | None = None


def _app(row: object) -> AppRecord:
    return AppRecord(
        id=row.id,  # type: ignore[attr-defined]
        name=row.name,  # type: ignore[attr-defined]
        consumer_key=row.consumer_key,  # type: ignore[attr-defined]
        secret_digest=row.secret_digest,  # type: ignore[attr-defined]
        products=parse_products(row.products),  # type: ignore[attr-defined]
        created_at=row.created_at,  # type: ignore[attr-defined]
        organisation_id=row.organisation_id,  # type: ignore[attr-defined]
    )


def insert_app(
    conn: Connection,
    *,
    name: str,
    consumer_key: str,
    secret_digest: str,
    products: frozenset[Product],
    now: float,
    organisation_id: int | None = None,
) -> int:
    result = conn.execute(
        apps.insert().values(
            name=name,
            consumer_key=consumer_key,
            secret_digest=secret_digest,
            products=format_products(products),
            created_at=now,
            organisation_id=organisation_id,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def find_app_by_key(conn: Connection, consumer_key: str) -> AppRecord | None:
    row = conn.execute(select(apps).where(apps.c.consumer_key == consumer_key)).first()
    return _app(row) if row else None


def find_app_by_name(conn: Connection, name: str) -> AppRecord | None:
    row = conn.execute(select(apps).where(apps.c.name == name)).first()
    return _app(row) if row else None


def list_apps(conn: Connection) -> list[AppRecord]:
    return [_app(row) for row in conn.execute(select(apps).order_by(apps.c.id))]


def insert_token(
    conn: Connection, *, token: str, app_id: int, expires_at: float, now: float
) -> None:
    conn.execute(
        access_tokens.insert().values(
            token=token, app_id=app_id, expires_at=expires_at, created_at=now
        )
    )


def find_token(conn: Connection, token: str) -> TokenGrant | None:
    row = conn.execute(
        select(
            access_tokens.c.token,
            access_tokens.c.app_id,
            access_tokens.c.expires_at,
            apps.c.products,
            apps.c.organisation_id,
        )
        .join(apps, apps.c.id == access_tokens.c.app_id)
        .where(access_tokens.c.token == token)
    ).first()
    if row is None:
        return None
    return TokenGrant(
        row.token, row.app_id, parse_products(row.products), row.expires_at, row.organisation_id
    )


def purge_expired_tokens(conn: Connection, *, expired_before: float) -> int:
    result = conn.execute(access_tokens.delete().where(access_tokens.c.expires_at < expired_before))
    return int(result.rowcount)
