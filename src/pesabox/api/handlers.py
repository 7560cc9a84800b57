"""Every error leaves the gateway here, in Daraja's envelope, never as a traceback."""

from __future__ import annotations

import logging

import msgspec
from litestar import MediaType, Response
from litestar.exceptions import HTTPException

from pesabox.api.routes.common import AnyRequest
from pesabox.api.schemas.common import ErrorEnvelope
from pesabox.errors import InvalidPayload, MethodNotAllowed, PesaError, ResourceNotFound
from pesabox.ids import request_id

log = logging.getLogger("pesabox.api")


_encoder = msgspec.json.Encoder()


def _body(error: PesaError) -> ErrorEnvelope:
    return ErrorEnvelope(
        requestId=error.request_id or request_id(),
        errorCode=error.error_code,
        errorMessage=error.error_message,
    )


def _envelope(error: PesaError) -> Response[ErrorEnvelope]:
    return Response(_body(error), status_code=error.http_status, media_type=MediaType.JSON)


def error_reply(
    error: PesaError, *, method: str, path: str, unexpected: Exception | None = None
) -> tuple[int, bytes]:
    """The status and encoded envelope for an error, logged with its request id."""
    body = _body(error)
    if unexpected is not None:
        log.error("unhandled error on %s %s (requestId %s)", method, path, body.requestId,
                  exc_info=unexpected)  # fmt: skip
    else:
        log.info("%s %s -> %s %s (requestId %s)", method, path, error.http_status,
                 error.error_code, body.requestId)  # fmt: skip
    return error.http_status, _encoder.encode(body)


def pesa_error_handler(request: AnyRequest, error: PesaError) -> Response[ErrorEnvelope]:
    response = _envelope(error)
    log.info(
        "%s %s -> %s %s (requestId %s)",
        request.method,
        request.url.path,
        error.http_status,
        error.error_code,
        response.content.requestId,
    )
    return response


def http_error_handler(request: AnyRequest, error: HTTPException) -> Response[ErrorEnvelope]:
    """The framework's own refusals (unknown path, wrong method, bad body) in Daraja's shape."""
    if error.status_code == 404:
        return _envelope(ResourceNotFound())
    if error.status_code == 405:
        return _envelope(MethodNotAllowed(request.method))
    if error.status_code in (400, 413, 415, 422):
        return _envelope(InvalidPayload())
    return _envelope(
        PesaError(
            error.detail or "Error",
            error_code=f"{error.status_code}.000.00",
            http_status=error.status_code,
        )
    )


def unexpected_error_handler(request: AnyRequest, error: Exception) -> Response[ErrorEnvelope]:
    response = _envelope(PesaError())
    log.error(
        "unhandled error on %s %s (requestId %s)",
        request.method,
        request.url.path,
        response.content.requestId,
        exc_info=error,
    )
    return response
