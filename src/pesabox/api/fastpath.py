"""The payment routes on bare ASGI, in front of Litestar.

Profiling a push under load showed the framework's per-request machinery (middleware stack,
signature model, header objects, response objects) costing more CPU than the push itself, and
the push path is where the throughput target lives. So the Daraja payment routes are served
here: headers read straight from the ASGI scope, the body decoded once by msgspec, the reply
pre-encoded. Everything else, including the sandbox API and the OpenAPI docs, stays on
Litestar, and both paths render errors through `handlers.error_reply`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec

from pesabox.api.body import decode_bytes
from pesabox.api.handlers import error_reply
from pesabox.api.idempotency import scoped_key
from pesabox.api.schemas.b2b import B2bRequest
from pesabox.api.schemas.b2c import B2cRequest, InitiatorAck
from pesabox.api.schemas.c2b import (
    RegisterUrlRequest,
    RegisterUrlResponse,
    SimulateRequest,
    SimulateResponse,
)
from pesabox.api.schemas.queries import AccountBalanceRequest, TransactionStatusRequest
from pesabox.api.schemas.reversal import ReversalRequest
from pesabox.api.schemas.stk import (
    StkPushRequest,
    StkPushResponse,
    StkQueryRequest,
    StkQueryResponse,
)
from pesabox.api.transport import ProductionTransport
from pesabox.domain.products import Product
from pesabox.errors import (
    B2cInvalidAccessToken,
    C2bInvalidAccessToken,
    C2bResourceNotFound,
    InvalidAccessToken,
    InvalidPayload,
    MethodNotAllowed,
    PesaError,
)
from pesabox.ids import conversation_id, request_id

if TYPE_CHECKING:
    from pesabox.api.request_log import RequestRecorder
    from pesabox.core.initiator import Submission
    from pesabox.core.platform import Platform

log = logging.getLogger("pesabox.api")
ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
ACCEPTED = "Success. Request accepted for processing"
_JSON_HEADERS = [(b"content-type", b"application/json")]
_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class FastRequest:
    headers: dict[bytes, bytes]
    body: bytes

    def header(self, name: bytes) -> str | None:
        value = self.headers.get(name)
        return value.decode("latin-1") if value is not None else None

    @property
    def content_type(self) -> str:
        return self.header(b"content-type") or ""


Endpoint = Callable[["Platform", FastRequest], Awaitable[tuple[int, bytes]]]


async def stk_push(platform: Platform, request: FastRequest) -> tuple[int, bytes]:
    grant = await platform.tokens.authorize(
        request.header(b"authorization"), product=Product.MPESA_EXPRESS
    )
    body = decode_bytes(request.content_type, request.body, StkPushRequest)
    command = body.to_command(https_only=platform.settings.environment == "production")
    merchant_request_id, checkout_request_id = await platform.stk.push(command, app_id=grant.app_id)
    reply = StkPushResponse(
        MerchantRequestID=merchant_request_id,
        CheckoutRequestID=checkout_request_id,
        ResponseCode="0",
        ResponseDescription=ACCEPTED,
        CustomerMessage=ACCEPTED,
    )
    return 200, _encoder.encode(reply)


async def stk_query(platform: Platform, request: FastRequest) -> tuple[int, bytes]:
    await platform.tokens.authorize(request.header(b"authorization"), product=Product.MPESA_EXPRESS)
    body = decode_bytes(request.content_type, request.body, StkQueryRequest)
    record = await platform.stk.query(body.to_command())
    reply = StkQueryResponse(
        ResponseCode="0",
        ResponseDescription="The service request has been accepted successfully",
        MerchantRequestID=record.merchant_request_id,
        CheckoutRequestID=record.checkout_request_id,
        ResultCode=str(record.result_code),
        ResultDesc=record.result_desc or "",
    )
    return 200, _encoder.encode(reply)


async def _authorize_c2b(platform: Platform, request: FastRequest, version: str) -> int:
    product = Product.C2B if version == "v1" else Product.C2B_V2
    grant = await platform.tokens.authorize(
        request.header(b"authorization"), product=product, invalid_token=C2bInvalidAccessToken
    )
    return grant.app_id


async def _register_url(
    platform: Platform, request: FastRequest, version: str
) -> tuple[int, bytes]:
    app_id = await _authorize_c2b(platform, request, version)
    body = decode_bytes(request.content_type, request.body, RegisterUrlRequest)
    command = body.to_command(
        api_version=version, https_only=platform.settings.environment == "production"
    )
    await platform.c2b.register_urls(command, app_id=app_id)
    originator = request_id()
    reply = RegisterUrlResponse(
        OriginatorCoversationID=originator,
        OriginatorConversationID=originator,
        ConversationID="",
        ResponseCode="0",
        # The two versions' documented samples differ in case; each keeps its own.
        ResponseDescription="success" if version == "v1" else "Success",
    )
    return 200, _encoder.encode(reply)


async def _simulate(platform: Platform, request: FastRequest, version: str) -> tuple[int, bytes]:
    app_id = await _authorize_c2b(platform, request, version)
    if platform.settings.environment != "sandbox":
        # Real payments come from the customer's phone; Daraja has no simulate in production.
        raise C2bResourceNotFound()
    body = decode_bytes(request.content_type, request.body, SimulateRequest)
    key = scoped_key(request.header(b"idempotency-key"), scope=f"app:{app_id}")
    order = body.to_order(app_id=app_id, idempotency_key=key)
    await platform.c2b.pay(order, wait=False)
    originator = request_id()
    reply = SimulateResponse(
        ConversationID=conversation_id(platform.clock.now()),
        OriginatorCoversationID=originator,
        OriginatorConversationID=originator,
        ResponseCode="0",
        ResponseDescription="Accept the service request successfully.",
    )
    return 200, _encoder.encode(reply)


async def _initiator_call(
    platform: Platform, request: FastRequest, *, api: str, version: str
) -> tuple[int, bytes]:
    grant = await platform.tokens.authorize(
        request.header(b"authorization"), product=Product.B2C, invalid_token=B2cInvalidAccessToken
    )
    body = decode_bytes(request.content_type, request.body, B2cRequest)
    submission, credential = body.to_submission(
        api=api, version=version, https_only=platform.settings.environment == "production"
    )
    row = await platform.initiator.submit(submission, app_id=grant.app_id, credential=credential)
    reply = InitiatorAck(
        ConversationID=row.conversation_id,
        OriginatorConversationID=row.originator_conversation_id,
        ResponseCode="0",
        ResponseDescription="Accept the service request successfully.",
    )
    return 200, _encoder.encode(reply)


async def b2c_v1(platform: Platform, request: FastRequest) -> tuple[int, bytes]:
    return await _initiator_call(platform, request, api="b2c", version="v1")


async def b2c_v3(platform: Platform, request: FastRequest) -> tuple[int, bytes]:
    return await _initiator_call(platform, request, api="b2c", version="v3")


async def b2pochi(platform: Platform, request: FastRequest) -> tuple[int, bytes]:
    return await _initiator_call(platform, request, api="b2pochi", version="v3")


async def reversal(platform: Platform, request: FastRequest) -> tuple[int, bytes]:
    # Reversal's token errors are the STK family's (§18: 404.001.03), not B2C's.
    grant = await platform.tokens.authorize(
        request.header(b"authorization"), product=Product.REVERSAL, invalid_token=InvalidAccessToken
    )
    body = decode_bytes(request.content_type, request.body, ReversalRequest)
    submission, credential = body.to_submission(
        https_only=platform.settings.environment == "production"
    )
    row = await platform.initiator.submit(submission, app_id=grant.app_id, credential=credential)
    reply = InitiatorAck(
        ConversationID=row.conversation_id,
        OriginatorConversationID=row.originator_conversation_id,
        ResponseCode="0",
        ResponseDescription="Accept the service request successfully.",
    )
    return 200, _encoder.encode(reply)


async def _b2b_call(platform: Platform, request: FastRequest, *, api: str) -> tuple[int, bytes]:
    # §18 names no B2B token error; B2B's is its sibling B2C's (401.002.01).
    grant = await platform.tokens.authorize(
        request.header(b"authorization"), product=Product.B2B, invalid_token=B2cInvalidAccessToken
    )
    body = decode_bytes(request.content_type, request.body, B2bRequest)
    submission, credential = body.to_submission(
        api=api, https_only=platform.settings.environment == "production"
    )
    row = await platform.initiator.submit(submission, app_id=grant.app_id, credential=credential)
    reply = InitiatorAck(
        ConversationID=row.conversation_id,
        OriginatorConversationID=row.originator_conversation_id,
        ResponseCode="0",
        ResponseDescription="Accept the service request successfully.",
    )
    return 200, _encoder.encode(reply)


async def b2b_payment(platform: Platform, request: FastRequest) -> tuple[int, bytes]:
    return await _b2b_call(platform, request, api="b2b")


async def tax_remittance(platform: Platform, request: FastRequest) -> tuple[int, bytes]:
    return await _b2b_call(platform, request, api="tax")


async def _acknowledge(
    platform: Platform, submission: Submission, *, app_id: int, credential: str
) -> tuple[int, bytes]:
    row = await platform.initiator.submit(submission, app_id=app_id, credential=credential)
    reply = InitiatorAck(
        ConversationID=row.conversation_id,
        OriginatorConversationID=row.originator_conversation_id,
        ResponseCode="0",
        ResponseDescription="Accept the service request successfully.",
    )
    return 200, _encoder.encode(reply)


async def _query_call(
    platform: Platform,
    request: FastRequest,
    *,
    product: Product,
    invalid_token: type[PesaError],
    struct: type[AccountBalanceRequest] | type[TransactionStatusRequest],
) -> tuple[int, bytes]:
    grant = await platform.tokens.authorize(
        request.header(b"authorization"), product=product, invalid_token=invalid_token
    )
    body = decode_bytes(request.content_type, request.body, struct)
    submission, credential = body.to_submission(
        https_only=platform.settings.environment == "production"
    )
    return await _acknowledge(platform, submission, app_id=grant.app_id, credential=credential)


async def account_balance(platform: Platform, request: FastRequest) -> tuple[int, bytes]:
    # Account Balance's token errors are B2C's (§18: 401.002.01).
    return await _query_call(
        platform, request, product=Product.ACCOUNT_BALANCE,
        invalid_token=B2cInvalidAccessToken, struct=AccountBalanceRequest,
    )  # fmt: skip


async def transaction_status(platform: Platform, request: FastRequest) -> tuple[int, bytes]:
    # Transaction Status shares C2B's gateway codes (§18: 400.003.01, 400.003.02).
    return await _query_call(
        platform, request, product=Product.TRANSACTION_STATUS,
        invalid_token=C2bInvalidAccessToken, struct=TransactionStatusRequest,
    )  # fmt: skip


async def register_url_v1(platform: Platform, request: FastRequest) -> tuple[int, bytes]:
    return await _register_url(platform, request, "v1")


async def register_url_v2(platform: Platform, request: FastRequest) -> tuple[int, bytes]:
    return await _register_url(platform, request, "v2")


async def simulate_v1(platform: Platform, request: FastRequest) -> tuple[int, bytes]:
    return await _simulate(platform, request, "v1")


async def simulate_v2(platform: Platform, request: FastRequest) -> tuple[int, bytes]:
    return await _simulate(platform, request, "v2")


ENDPOINTS: dict[str, Endpoint] = {
    "/mpesa/stkpush/v1/processrequest": stk_push,
    "/mpesa/stkpushquery/v1/query": stk_query,
    "/mpesa/c2b/v1/registerurl": register_url_v1,
    "/mpesa/c2b/v2/registerurl": register_url_v2,
    "/mpesa/c2b/v1/simulate": simulate_v1,
    "/mpesa/c2b/v2/simulate": simulate_v2,
    "/mpesa/b2c/v1/paymentrequest": b2c_v1,
    "/mpesa/b2c/v3/paymentrequest": b2c_v3,
    "/mpesa/b2pochi/v1/paymentrequest": b2pochi,
    "/mpesa/accountbalance/v1/query": account_balance,
    "/mpesa/transactionstatus/v1/query": transaction_status,
    "/mpesa/b2b/v1/paymentrequest": b2b_payment,
    "/mpesa/b2b/v1/remittax": tax_remittance,
    "/mpesa/reversal/v1/request": reversal,
}


def _first_of_each(raw: list[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    """The headers by lowercased name, the first of a repeated one winning: as Litestar reads
    them, and as production's transport check reads Authorization (which refuses a repeat)."""
    headers: dict[bytes, bytes] = {}
    for name, value in raw:
        headers.setdefault(name.lower(), value)
    return headers


