"""One environment's credentials used on the other, in one process with both served (issue 6).

Isolation is by construction: each environment's apps, tokens, shortcodes, passkeys and
initiator-encryption key live in its own database, so what belongs to one is simply unknown
to the other, and each misuse is answered as Daraja answers it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from pesabox.domain import accounts
from pesabox.domain.ledger import Purpose, TransferRequest
from pesabox.sandbox import fixtures
from pesabox.security.certificates import encrypt_credential
from pesabox.storage import certificates_store
from pesabox.storage.db import read_transaction, write_transaction
from pesabox.storage.ledger_store import LedgerStore
from tests.environments.harness import Environments
from tests.pki_support import ThrowawayCA, listener_context
from tests.support import basic_auth, stk_body
from tests.tls_receiver import TlsReceiver, running_tls_receiver

STK_PUSH = "/mpesa/stkpush/v1/processrequest"
B2C = "/mpesa/b2c/v3/paymentrequest"
CUSTOMER = "254708374149"


@pytest.fixture
async def business_listener(
    environments: Environments, listener_ca: ThrowawayCA
) -> AsyncIterator[TlsReceiver]:
    """The business's Result listener: https, taking only clients of the platform CA."""
    context = listener_context(
        listener_ca.issue("duka"), client_ca_pem=environments.platform_ca_pem()
    )
    async with running_tls_receiver(context) as receiver:
        yield receiver


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _error(reply: Any) -> tuple[int, str, str]:
    body = reply.json()
    assert set(body) == {"requestId", "errorCode", "errorMessage"}, body
    return reply.status_code, body["errorCode"], body["errorMessage"]


# --- tokens and keys --------------------------------------------------------------------


async def test_a_sandbox_token_is_unknown_to_production(environments: Environments) -> None:
    token = await environments.sandbox_token()
    business = environments.business
    body = stk_body(
        shortcode=business.paybill,
        passkey=business.passkey,
        callback_url="https://shop.example/cb",
    )
    reply = await environments.production_client.post(STK_PUSH, json=body, headers=_bearer(token))
    assert _error(reply) == (404, "404.001.03", "Invalid Access Token")


async def test_a_sandbox_token_with_the_business_certificate_is_still_unknown(
    environments: Environments,
) -> None:
    # Over mutual TLS with a valid certificate, the token is what decides.
    token = await environments.sandbox_token()
    reply = await environments.production_client.post(
        B2C, json={"InitiatorName": "x"}, headers=_bearer(token)
    )
    assert _error(reply) == (401, "401.002.01", "Error Occurred - Invalid Access Token")


async def test_a_production_token_is_unknown_to_the_sandbox(environments: Environments) -> None:
    token = await environments.production_token()
    reply = await environments.sandbox_client.post(
        STK_PUSH, json=stk_body(), headers=_bearer(token)
    )
    assert _error(reply) == (404, "404.001.03", "Invalid Access Token")


async def test_production_keys_are_invalid_credentials_on_the_sandbox(
    environments: Environments,
) -> None:
    business = environments.business
    reply = await environments.sandbox_client.get(
        "/oauth/v1/generate",
        params={"grant_type": "client_credentials"},
        headers={"Authorization": basic_auth(business.consumer_key, business.consumer_secret)},
    )
    assert _error(reply)[:2] == (400, "400.008.01")


async def test_sandbox_keys_are_invalid_credentials_on_production(
    environments: Environments,
) -> None:
    app = environments.sandbox_app
    reply = await environments.production_client.get(
        "/oauth/v1/generate",
        params={"grant_type": "client_credentials"},
        headers={"Authorization": basic_auth(app.consumer_key, app.consumer_secret)},
    )
    assert _error(reply)[:2] == (400, "400.008.01")


# --- the sandbox's shortcode and passkey --------------------------------------------------


async def test_the_sandbox_shortcode_does_not_exist_in_production(
    environments: Environments,
) -> None:
    token = await environments.production_token()
    body = stk_body(callback_url="https://shop.example/cb")  # 174379 and its passkey
    reply = await environments.production_client.post(STK_PUSH, json=body, headers=_bearer(token))
    assert _error(reply) == (500, "500.001.1001", "Merchant does not exist")


