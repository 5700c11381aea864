"""A real uvicorn on a free loopback port, serving a store on SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from mloop.server.app import create_app
from mloop.server.config import ServerConfig


@dataclass
class LiveServer:
    """A running server: its base URL, the app and a client on a kept-alive connection."""

    url: str
    app: FastAPI
    client: httpx.Client


def serve_in_thread(app: FastAPI) -> tuple[str, Callable[[], None]]:
    """Start `app` on uvicorn in a background thread; returns its URL and a stop function."""
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on accepted sockets of proto TCP, and
    # without it every answer on a reused connection waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

    return f"http://127.0.0.1:{port}", stop


def wait_ready(
    url: str,
    *,
    path: str = "/ready",
    timeout_s: float = 30,
    interval_s: float = 0.05,
    process: subprocess.Popen[str] | subprocess.Popen[bytes] | None = None,
) -> None:
    """Poll `GET url+path` until it answers 200 (connection errors mean: not up yet).

    Raises:
        AssertionError: no 200 within `timeout_s`, or `process` (the server) exited first.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{url}{path}", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet, or reset while starting: ask again
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the server at {url} exited with code {process.returncode}")
        if time.monotonic() > deadline:
            raise AssertionError(f"the server at {url} did not answer {path} in {timeout_s} s")
        time.sleep(interval_s)


@pytest.fixture
def server_config(store_url: str, artifact_root: str) -> ServerConfig:
    """Configuration of a server on a fresh store (SQLite file or PostgreSQL schema)."""
    return ServerConfig(backend_uri=store_url, artifact_uri=artifact_root)


@pytest.fixture
def live_server(server_config: ServerConfig) -> Iterator[LiveServer]:
    """A real uvicorn on a free loopback port serving a fresh store."""
    app = create_app(server_config)
    url, stop = serve_in_thread(app)
    with httpx.Client(base_url=url, timeout=30) as client:
        yield LiveServer(url=url, app=app, client=client)
    stop()


def stop_serving_here() -> None:
    """SIGTERM this process, as an operator stops `mloop server`, while `serve` supervises.

    For tests that run the multi-worker runner in the test process. Once `serve` has returned
    (it failed early) the signal would kill the whole test run instead, so it is not sent.
    """
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        os.kill(os.getpid(), signal.SIGTERM)
