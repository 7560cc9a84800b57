"""Running the listeners: one uvicorn Server per listener, all in one event loop per process.

The parent binds every socket, ensures the CA and migrates the databases; then it either
serves in-process (one worker) or starts `workers` processes (spawned, like uvicorn's own
supervisor, with the sockets handed over), each running every listener. In a process, each
environment's first listener runs the app's lifespan (which starts and stops its Platform)
and starts first; the others share the app with lifespan off. Stopping reverses that: the
listeners without lifespan drain first, then those that stop the Platforms.

One signal handler per process stops everything (uvicorn's per-server one would be replaced
by the next server's): SIGINT or SIGTERM once stops gracefully, a second SIGINT forces it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import signal
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess

import uvicorn
import uvloop

from pesabox.serving.environments import ServedEnvironment, build_environments, prepare_databases
from pesabox.serving.listeners import Listener, bind, plan_listeners
from pesabox.serving.tls import TlsMaterial, listener_context, load_tls_material
from pesabox.serving.tls_protocol import TlsHttpToolsProtocol
from pesabox.settings import Settings
from pesabox.storage.writer import CLOSE_DRAIN_S

__all__ = ["ServerFailed", "ServingPlan", "prepare", "run_workers", "serve", "serve_in_process"]

log = logging.getLogger(__name__)
# uvicorn's own cap on waiting for open requests when stopping (as `serve` always had).
_GRACEFUL_SHUTDOWN_S = 10
# A worker that has not stopped this long after being asked is killed. Its own worst case:
# the listeners without a lifespan close their connections, then the lifespan ones do and
# stop the Platforms (side by side), whose ledger writers drain; the margin is for the rest
# of Platform.stop (callback dispatcher, request log, engines).
_PLATFORM_STOP_MARGIN_S = 10.0
_WORKER_STOP_TIMEOUT_S = 2 * _GRACEFUL_SHUTDOWN_S + CLOSE_DRAIN_S + _PLATFORM_STOP_MARGIN_S
_STARTED_POLL_S = 0.02


class ServerFailed(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class ServingPlan:
    """Everything a serving process needs, picklable for spawned workers."""

    settings: Settings
    listeners: tuple[Listener, ...]
    material: TlsMaterial


class _ListenerServer(uvicorn.Server):
    """A uvicorn Server that leaves signals to the runner."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _config(
    listener: Listener, served: ServedEnvironment, material: TlsMaterial, *, lifespan: bool
) -> uvicorn.Config:
    context = listener_context(listener, material)
    settings = served.platform.settings
    return uvicorn.Config(
        served.app,
        lifespan="on" if lifespan else "off",
        http=TlsHttpToolsProtocol,
        log_level=settings.log_level,
        access_log=False,
        timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_S,
        # Production's scheme is what the connection is: never an X-Forwarded-Proto header.
        proxy_headers=served.name == "sandbox",
        ssl_context_factory=(lambda _config, _default: context) if context else None,
    )


async def _serve_one(server: uvicorn.Server, sock: socket.socket) -> None:
    try:
        await server.serve(sockets=[sock])
    except SystemExit:
        # uvicorn exits the process when the lifespan fails; the other listeners and
        # Platforms must still stop, so it becomes an error here.
        raise ServerFailed("a listener failed to start (its lifespan failed)") from None


