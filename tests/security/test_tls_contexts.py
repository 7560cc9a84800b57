"""Real TLS handshakes on loopback sockets between contexts built from the platform CA.

The server side runs in a thread; each side records what it saw. Under TLS 1.3 a client
finishes its handshake before the server has judged the client's certificate, so a refusal
shows on the client at its first read, and always on the server's handshake.
"""

from __future__ import annotations

import os
import socket
import ssl
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from pesabox.security.csr_policy import client_identity
from pesabox.security.tls_contexts import callback_client_context, client_context, server_context
from tests.security.pki_helpers import Authority, client_certificate, new_authority

NOW = time.time()
_TIMEOUT_S = 10.0


@dataclass
class Outcome:
    server_error: BaseException | None = None
    client_error: BaseException | None = None
    peer_der: bytes | None = None
    peer: dict[str, object] | None = None
    reply: bytes = b""


def _converse(
    server: ssl.SSLContext, client: ssl.SSLContext, *, server_hostname: str = "localhost"
) -> Outcome:
    outcome = Outcome()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(_TIMEOUT_S)
        port = listener.getsockname()[1]

        def serve() -> None:
            try:
                connection, _ = listener.accept()
                connection.settimeout(_TIMEOUT_S)
                with server.wrap_socket(connection, server_side=True) as tls:
                    outcome.peer_der = tls.getpeercert(binary_form=True)
                    outcome.peer = tls.getpeercert()  # type: ignore[assignment]
                    tls.sendall(b"ok")
            except (OSError, ssl.SSLError) as error:
                outcome.server_error = error

        thread = threading.Thread(target=serve)
        thread.start()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=_TIMEOUT_S) as raw:
                with client.wrap_socket(raw, server_hostname=server_hostname) as tls:
                    outcome.reply = tls.recv(2)
        except (OSError, ssl.SSLError) as error:
            outcome.client_error = error
        thread.join()
    return outcome


@pytest.fixture(scope="module")
def authority() -> Authority:
    return new_authority(now=NOW)


@pytest.fixture(scope="module")
def mutual_server(authority: Authority) -> ssl.SSLContext:
    """The production mutual-TLS listener's context."""
    return server_context(authority.broker("prodbroker"), client_ca_pem=authority.chain_pem)


def _client(authority: Authority, certificate: tuple[str, str] | None = None) -> ssl.SSLContext:
    if certificate is None:
        return client_context(ca_pem=authority.root.cert_pem)
    cert_pem, key_pem = certificate
    return client_context(ca_pem=authority.root.cert_pem, cert_pem=cert_pem, key_pem=key_pem)


def test_server_context_accepts_a_client_certificate_from_the_platform_ca(
    authority: Authority, mutual_server: ssl.SSLContext
) -> None:
    certificate = client_certificate(authority, organisation_id=42, now=NOW)
    outcome = _converse(mutual_server, _client(authority, certificate))
    assert (outcome.server_error, outcome.client_error, outcome.reply) == (None, None, b"ok")
    assert outcome.peer is not None
    subject = [pair for entry in outcome.peer["subject"] for pair in entry]  # type: ignore[attr-defined]
    assert ("organizationIdentifier", "PBX-ORG-42") in subject
    assert ("organizationName", "Acme Traders Ltd") in subject
    assert outcome.peer_der is not None
    identity = client_identity(outcome.peer_der)
    assert identity is not None and identity.organisation_id == 42


def test_server_context_lets_a_client_without_certificate_reach_the_app(
    authority: Authority, mutual_server: ssl.SSLContext
) -> None:
    outcome = _converse(mutual_server, _client(authority))
    assert (outcome.server_error, outcome.client_error, outcome.reply) == (None, None, b"ok")
    assert outcome.peer_der is None


def test_server_context_refuses_a_certificate_from_another_ca(
    authority: Authority, mutual_server: ssl.SSLContext
) -> None:
    stranger = new_authority(now=NOW)
    outcome = _converse(mutual_server, _client(authority, client_certificate(stranger, now=NOW)))
    assert isinstance(outcome.server_error, ssl.SSLError)
    assert "certificate verify failed" in str(outcome.server_error)
    assert outcome.client_error is not None
    assert outcome.reply == b""