class FastPaths:
    """ASGI middleware: serves `ENDPOINTS` itself and passes everything else on."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        platform: Platform,
        max_body_bytes: int,
        recorder: RequestRecorder | None = None,
    ) -> None:
        self._app = app
        self._platform = platform
        self._max_body_bytes = max_body_bytes
        # The inspector's request log (None when PESABOX_INSPECTOR_RECORD is off).
        self._recorder = recorder
        # Production's https and client-certificate rules (api/transport.py); the sandbox
        # has none, and pays one `is None` per request for it.
        self._transport = (
            ProductionTransport(platform.tokens)
            if platform.settings.environment == "production"
            else None
        )

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self._transport is not None and scope["type"] == "http":
            try:
                await self._transport.admit(scope)
            except PesaError as error:
                await self._refuse(error, scope, send)
                return
        endpoint = ENDPOINTS.get(scope.get("path", "")) if scope["type"] == "http" else None
        if endpoint is None:
            if self._recorder is not None:
                await self._recorder.serve(self._app, scope, receive, send)
            else:
                await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status, payload, body = await self._respond(endpoint, scope, receive)
        await send({"type": "http.response.start", "status": status, "headers": _JSON_HEADERS})
        await send({"type": "http.response.body", "body": payload})
        if self._recorder is not None:
            self._recorder.record(
                scope, started=started, status=status, request_body=body, response_body=payload
            )

    async def _refuse(self, error: PesaError, scope: dict[str, Any], send: Any) -> None:
        started = time.perf_counter()
        status, payload = error_reply(error, method=scope["method"], path=scope["path"])
        await send({"type": "http.response.start", "status": status, "headers": _JSON_HEADERS})
        await send({"type": "http.response.body", "body": payload})
        if self._recorder is not None:
            self._recorder.record(
                scope, started=started, status=status, request_body=b"", response_body=payload
            )

    async def _respond(
        self, endpoint: Endpoint, scope: dict[str, Any], receive: Any
    ) -> tuple[int, bytes, bytes]:
        """The status and reply, and the body read (empty when it could not be read)."""
        body = b""
        try:
            if scope["method"] != "POST":
                raise MethodNotAllowed(scope["method"])
            body = await self._read_body(receive)
            headers = _first_of_each(scope["headers"])
            status, payload = await endpoint(self._platform, FastRequest(headers, body))
        except PesaError as error:
            status, payload = error_reply(error, method=scope["method"], path=scope["path"])
        except Exception as error:  # a bug: answer in Daraja's shape, log with the request id
            status, payload = error_reply(PesaError(), method=scope["method"],
                                          path=scope["path"], unexpected=error)  # fmt: skip
        return status, payload, body

    async def _read_body(self, receive: Any) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise InvalidPayload()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._max_body_bytes:
                raise InvalidPayload()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