class _Servers:
    """The process's servers: lifespan ones first to start and last to stop."""

    def __init__(self, plan: ServingPlan, sockets: Sequence[socket.socket]) -> None:
        environments = build_environments(plan.settings)
        self.first: list[tuple[uvicorn.Server, socket.socket]] = []
        self.rest: list[tuple[uvicorn.Server, socket.socket]] = []
        for listener, sock in zip(plan.listeners, sockets, strict=True):
            starts_platform = all(
                s.config.app is not environments[listener.environment].app for s, _ in self.first
            )
            config = _config(
                listener, environments[listener.environment], plan.material,
                lifespan=starts_platform,
            )  # fmt: skip
            (self.first if starts_platform else self.rest).append((_ListenerServer(config), sock))
        self.stopping = asyncio.Event()
        self._tasks: dict[uvicorn.Server, asyncio.Task[None]] = {}

    def on_signal(self, signum: int) -> None:
        if self.stopping.is_set() and signum == signal.SIGINT:
            for server in self._tasks:
                server.force_exit = True
        self.stopping.set()

    def _start(self, group: list[tuple[uvicorn.Server, socket.socket]]) -> None:
        for server, sock in group:
            self._tasks[server] = asyncio.create_task(_serve_one(server, sock))

    async def _started(self, group: list[tuple[uvicorn.Server, socket.socket]]) -> None:
        for server, _ in group:
            while not server.started and not self.stopping.is_set():
                task = self._tasks[server]
                if task.done():
                    task.result()
                    raise ServerFailed("a listener stopped while starting")
                await asyncio.sleep(_STARTED_POLL_S)

    async def _stop(self, group: list[tuple[uvicorn.Server, socket.socket]]) -> None:
        tasks = [self._tasks[server] for server, _ in group if server in self._tasks]
        for server, _ in group:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)

    async def run(self) -> None:
        failure: BaseException | None = None
        try:
            self._start(self.first)
            await self._started(self.first)
            if not self.stopping.is_set():
                self._start(self.rest)
                stop = asyncio.create_task(self.stopping.wait())
                await asyncio.wait(
                    [stop, *self._tasks.values()], return_when=asyncio.FIRST_COMPLETED
                )
                stop.cancel()
        except ServerFailed as error:
            failure = error
        finally:
            await self._stop(self.rest)
            await self._stop(self.first)
        failed = [t for t in self._tasks.values() if not t.cancelled() and t.exception()]
        if failure is not None or failed:
            raise failure or failed[0].exception() or ServerFailed("a listener failed")
        if not self.stopping.is_set():
            raise ServerFailed("a listener stopped on its own")


async def _serve_process(plan: ServingPlan, sockets: Sequence[socket.socket]) -> None:
    servers = _Servers(plan, sockets)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, servers.on_signal, signum)
    try:
        await servers.run()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def serve_in_process(plan: ServingPlan, sockets: Sequence[socket.socket]) -> None:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_serve_process(plan, sockets))


def _worker_main(plan: ServingPlan, sockets: list[socket.socket]) -> None:
    serve_in_process(plan, sockets)


def run_workers(plan: ServingPlan, sockets: list[socket.socket], workers: int) -> int:
    """Start `workers` processes on the shared sockets; stop them all on SIGINT or SIGTERM,
    or when one of them ends. Returns the exit code for the parent."""
    context = multiprocessing.get_context("spawn")
    processes: list[BaseProcess] = [
        context.Process(target=_worker_main, args=(plan, sockets), name=f"pesabox-worker-{n}")
        for n in range(workers)
    ]
    stop_requested: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        stop_requested.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for process in processes:
            process.start()
        while not stop_requested:
            ended = wait([p.sentinel for p in processes], timeout=0.5)
            if ended:
                log.error("a worker process ended on its own; stopping the others")
                break
        for process in processes:
            if process.is_alive():
                process.terminate()
        # One deadline for all: the workers stop side by side.
        deadline = time.monotonic() + _WORKER_STOP_TIMEOUT_S
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    # A worker still starting when the stop came ends by the signal itself: still a stop.
    clean = stop_requested and all(p.exitcode in (0, -signal.SIGTERM) for p in processes)
    return 0 if clean else 1


def prepare(settings: Settings) -> ServingPlan:
    """Migrate the databases and ensure the CA: the parent's work before any listener."""
    prepare_databases(settings)
    material = load_tls_material(settings)
    return ServingPlan(settings, tuple(plan_listeners(settings)), material)


def serve(settings: Settings, *, announce: Callable[[Listener], None]) -> int:
    """`pesabox serve`: bind, announce each listener, serve until stopped. Returns the exit
    code."""
    plan = prepare(settings)
    sockets: list[socket.socket] = []
    listeners: list[Listener] = []
    try:
        for listener in plan.listeners:
            sock, bound = bind(listener)
            sockets.append(sock)
            listeners.append(bound)
        plan = ServingPlan(plan.settings, tuple(listeners), plan.material)
        for listener in listeners:
            announce(listener)
        if settings.workers <= 1:
            serve_in_process(plan, sockets)
            return 0
        return run_workers(plan, sockets, settings.workers)
    finally:
        for sock in sockets:
            sock.close()