def test_server_context_refuses_an_expired_client_certificate(
    authority: Authority, mutual_server: ssl.SSLContext
) -> None:
    expired = client_certificate(authority, now=NOW - 60 * 86_400, validity_days=30)
    outcome = _converse(mutual_server, _client(authority, expired))
    assert isinstance(outcome.server_error, ssl.SSLError)
    assert "certificate has expired" in str(outcome.server_error)
    assert outcome.client_error is not None


def test_server_context_without_client_ca_asks_for_no_certificate(authority: Authority) -> None:
    one_way = server_context(authority.broker("testbroker"), client_ca_pem=None)
    certificate = client_certificate(authority, now=NOW)
    outcome = _converse(one_way, _client(authority, certificate), server_hostname="127.0.0.1")
    assert (outcome.server_error, outcome.client_error, outcome.reply) == (None, None, b"ok")
    assert outcome.peer_der is None


def test_client_context_refuses_a_broker_under_another_name(
    authority: Authority, mutual_server: ssl.SSLContext
) -> None:
    outcome = _converse(mutual_server, _client(authority), server_hostname="elsewhere.example")
    assert isinstance(outcome.client_error, ssl.SSLCertVerificationError)


def test_callback_client_context_presents_the_broker_to_a_receiver_requiring_one(
    authority: Authority,
) -> None:
    # A business's callback receiver: its server certificate is one the platform CA signed
    # (client certificates carry serverAuth too), and it requires a platform-CA client cert.
    receiver = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert_pem, key_pem = client_certificate(authority, now=NOW)
    with tempfile.TemporaryDirectory() as directory:
        chain, key = Path(directory, "chain.pem"), Path(directory, "key.pem")
        chain.write_text(cert_pem + authority.intermediate.cert_pem)
        key.write_text(key_pem)
        receiver.load_cert_chain(chain, key)
    receiver.load_verify_locations(cadata=authority.chain_pem)
    receiver.verify_mode = ssl.CERT_REQUIRED
    sender = callback_client_context(
        authority.broker("testbroker"), extra_ca_pem=authority.root.cert_pem
    )
    outcome = _converse(receiver, sender)
    assert (outcome.server_error, outcome.client_error, outcome.reply) == (None, None, b"ok")
    assert outcome.peer is not None
    subject = [pair for entry in outcome.peer["subject"] for pair in entry]  # type: ignore[attr-defined]
    assert ("commonName", "testbroker.pesabox.local") in subject


def test_callback_client_context_without_extra_ca_does_not_trust_the_platform_ca(
    authority: Authority, mutual_server: ssl.SSLContext
) -> None:
    sender = callback_client_context(authority.broker("testbroker"), extra_ca_pem=None)
    outcome = _converse(mutual_server, sender)
    assert isinstance(outcome.client_error, ssl.SSLCertVerificationError)


def test_contexts_leave_no_key_file_behind(
    authority: Authority, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    server_context(authority.broker("testbroker"), client_ca_pem=authority.chain_pem)
    callback_client_context(authority.broker("prodbroker"), extra_ca_pem=None)
    client_context(
        ca_pem=authority.root.cert_pem,
        cert_pem=authority.brokers["testbroker"].cert_pem,
        key_pem=authority.brokers["testbroker"].key_pem,
    )
    assert os.listdir(tmp_path) == []


def test_client_context_wants_certificate_and_key_together(authority: Authority) -> None:
    with pytest.raises(ValueError, match="both"):
        client_context(ca_pem=authority.root.cert_pem, cert_pem=authority.root.cert_pem)


def test_server_context_refuses_tls_1_1(
    authority: Authority, mutual_server: ssl.SSLContext
) -> None:
    old_client = _client(authority)
    # Security level 0 lets this OpenSSL speak TLS 1.1 at all, so the refusal is the server's.
    old_client.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # that is the point of the test
        old_client.minimum_version = ssl.TLSVersion.TLSv1_1
        old_client.maximum_version = ssl.TLSVersion.TLSv1_1
    outcome = _converse(mutual_server, old_client)
    assert isinstance(outcome.server_error, ssl.SSLError)
    assert "unsupported protocol" in str(outcome.server_error)
