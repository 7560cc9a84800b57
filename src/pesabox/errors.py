"""The one exception tree for requests that fail before reaching M-Pesa's core.

    PesaError                       http_status, error_code, error_message
    ├── BadRequest                  400.002.02 "Bad Request - Invalid <Field>"
    ├── InvalidPayload              400.002.05 "Invalid Request Payload"
    ├── InvalidAuthentication       400.008.01 OAuth: Basic credentials missing or wrong
    ├── InvalidGrantType            400.008.02 OAuth: grant_type is not client_credentials
    ├── InvalidAccessToken          per API: 404.001.03 / 401.002.01 / 400.003.01
    ├── InvalidAuthenticationHeader 404.001.04 no `Authorization: Bearer …` header
    ├── NoProductMatch              401.003.01 the app lacks the API's product
    ├── ResourceNotFound            404.001.01 unknown path
    ├── MethodNotAllowed            405.001    "<METHOD> Method Not Allowed"
    ├── MerchantError               500.001.1001 merchant missing, wrong password, locked subscriber
    └── TransportRefused            403.009.0x   production: plain http, no or another org's
                                                 client certificate (docs/reference/transport.md)

Business failures (insufficient funds, a cancelled prompt) are not exceptions: they are
result codes delivered in callbacks (`pesabox.domain.result_codes`).
"""

from __future__ import annotations


class PesaError(Exception):
    http_status: int = 500
    error_code: str = "500.003.1001"
    error_message: str = "Internal Server Error"

    def __init__(
        self,
        error_message: str | None = None,
        *,
        error_code: str | None = None,
        http_status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        if error_message is not None:
            self.error_message = error_message
        if error_code is not None:
            self.error_code = error_code
        if http_status is not None:
            self.http_status = http_status
        # Some errors answer with a meaningful requestId (the STK query's CheckoutRequestID).
        self.request_id = request_id
        super().__init__(f"{self.error_code} {self.error_message}")


class BadRequest(PesaError):
    http_status = 400
    error_code = "400.002.02"

    def __init__(self, field: str) -> None:
        super().__init__(f"Bad Request - Invalid {field}")
        self.field = field


class InvalidPayload(PesaError):
    http_status = 400
    error_code = "400.002.05"
    error_message = "Invalid Request Payload"


class InvalidAuthentication(PesaError):
    http_status = 400
    error_code = "400.008.01"
    error_message = "Invalid Authentication passed"


class InvalidGrantType(PesaError):
    http_status = 400
    error_code = "400.008.02"
    error_message = "Invalid grant type passed"


class InvalidAccessToken(PesaError):
    http_status = 404
    error_code = "404.001.03"
    error_message = "Invalid Access Token"


class InvalidAuthenticationHeader(PesaError):
    http_status = 404
    error_code = "404.001.04"
    error_message = "Invalid Authentication Header"


class NoProductMatch(PesaError):
    http_status = 401
    error_code = "401.003.01"
    error_message = (
        "Error Occurred - Invalid Access Token - Invalid API call as no apiproduct match found"
    )


class ResourceNotFound(PesaError):
    http_status = 404
    error_code = "404.001.01"
    error_message = "Resource not found"


class MethodNotAllowed(PesaError):
    http_status = 405
    error_code = "405.001"

    def __init__(self, method: str) -> None:
        super().__init__(f"{method} Method Not Allowed")


class MerchantError(PesaError):
    http_status = 500
    error_code = "500.001.1001"


MERCHANT_DOES_NOT_EXIST = "Merchant does not exist"
WRONG_CREDENTIALS = "[MerchantValidate] - Wrong credentials"
UNABLE_TO_LOCK_SUBSCRIBER = (
    "Unable to lock subscriber, a transaction is already in process for the current subscriber"
)
TRANSACTION_BEING_PROCESSED = "The transaction is being processed"


class SandboxError(PesaError):
    """A bad call to the sandbox control API (pesabox's own, not Daraja's)."""

    http_status = 400
    error_code = "400.002.02"


# --- C2B (daraja-api.md §5, §18): the C2B family has its own codes -------------------------


class C2bBadRequest(PesaError):
    """`400.003.02`: a C2B field is missing or wrong; `detail` says why when it helps."""

    http_status = 400
    error_code = "400.003.02"

    def __init__(self, field: str, detail: str | None = None) -> None:
        message = f"Bad Request - Invalid {field}"
        super().__init__(f"{message} - {detail}" if detail else message)
        self.field = field


class C2bInvalidAccessToken(PesaError):
    http_status = 400
    error_code = "400.003.01"
    error_message = "Invalid Access Token"


class C2bResourceNotFound(PesaError):
    http_status = 404
    error_code = "404.003.01"
    error_message = "Resource not found"


class UrlsAlreadyRegistered(PesaError):
    """Production allows one registration per shortcode (sandbox allows overwriting)."""

    http_status = 500
    error_code = "500.003.1001"
    error_message = "Urls are already registered."


# --- initiator APIs (B2C, balance, ...: daraja-api.md §6.5, §18) ---------------------------


class B2cInvalidAccessToken(PesaError):
    http_status = 401
    error_code = "401.002.01"
    error_message = "Error Occurred - Invalid Access Token"


# --- transport (issue 6): production's https and mutual-TLS rules ---------------------------
# Daraja documents no code for these (its production gateway refuses at the TLS layer), so
# they take 403 and a family of their own, 403.009.x; docs/reference/transport.md lists them.


class TransportRefused(PesaError):
    http_status = 403


class HttpsRequired(TransportRefused):
    error_code = "403.009.01"
    error_message = "HTTPS is required"


class ClientCertificateRequired(TransportRefused):
    error_code = "403.009.02"
    error_message = "Client certificate required"


class CertificateOrganisationMismatch(TransportRefused):
    error_code = "403.009.03"
    error_message = "Client certificate does not belong to this organisation"


class AppWithoutOrganisation(TransportRefused):
    error_code = "403.009.04"
    error_message = "The app does not belong to an organisation"
