"""The runner in this process: several workers, SIGTERM, a dying worker, bad addresses."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from typing import Any

import httpx
import psutil
import pytest

from mloop.errors import ConfigurationError
from mloop.server.app import create_app
from mloop.server.config import ServerConfig
from mloop.server.runner import BindAddress, bind_socket, serve
from tests.server.conftest import stop_serving_here, wait_ready


def _kill_a_worker() -> None:
    import multiprocessing

    workers = [p for p in multiprocessing.active_children() if p.name.startswith("mloop-worker")]
    assert workers
    assert workers[0].pid is not None
    os.kill(workers[0].pid, signal.SIGKILL)


def test_several_workers_serve_and_stop_together_on_sigterm(server_config: ServerConfig) -> None:
    answers: list[int] = []

    def ready(bound: BindAddress) -> None:
        def drive() -> None:
            url = f"http://127.0.0.1:{bound.port}"
            try:
                wait_ready(url)
                with httpx.Client(base_url=url) as http:
                    answers.extend(http.get("/api/v1/experiments/0").status_code for _ in range(20))
            finally:
                stop_serving_here()

        threading.Thread(target=drive, daemon=True).start()

    before = set(psutil.Process().children())
    serve(server_config, BindAddress("127.0.0.1", 0), workers=2, on_ready=ready)
    assert answers == [200] * 20
    assert not [p for p in psutil.Process().children() if p not in before and p.is_running()]


def test_a_worker_that_dies_stops_the_others_and_fails(server_config: ServerConfig) -> None:
    def ready(bound: BindAddress) -> None:
        def kill_one() -> None:
            wait_ready(f"http://127.0.0.1:{bound.port}")
            _kill_a_worker()

        threading.Thread(target=kill_one, daemon=True).start()

    with pytest.raises(ConfigurationError, match="a server worker exited with code -9"):
        serve(server_config, BindAddress("127.0.0.1", 0), workers=2, on_ready=ready)


def test_a_client_connecting_while_the_workers_start_waits_and_is_answered(
    server_config: ServerConfig,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    early: list[socket.socket] = []

    def build() -> Any:
        # Before any worker runs: the port already listens, so this connects (not refused)
        # and the request waits in the backlog for the first worker.
        conn = socket.create_connection(("127.0.0.1", port), timeout=30)
        conn.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        early.append(conn)
        return create_app(server_config)

    answers: list[bytes] = []

    def ready(_bound: BindAddress) -> None:
        def read() -> None:
            try:
                with early[0] as conn:
                    answers.append(b"".join(iter(lambda: conn.recv(65536), b"")))
            finally:
                stop_serving_here()

        threading.Thread(target=read, daemon=True).start()

    serve(None, BindAddress("127.0.0.1", port), workers=2, on_ready=ready, app_factory=build)
    assert answers[0].startswith(b"HTTP/1.1 200")
    assert answers[0].endswith(b'{"status":"ok"}')


def test_impossible_settings_are_configuration_errors(server_config: ServerConfig) -> None:
    with pytest.raises(ConfigurationError, match="at least 1"):
        serve(server_config, BindAddress("127.0.0.1", 0), workers=0)
    with pytest.raises(ConfigurationError, match="cannot resolve host"):
        bind_socket(BindAddress("no-such-host.invalid", 0), reuse_port=False)
    taken = bind_socket(BindAddress("127.0.0.1", 0), reuse_port=False)
    try:
        port = taken.getsockname()[1]
        with pytest.raises(ConfigurationError, match="cannot listen"):
            serve(server_config, BindAddress("127.0.0.1", port), workers=2)
    finally:
        taken.close()


def test_loopback_addresses_are_recognised() -> None:
    assert BindAddress("127.0.0.1", 1).is_loopback
    assert BindAddress("localhost", 1).is_loopback
    assert BindAddress("::1", 1).is_loopback
    assert not BindAddress("0.0.0.0", 1).is_loopback
    assert not BindAddress("10.1.2.3", 1).is_loopback


_SIGTERM_AT_ONCE = """
import os, signal, sys
from mloop.server.config import ServerConfig
from mloop.server.runner import BindAddress, serve

def ready(_bound):
    import multiprocessing
    workers = [p.pid for p in multiprocessing.active_children()]
    print(" ".join(map(str, workers)), flush=True)
    os.kill(os.getpid(), signal.SIGTERM)  # before a single request: at once

config = ServerConfig(backend_uri=sys.argv[1], artifact_uri=sys.argv[2])
serve(config, BindAddress("127.0.0.1", 0), workers=2, on_ready=ready)
print("stopped", flush=True)
"""


def test_a_sigterm_as_soon_as_the_port_is_announced_stops_the_workers(
    store_url: str, artifact_root: str
) -> None:
    # The supervisor handles SIGTERM before it starts a worker and before `on_ready` runs:
    # otherwise the signal kills the supervisor and leaves its workers serving, orphaned.
    process = subprocess.Popen(
        [sys.executable, "-c", _SIGTERM_AT_ONCE, store_url, artifact_root],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    workers = [int(pid) for pid in process.stdout.readline().split()]
    try:
        code = process.wait(timeout=60)
        _gone, alive = psutil.wait_procs(_processes(workers), timeout=10)
    finally:
        # Orphaned workers would hold the pipes open: end them before reading what was said.
        for worker in _processes(workers):
            worker.kill()
        process.kill()
        out, err = process.communicate()
    assert code == 0, err
    assert out.strip() == "stopped"
    assert len(workers) == 2
    assert not alive, f"workers left serving after the supervisor stopped: {alive}"


def _processes(pids: list[int]) -> list[psutil.Process]:
    found = []
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            found.append(psutil.Process(pid))
    return found
