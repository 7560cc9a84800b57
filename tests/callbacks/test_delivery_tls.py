"""https callbacks: the sender presents the certificate its TLS context holds, to a real
mutual-TLS receiver on loopback; a refused handshake is a retry, never a loss."""

from __future__ import annotations

import ssl

from pesabox.callbacks.delivery import CallbackSender, HttpAttempt
from tests.pki_support import ThrowawayCA, client_context, listener_context
from tests.tls_receiver import running_tls_receiver


async def _post_once(tls: ssl.SSLContext, url: str, payload: str = "{}") -> HttpAttempt:
    sender = CallbackSender(timeout_s=5, connection_limit=2, tls=tls)
    await sender.open()
    try:
        return await sender.post(url, payload)
    finally:
        await sender.close()


async def test_sender_presents_its_client_certificate() -> None:
    authority = ThrowawayCA("callers and receivers CA")
    server = listener_context(authority.issue("receiver"), client_ca_pem=authority.certificate_pem)
    tls = client_context(
        trusted_pem=authority.certificate_pem,
        presented=authority.issue("broker"),
    )
    async with running_tls_receiver(server) as receiver:
        attempt = await _post_once(tls, receiver.url("/cb"), '{"a": 1}')
    assert (attempt.outcome, attempt.status_code) == ("delivered", 200)
    [received] = receiver.received
    assert (received.path, received.body, received.peer_common_name) == (
        "/cb",
        '{"a": 1}',
        "broker",
    )


async def test_sender_refused_by_a_receiver_of_another_ca_retries() -> None:
    ours = ThrowawayCA("our CA")
    theirs = ThrowawayCA("their CA")
    # The receiver's certificate is trusted, but it only takes clients of its own CA.
    server = listener_context(ours.issue("receiver"), client_ca_pem=theirs.certificate_pem)
    tls = client_context(trusted_pem=ours.certificate_pem, presented=ours.issue("broker"))
    async with running_tls_receiver(server) as receiver:
        attempt = await _post_once(tls, receiver.url("/cb"), "{}")
    assert (attempt.outcome, attempt.status_code) == ("retry", None)
    assert attempt.error
    assert receiver.received == []


async def test_sender_without_certificate_is_refused_by_mutual_tls() -> None:
    authority = ThrowawayCA("receivers CA")
    server = listener_context(authority.issue("receiver"), client_ca_pem=authority.certificate_pem)
    tls = client_context(trusted_pem=authority.certificate_pem, presented=None)
    async with running_tls_receiver(server) as receiver:
        attempt = await _post_once(tls, receiver.url("/cb"), "{}")
    assert attempt.outcome == "retry"
    assert receiver.received == []


async def test_sender_does_not_trust_an_unknown_server() -> None:
    stranger = ThrowawayCA("stranger CA")
    ours = ThrowawayCA("our CA")
    server = listener_context(stranger.issue("receiver"), client_ca_pem=None)
    tls = client_context(trusted_pem=ours.certificate_pem, presented=ours.issue("broker"))
    async with running_tls_receiver(server) as receiver:
        attempt = await _post_once(tls, receiver.url("/cb"), "{}")
    assert attempt.outcome == "retry"
    assert attempt.error is not None and "certificate" in attempt.error.lower()
    assert receiver.received == []
