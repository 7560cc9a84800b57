"""What TLS costs a kept-alive connection on uvloop, apart from pesabox:
`python -m bench.tls_cost [--exchanges N] [--connections C]`.

Phase G's servers (uvicorn on uvloop) and the load generator carry every request and response
through uvloop's TLS transport instead of its plain one. This measures that difference alone:
a server process that answers each fixed-size request with a fixed-size response (the sizes
of an STK push and its answer), and a client process keeping `connections` connections busy,
once over plain TCP and once over TLS (TLS 1.3, an EC P-256 certificate made here; the
handshakes happen before the timed part). It prints the CPU each side used per exchange, from
/proc, and the difference: the server's TLS price per request, to hold against the `srv µs/op`
of phases C and G.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import ipaddress
import multiprocessing
import os
import ssl
import sys
import tempfile
import time
from pathlib import Path
from typing import cast

import uvloop
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bench.loadgen import tree_cpu_s

# About what phase C sends and gets back: an STK push with its headers, and its answer.
REQUEST_BYTES = 700
RESPONSE_BYTES = 330


def make_certificate(directory: Path) -> tuple[str, str]:
    """A self-signed EC certificate for 127.0.0.1; (cert file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tls-cost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


class Answering(asyncio.Protocol):
    """Answers every REQUEST_BYTES received with RESPONSE_BYTES."""

    response = b"r" * RESPONSE_BYTES

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.pending = 0

    def data_received(self, data: bytes) -> None:
        self.pending += len(data)
        while self.pending >= REQUEST_BYTES:
            self.pending -= REQUEST_BYTES
            self.transport.write(self.response)


def serve(port_out: multiprocessing.connection.Connection, tls: tuple[str, str] | None) -> None:
    async def main() -> None:
        context = None
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
        server = await asyncio.get_running_loop().create_server(
            Answering, "127.0.0.1", 0, ssl=context
        )
        port_out.send(server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    uvloop.run(main())


class Asking(asyncio.Protocol):
    def __init__(self) -> None:
        self.received = 0
        self.waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        if self.received >= RESPONSE_BYTES and self.waiter is not None:
            self.received -= RESPONSE_BYTES
            self.waiter.set_result(None)

    async def exchange(self, request: bytes) -> None:
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        await self.waiter


async def drive(port: int, context: ssl.SSLContext | None, connections: int, each: int) -> float:
    """Connect (handshakes included) and warm up, then time `each` exchanges per connection;
    returns the wall seconds of the timed part."""
    loop = asyncio.get_running_loop()
    opened = [
        (
            await loop.create_connection(
                Asking,
                "127.0.0.1",
                port,
                ssl=context,
                server_hostname="127.0.0.1" if context else None,
            )  # fmt: skip
        )[1]
        for _ in range(connections)
    ]
    request = b"q" * REQUEST_BYTES

    async def loop_on(conn: Asking, count: int) -> None:
        for _ in range(count):
            await conn.exchange(request)

    await asyncio.gather(*(loop_on(conn, 50) for conn in opened))
    started = time.monotonic()
    await asyncio.gather(*(loop_on(conn, each) for conn in opened))
    wall = time.monotonic() - started
    for conn in opened:
        conn.transport.close()
    # Let the transports finish closing before the loop does.
    await asyncio.sleep(0.05)
    return wall


def measure(tls: tuple[str, str] | None, connections: int, exchanges: int) -> dict[str, float]:
    receive, send = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(send, tls))
    server.start()
    try:
        port = receive.recv()
        context = None
        if tls is not None:
            context = ssl.create_default_context(cafile=tls[0])
        each = exchanges // connections
        before_server, before_client = tree_cpu_s(server.pid or 0), _self_cpu()
        wall = uvloop.run(drive(port, context, connections, each))
        server_cpu = tree_cpu_s(server.pid or 0) - before_server
        client_cpu = _self_cpu() - before_client
    finally:
        server.terminate()
        server.join()
    done = each * connections
    return {
        "exchanges": done,
        "wall_s": round(wall, 3),
        # Both include the warm-up's exchanges and handshakes; 50 per connection, a few %.
        "server_us": round(server_cpu / done * 1e6, 1),
        "client_us": round(client_cpu / done * 1e6, 1),
    }


def _self_cpu() -> float:
    times = os.times()
    return times.user + times.system


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--exchanges", type=int, default=200_000)
    parser.add_argument("--connections", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        tls = make_certificate(Path(directory))
        rows: dict[str, list[dict[str, float]]] = {"plain": [], "tls": []}
        for _ in range(args.rounds):
            rows["plain"].append(measure(None, args.connections, args.exchanges))
            rows["tls"].append(measure(tls, args.connections, args.exchanges))
    for name, runs in rows.items():
        for run in runs:
            print(f"{name:5}  {run}")

    def median(name: str, key: str) -> float:
        values = sorted(run[key] for run in rows[name])
        return values[len(values) // 2]

    for side in ("server_us", "client_us"):
        plain, secure = median("plain", side), median("tls", side)
        print(
            f"{side[:-3]} CPU per exchange (median): plain {plain} µs, TLS {secure} µs, "
            f"TLS adds {secure - plain:.1f} µs"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