async def test_the_sandbox_passkey_is_wrong_credentials_for_a_production_shortcode(
    environments: Environments,
) -> None:
    token = await environments.production_token()
    body = stk_body(
        shortcode=environments.business.paybill,
        passkey=fixtures.SANDBOX_PASSKEY,
        callback_url="https://shop.example/cb",
    )
    reply = await environments.production_client.post(STK_PUSH, json=body, headers=_bearer(token))
    assert _error(reply) == (500, "500.001.1001", "[MerchantValidate] - Wrong credentials")


async def test_the_production_passkey_is_accepted_in_production(
    environments: Environments,
) -> None:
    # The control for the two above: the business's own shortcode and passkey work.
    token = await environments.production_token()
    business = environments.business
    body = stk_body(
        shortcode=business.paybill, passkey=business.passkey, callback_url="https://shop.example/cb"
    )
    reply = await environments.production_client.post(STK_PUSH, json=body, headers=_bearer(token))
    assert reply.status_code == 200, reply.text
    assert reply.json()["ResponseCode"] == "0"


# --- the initiator-encryption certificates ------------------------------------------------


async def _certificate(environments: Environments, environment: str) -> str:
    reply = await environments.sandbox_client.get(f"/sandbox/v1/certificates/{environment}.cer")
    assert reply.status_code == 200, reply.text
    return reply.text


async def _b2c(
    environments: Environments, receiver: TlsReceiver, *, credential: str, originator: str
) -> dict[str, Any]:
    business = environments.business
    token = await environments.production_token()
    body = {
        "OriginatorConversationID": originator,
        "InitiatorName": business.initiator,
        "SecurityCredential": credential,
        "CommandID": "BusinessPayment",
        "Amount": "10",
        "PartyA": business.b2c_shortcode,
        "PartyB": CUSTOMER,
        "Remarks": "payout",
        "QueueTimeOutURL": receiver.url("/b2c/queue"),
        "ResultURL": receiver.url("/b2c/result"),
        "Occassion": "",
    }
    reply = await environments.production_client.post(B2C, json=body, headers=_bearer(token))
    assert reply.status_code == 200, reply.text
    conversation = reply.json()["ConversationID"]
    for _ in range(500):
        for received in receiver.received:
            result = _result_of(received.body)
            if received.path == "/b2c/result" and result["ConversationID"] == conversation:
                # Delivered over https with production's broker certificate.
                assert received.peer_common_name == "prodbroker.pesabox.local"
                return result
        await asyncio.sleep(0.02)
    raise AssertionError(f"no Result for {conversation}")


def _result_of(body: str) -> dict[str, Any]:
    result: dict[str, Any] = orjson.loads(body)["Result"]
    return result


async def test_production_cer_is_production_databases_certificate(
    environments: Environments,
) -> None:
    with read_transaction(environments.production.engine) as conn:
        stored = certificates_store.get(conn, "production")
    assert stored is not None
    assert await _certificate(environments, "production") == stored.certificate_pem
    assert await _certificate(environments, "sandbox") != stored.certificate_pem


async def test_a_credential_made_with_the_sandbox_certificate_is_invalid_in_production(
    environments: Environments, business_listener: TlsReceiver
) -> None:
    sandbox_certificate = await _certificate(environments, "sandbox")
    credential = encrypt_credential(environments.business.initiator_password, sandbox_certificate)
    result = await _b2c(environments, business_listener, credential=credential, originator="duka-1")
    assert (result["ResultCode"], result["ResultDesc"]) == (
        2001,
        "The initiator information is invalid.",
    )


async def test_a_credential_made_with_production_cer_pays_in_production(
    environments: Environments, business_listener: TlsReceiver
) -> None:
    _fund_payouts(environments)
    production_certificate = await _certificate(environments, "production")
    credential = encrypt_credential(
        environments.business.initiator_password, production_certificate
    )
    result = await _b2c(environments, business_listener, credential=credential, originator="duka-2")
    assert result["ResultCode"] == 0, result


def _fund_payouts(environments: Environments) -> None:
    shortcode = environments.business.b2c_shortcode
    with write_transaction(environments.production.engine) as conn:
        LedgerStore().post(
            conn,
            [
                TransferRequest(
                    f"test:fund:{shortcode}",
                    accounts.FLOAT.code,
                    accounts.org_utility(shortcode).code,
                    100_000_00,
                    Purpose.FUNDING,
                )
            ],
            now=time.time(),
        )
