"""Running the server: sockets bound here with TCP_NODELAY, one uvicorn per worker process.

Each worker binds its own listening socket on the same address with SO_REUSEPORT, so the kernel
spreads connections over the workers and no process hands sockets to another. TCP_NODELAY is set
on every listening socket (accepted connections inherit it), so a small answer on a kept-alive
connection is never held back by Nagle's algorithm waiting for the client's delayed ACK - the
~40 ms stall per request that uvicorn's own multi-worker mode shows.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from mloop.errors import ConfigurationError
from mloop.server.config import ServerConfig

LISTEN_BACKLOG = 2048
# Longer than clients keep idle pooled connections (httpx: 5 s), so the client closes first and
# never sends a request on a connection the server is closing.
KEEP_ALIVE_S = 65


@dataclass(frozen=True, slots=True)
class BindAddress:
    """Where the server listens.

    Attributes:
        host: an IP address or host name.
        port: the TCP port (0: any free port, only with one worker).
    """

    host: str
    port: int

    @property
    def is_loopback(self) -> bool:
        """True when only this machine can connect."""
        return self.host in ("localhost", "127.0.0.1", "::1") or self.host.startswith("127.")


def bind_socket(address: BindAddress, *, reuse_port: bool) -> socket.socket:
    """A listening TCP socket with TCP_NODELAY (and SO_REUSEPORT for several workers).

    Raises:
        ConfigurationError: the address cannot be bound (in use, not local, bad host).
    """
    try:
        family, kind, proto, _, sockaddr = socket.getaddrinfo(
            address.host, address.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise ConfigurationError(f"cannot resolve host {address.host!r}: {exc}") from exc
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(sockaddr)
        sock.listen(LISTEN_BACKLOG)
    except OSError as exc:
        sock.close()
        raise ConfigurationError(
            f"cannot listen on {address.host}:{address.port} ({exc.strerror or exc}); pick "
            "another --port, or stop what uses it"
        ) from exc
    sock.set_inheritable(True)
    return sock


def uvicorn_config(app: Any, *, log_level: str = "warning", access_log: bool = False) -> Any:
    """The uvicorn settings every worker runs with (fastest loop and parser installed)."""
    import uvicorn

    return uvicorn.Config(
        app,
        log_level=log_level,
        access_log=access_log,
        lifespan="on",
        timeout_keep_alive=KEEP_ALIVE_S,
        server_header=False,
    )


AppFactory = Callable[[], Any]
"""Builds the ASGI app a worker serves (the tracking server's by default; `mloop serve` passes
the inference server's). An app built before a fork is told with `after_fork()`, when it has
that method, or through `app.state.store.after_fork()`."""


def run_worker(
    config: ServerConfig | None,
    sock: socket.socket,
    *,
    log_level: str = "warning",
    app_factory: AppFactory | None = None,
    metric_peers: str | None = None,
) -> None:
    """Serve on `sock` in this process until SIGINT or SIGTERM.

    `metric_peers` is the directory where the workers of one server meet to sum their metrics.
    """
    import uvicorn

    app = app_factory() if app_factory is not None else _build_app(config)
    _join_metric_peers(app, metric_peers)
    server = uvicorn.Server(uvicorn_config(app, log_level=log_level))
    server.run(sockets=[sock])


def _worker_main(
    config: ServerConfig | None,
    address: BindAddress,
    log_level: str,
    app: Any,
    app_factory: AppFactory | None = None,
    *,
    metric_peers: str | None = None,
    listening: socket.socket | None = None,
    inherited: socket.socket | None = None,
) -> None:
    _let_stop_signals_in()
    # The first worker serves on the socket the parent listened on; the others close their copy
    # of it (so it lives and dies with the first worker) and bind their own: SO_REUSEPORT lets
    # the kernel balance between them.
    if inherited is not None:
        inherited.close()
    sock = listening if listening is not None else bind_socket(address, reuse_port=True)
    if app is None:
        run_worker(
            config, sock, log_level=log_level, app_factory=app_factory, metric_peers=metric_peers
        )
        return
    import uvicorn

    # The app was built before the fork; its store must not share the parent's connections.
    after_fork = getattr(app, "after_fork", None)
    if after_fork is not None:
        after_fork()
    else:
        app.state.store.after_fork()
    _join_metric_peers(app, metric_peers)
    uvicorn.Server(uvicorn_config(app, log_level=log_level)).run(sockets=[sock])


def serve(
    config: ServerConfig | None,
    address: BindAddress,
    *,
    workers: int = 1,
    log_level: str = "warning",
    on_ready: Callable[[BindAddress], None] | None = None,
    app_factory: AppFactory | None = None,
) -> None:
    """Run the server until interrupted: in this process, or in `workers` worker processes.

    Args:
        config: what each worker serves.
        address: where to listen.
        workers: number of processes.
        log_level: uvicorn's log level.
        on_ready: called with the bound address once listening (the real port when 0 was asked).
        app_factory: builds the app instead of the tracking server's `create_app(config)`.

    Raises:
        ConfigurationError: the address cannot be bound, or `workers` is below 1.
    """
    if workers < 1:
        raise ConfigurationError(f"--workers must be at least 1, got {workers}")
    if workers == 1:
        sock = bind_socket(address, reuse_port=False)
        if on_ready is not None:
            on_ready(BindAddress(address.host, sock.getsockname()[1]))
        run_worker(config, sock, log_level=log_level, app_factory=app_factory)
        return
    _serve_many(
        config,
        address,
        workers=workers,
        log_level=log_level,
        on_ready=on_ready,
        app_factory=app_factory,
    )


def _serve_many(
    config: ServerConfig | None,
    address: BindAddress,
    *,
    workers: int,
    log_level: str,
    on_ready: Callable[[BindAddress], None] | None,
    app_factory: AppFactory | None = None,
) -> None:
    forking = sys.platform == "linux"
    first = _first_socket(address, listening=forking)
    bound = BindAddress(address.host, first.getsockname()[1])
    context: Any = multiprocessing.get_context("fork" if forking else "spawn")
    app = None
    if forking:
        # With fork, the app (routes, schemas, the store's schema check) is built once here and
        # inherited by every worker instead of being built by each: most of the start-up time.
        app = app_factory() if app_factory is not None else _build_app(config)
        _prepare_for_fork(app, log_level)
    # Where the workers meet to answer a scrape with the counts of all of them.
    metric_peers = tempfile.mkdtemp(prefix="mloop-metrics-")
    processes = [
        context.Process(
            target=_worker_main,
            args=(config, bound, log_level, app, app_factory),
            kwargs={
                "metric_peers": metric_peers,
                # Only a forked worker inherits the socket the parent listens on.
                "listening": first if forking and i == 0 else None,
                "inherited": first if forking and i > 0 else None,
            },
            name=f"mloop-worker-{i}",
        )
        for i in range(workers)
    ]
    supervisor = _Supervisor(processes)
    try:
        # Stopping is in place before the first worker starts and before `on_ready` hears of
        # the port: a SIGTERM from then on stops the workers instead of killing this process
        # and orphaning them. The signals are held while forking, so a worker never runs the
        # supervisor's handler; each worker lets them through once it has its own.
        with supervisor.handling_signals():
            with _signals_held():
                for process in processes:
                    process.start()
            first.close()
            if on_ready is not None:
                on_ready(bound)
            supervisor.wait()
    finally:
        shutil.rmtree(metric_peers, ignore_errors=True)


def _first_socket(address: BindAddress, *, listening: bool) -> socket.socket:
    """The socket that holds the port while the parent builds the app.

    Listening (with fork), it is the first worker's: a client that connects while the server
    starts waits in its backlog and is answered as soon as that worker runs, rather than being
    refused and trying again. Not listening (with spawn, where a worker cannot inherit it), it
    only reserves the port, so port 0 resolves once and every worker joins the same port.

    Raises:
        ConfigurationError: the address cannot be bound.
    """
    if listening:
        return bind_socket(address, reuse_port=True)
    holder = socket.socket(socket.AF_INET6 if ":" in address.host else socket.AF_INET)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        holder.bind((address.host, address.port))
    except OSError as exc:
        holder.close()
        raise ConfigurationError(
            f"cannot listen on {address.host}:{address.port} ({exc.strerror or exc})"
        ) from exc
    return holder


def _prepare_for_fork(app: Any, log_level: str) -> None:
    """Load, once before the fork, what every worker would otherwise load on its own."""
    import anyio

    config = uvicorn_config(app, log_level=log_level)
    # uvicorn's HTTP parser and protocols, and its event loop (uvloop, a large extension module
    # that each worker would otherwise load itself when it starts its loop).
    config.load()
    config.get_loop_factory()
    # anyio loads its asyncio backend (~15 ms) on the first request that uses the thread pool.
    anyio.run(anyio.sleep, 0)


def _join_metric_peers(app: Any, directory: str | None) -> None:
    """Let this worker's `/metrics` answer for every worker of the server (when it counts)."""
    metrics = getattr(getattr(app, "state", None), "metrics", None)
    if directory is not None and metrics is not None and hasattr(metrics, "join_peers"):
        metrics.join_peers(directory)


def _build_app(config: ServerConfig | None) -> Any:
    from mloop.server.app import create_app

    if config is None:
        raise ConfigurationError("the tracking server needs its configuration")
    return create_app(config)


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back in this thread (and in what it forks) for the block."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _let_stop_signals_in() -> None:
    """In a new worker: default SIGINT/SIGTERM handling (uvicorn installs its own), unheld."""
    for sig in _STOP_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


class _Supervisor:
    """Waits for the workers; when one exits, or on SIGINT or SIGTERM, stops them all."""

    def __init__(self, processes: list[Any]) -> None:
        self.processes = processes
        self.stopping = False
        self.failed: int | None = None

    def stop(self, _signum: int = 0, _frame: object = None) -> None:
        self.stopping = True
        for process in self.processes:
            if process.pid is not None and process.is_alive():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)

    @contextlib.contextmanager
    def handling_signals(self) -> Iterator[None]:
        """SIGINT and SIGTERM stop the workers during the block."""
        previous = {sig: signal.signal(sig, self.stop) for sig in _STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def wait(self) -> None:
        """Return once every worker has exited.

        Raises:
            ConfigurationError: a worker failed on its own (its error was logged above).
        """
        from multiprocessing.connection import wait

        waiting = {process.sentinel: process for process in self.processes}
        while waiting:
            for sentinel in wait(list(waiting)):
                process = waiting.pop(sentinel)
                process.join()
                if not self.stopping:
                    self.failed = process.exitcode
                    self.stop()
        if self.failed:
            raise ConfigurationError(
                f"a server worker exited with code {self.failed}; its error is logged above"
            )
