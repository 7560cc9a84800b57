"""The listeners `pesabox serve` opens, from settings, and their sockets.

    sandbox     http   PESABOX_PORT (8000)                 plain http, as before issue 6
    sandbox     https  PESABOX_HTTPS_PORT (8443, or off)   1-way TLS, broker cert testbroker
    production  https  PESABOX_PRODUCTION_PORT (9443)      1-way TLS: OAuth, STK, pages
    production  mtls   PESABOX_PRODUCTION_MTLS_PORT (9444) mutual TLS: every API

Production has no plain listener. The parent process binds every socket, so worker processes
share them and a port taken by someone else fails the start at once, with the port named.
"""

from __future__ import annotations

import dataclasses
import socket
from dataclasses import dataclass
from typing import Literal

from pesabox.settings import Settings

__all__ = ["Listener", "ListenerKind", "bind", "plan_listeners"]

ListenerKind = Literal["http", "https", "mtls"]
_DESCRIPTIONS: dict[ListenerKind, str] = {
    "http": "plain http",
    "https": "TLS",
    "mtls": "mutual TLS, client certificate verified",
}


@dataclass(frozen=True, slots=True)
class Listener:
    environment: Literal["sandbox", "production"]
    kind: ListenerKind
    host: str
    port: int

    @property
    def url(self) -> str:
        scheme = "http" if self.kind == "http" else "https"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    def describe(self) -> str:
        """One line for the console: `sandbox https: https://127.0.0.1:8443 (TLS)`."""
        return f"{self.environment} {self.kind}: {self.url} ({_DESCRIPTIONS[self.kind]})"


def plan_listeners(settings: Settings) -> list[Listener]:
    """Every listener of the served environments, each environment's plain or 1-way TLS
    listener first (the one that starts its Platform)."""
    host = settings.host
    listeners: list[Listener] = []
    if "sandbox" in settings.served_environments:
        listeners.append(Listener("sandbox", "http", host, settings.port))
        if settings.https_port is not None:
            listeners.append(Listener("sandbox", "https", host, settings.https_port))
    if "production" in settings.served_environments:
        listeners.append(Listener("production", "https", host, settings.production_port))
        listeners.append(Listener("production", "mtls", host, settings.production_mtls_port))
    ports = [listener.port for listener in listeners if listener.port != 0]
    if len(ports) != len(set(ports)):
        taken = sorted({port for port in ports if ports.count(port) > 1})
        raise ValueError(f"two listeners cannot share port {taken[0]}: {listeners}")
    return listeners


def bind(listener: Listener) -> tuple[socket.socket, Listener]:
    """A listening socket for `listener`, and the listener with the port it got (port 0
    asks the system for a free one)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        listener.host, listener.port, type=socket.SOCK_STREAM
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as error:
        sock.close()
        raise OSError(
            error.errno, f"cannot listen on {listener.url} for {listener.environment}: {error}"
        ) from None
    return sock, dataclasses.replace(listener, port=int(sock.getsockname()[1]))
