"""A data bundle bought from the Bonga menu and paid via M-PESA: the Bonga PIN guards it
(integration FAQ), the wallet pays Safaricom's data-bundle account, and the purchase earns
points like any M-PESA transaction."""

from __future__ import annotations

from dataclasses import dataclass

from pesabox.domain import accounts, customer_sms
from pesabox.domain.data_bundles import DataBundle
from pesabox.domain.services.bonga_pin import TypedPin, refused_by_pin
from pesabox.domain.services.handset_menu import MenuContext, MenuRequest, record, replayed, tell
from pesabox.domain.services.menu_purchase import earn_points, pay_safaricom, purchase_failed
from pesabox.storage import handset_store
from pesabox.storage.handset_store import HandsetTransaction
from pesabox.storage.types import Connection


@dataclass(frozen=True, slots=True)
class BundleOrder:
    msisdn: str
    bundle: DataBundle
    pin: TypedPin
    idempotency_key: str | None = None


def buy_bundle(
    conn: Connection, context: MenuContext, order: BundleOrder, *, receipt: str, now: float
) -> HandsetTransaction:
    bundle = order.bundle
    request = MenuRequest(
        handset_store.DATA_BUNDLE, order.msisdn, bundle.code, bundle.price_cents,
        receipt, order.idempotency_key, now,
    )  # fmt: skip
    answered = replayed(conn, request) or refused_by_pin(conn, context, request, order.pin)
    if answered is not None:
        return answered
    code = pay_safaricom(conn, context, request, sales=accounts.DATA_BUNDLE_SALES)
    if code != 0:
        return purchase_failed(conn, request, what=f"Buying {bundle.name}", result_code=code)
    paid = customer_sms.bundle_bought(
        receipt=receipt,
        price_cents=bundle.price_cents,
        bundle_name=bundle.name,
        balance_cents=context.ledger.balance_cents(conn, accounts.wallet_code(order.msisdn)),
        now=now,
    )
    tell(conn, order.msisdn, paid, sender=customer_sms.MPESA, now=now)
    tell(conn, order.msisdn, customer_sms.bundle_active(bundle_name=bundle.name),
         sender=customer_sms.SAFARICOM, now=now)  # fmt: skip
    earn_points(conn, context, request)
    return record(conn, request, result_code=0)
