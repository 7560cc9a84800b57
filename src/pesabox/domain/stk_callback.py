"""The `Body.stkCallback` payload, byte for byte as Daraja sends it (daraja-api.md §4.2)."""

from __future__ import annotations

import orjson

from pesabox.money import cents_to_decimal_string


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


def stk_callback_payload(
    *,
    merchant_request_id: str,
    checkout_request_id: str,
    result_code: int,
    result_desc: str,
    amount_cents: int | None = None,
    receipt: str | None = None,
    transaction_date: str | None = None,
    phone_number: str | None = None,
) -> str:
    """Success carries CallbackMetadata; failure does not.

    The JSON is assembled by hand so that `Amount` keeps Daraja's decimal form (`1.00`),
    which no JSON encoder produces from a number.
    """
    head = (
        f'{{"Body":{{"stkCallback":{{"MerchantRequestID":{_json(merchant_request_id)},'
        f'"CheckoutRequestID":{_json(checkout_request_id)},'
        f'"ResultCode":{int(result_code)},"ResultDesc":{_json(result_desc)}'
    )
    if result_code != 0 or amount_cents is None:
        return head + "}}}"
    items = ",".join(
        (
            f'{{"Name":"Amount","Value":{cents_to_decimal_string(amount_cents)}}}',
            f'{{"Name":"MpesaReceiptNumber","Value":{_json(receipt)}}}',
            f'{{"Name":"TransactionDate","Value":{int(transaction_date or 0)}}}',
            f'{{"Name":"PhoneNumber","Value":{int(phone_number or 0)}}}',
        )
    )
    return head + f',"CallbackMetadata":{{"Item":[{items}]}}' + "}}}"
