"""One delivery attempt: POST a stored JSON payload and sort the result into one outcome.

Every attempt ends in exactly one of three outcomes:

- `delivered`: the receiver answered 2xx.
- `retry`: the failure may be temporary (connection error, timeout, 5xx, 408, 429).
- `give_up`: sending the same bytes again cannot help (any other status, a malformed URL), or
  the callback has used all its attempts.

Nothing here touches the database; the worker records what `CallbackSender.post` returns.

Over https the sender presents a client certificate when it is given a TLS context that holds
one: the platform hands it the broker certificate of its environment (`testbroker` or
`prodbroker`), so a business's listener that requires mutual TLS can tell pesabox from anyone
else. A refused handshake is a connection error like any other: retried, never lost.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import aiohttp

log = logging.getLogger(__name__)

Outcome = Literal["delivered", "retry", "give_up"]
DELIVERED: Outcome = "delivered"
RETRY: Outcome = "retry"
GIVE_UP: Outcome = "give_up"

# The attempt row keeps this much of the receiver's reply: enough to show an error page's
# first lines in the inspector, too little to store whatever a receiver chooses to send.
EXCERPT_CHARS_MAX = 512
# Timeouts and rate limiting are the two 4xx answers that say "try again later".
_RETRYABLE_CLIENT_STATUS_CODES = frozenset({408, 429})
_JSON_HEADERS = {"Content-Type": "application/json"}
# A URL that cannot be parsed, or names a scheme other than http(s), never starts working.
_BAD_URL_ERRORS = (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError, ValueError)

SIMULATED_FAILURE_ERROR = "scenario: simulated delivery failure"


@dataclass(frozen=True, slots=True)
class HttpAttempt:
    """What one POST (or one simulated failure) produced, before attempt limits apply."""

    status_code: int | None
    latency_ms: float
    response_excerpt: str | None
    error: str | None
    outcome: Outcome


def rewrite_url(url: str, rules: Sequence[tuple[str, str]]) -> str:
    """Apply the first rule whose prefix matches `url`; without a match, `url` is unchanged."""
    for prefix, replacement in rules:
        if prefix and url.startswith(prefix):
            return replacement + url[len(prefix) :]
    return url


def classify_status(status_code: int) -> Outcome:
    if 200 <= status_code < 300:
        return DELIVERED
    if status_code >= 500 or status_code in _RETRYABLE_CLIENT_STATUS_CODES:
        return RETRY
    # Redirects are not followed (a callback must not turn into a GET elsewhere), and any
    # other 4xx means the receiver rejects this payload: neither gets better by repeating.
    return GIVE_UP


def settle_outcome(outcome: Outcome, *, attempt: int, max_attempts: int) -> Outcome:
    """The recorded outcome: a retry on the last allowed attempt becomes give_up."""
    if outcome == RETRY and attempt >= max_attempts:
        return GIVE_UP
    return outcome


def simulated_failure(attempt: int, fail_first: int) -> HttpAttempt:
    """A failure the platform reports itself, without a POST ("callback fails N times")."""
    return HttpAttempt(
        status_code=None,
        latency_ms=0.0,
        response_excerpt=None,
        error=f"{SIMULATED_FAILURE_ERROR} ({attempt} of {fail_first})",
        outcome=RETRY,
    )


class CallbackSender:
    """Owns one pooled aiohttp session; `open` and `close` it from the event loop.

    `tls` is the context for https URLs (the certificate to present and the CAs to trust);
    None keeps aiohttp's default: the system's CAs and no client certificate. Plain http URLs
    never use it.
    """

    def __init__(
        self,
        *,
        timeout_s: float,
        connection_limit: int,
        reply_chars_max: int = EXCERPT_CHARS_MAX,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._timeout_s = timeout_s
        self._tls = tls
        # How much of each reply is read and returned: an excerpt for the inspector, or (C2B
        # validation) the whole answer the platform must act on.
        self._reply_chars_max = reply_chars_max
        self._connection_limit = max(1, connection_limit)
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        if self._session is not None:
            return
        connector = aiohttp.TCPConnector(
            limit=self._connection_limit,
            ttl_dns_cache=300,
            # True is aiohttp's own default: verify against the system's CAs.
            ssl=self._tls if self._tls is not None else True,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self._timeout_s),
            headers=_JSON_HEADERS,
            # Receivers are unrelated parties: none may see a cookie another one set.
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(self, url: str, payload: str) -> HttpAttempt:
        if self._session is None:
            raise RuntimeError("CallbackSender.post called before open()")
        started = time.perf_counter()
        try:
            status_code, excerpt = await self._exchange(
                self._session, url, payload, self._reply_chars_max
            )
        except TimeoutError:
            return _failed(started, f"timeout after {self._timeout_s:g} s", RETRY)
        except aiohttp.ClientSSLError as error:
            # Before the URL errors: a certificate that fails verification is also a
            # ValueError, yet the business may renew it, so it is worth trying again.
            return _failed(started, _describe(error), RETRY)
        except _BAD_URL_ERRORS as error:
            return _failed(started, f"invalid callback URL: {error}", GIVE_UP)
        except (aiohttp.ClientError, OSError) as error:
            return _failed(started, _describe(error), RETRY)
        except Exception as error:  # recorded as an attempt, so a bug cannot loop silently
            log.exception("unexpected error posting a callback to %s", url)
            return _failed(started, _describe(error), RETRY)
        outcome = classify_status(status_code)
        return HttpAttempt(
            status_code=status_code,
            latency_ms=_elapsed_ms(started),
            response_excerpt=excerpt,
            error=None if outcome == DELIVERED else f"HTTP {status_code}",
            outcome=outcome,
        )

    @staticmethod
    async def _exchange(
        session: aiohttp.ClientSession, url: str, payload: str, chars_max: int
    ) -> tuple[int, str]:
        async with session.post(url, data=payload.encode(), allow_redirects=False) as response:
            excerpt = await _read_excerpt(response, chars_max)
            return response.status, excerpt


async def _read_excerpt(response: aiohttp.ClientResponse, chars_max: int) -> str:
    # Read a bounded prefix instead of the whole body: a receiver decides how much it sends.
    # A UTF-8 character is at most 4 bytes, so this many bytes always holds `chars_max`.
    bytes_max = 4 * chars_max
    body = bytearray()
    content = response.content
    while len(body) < bytes_max and not content.at_eof():
        chunk = await content.read(bytes_max - len(body))
        if not chunk:
            break
        body += chunk
    return body.decode("utf-8", errors="replace")[:chars_max]


def _failed(started: float, error: str, outcome: Outcome) -> HttpAttempt:
    return HttpAttempt(
        status_code=None,
        latency_ms=_elapsed_ms(started),
        response_excerpt=None,
        error=error,
        outcome=outcome,
    )


def _describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
