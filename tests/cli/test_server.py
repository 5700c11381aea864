"""`mloop server` as users run it: a real process tree on a loopback port, several workers."""

from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from mloop.cli.main import app
from mloop.entities import Metric
from mloop.errors import ConfigurationError
from mloop.server.runner import BindAddress, bind_socket
from mloop.storage.rest import RestStore
from tests.server.conftest import wait_ready

URL_PATTERN = re.compile(r"mloop server on (http://127\.0\.0\.1:\d+)")


def start_server(env: dict[str, str], *args: str) -> tuple[subprocess.Popen[str], str]:
    """`mloop server` in a child process on a free port; returns it and its URL once it answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mloop.cli", "server", "--port", "0", *args],
        env={**os.environ, **env, "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    found = URL_PATTERN.search(line)
    if found is None:
        process.kill()
        raise AssertionError(f"no URL in the server's first line: {line!r}")
    url = found.group(1)
    try:
        wait_ready(url, process=process)
    except AssertionError:
        process.kill()
        raise
    return process, url


def stop_server(process: subprocess.Popen[str]) -> bool:
    """Stop it as a service manager does; True when it shut down cleanly."""
    process.send_signal(signal.SIGTERM)
    try:
        # uvicorn re-raises the signal after its graceful shutdown: dying "of" SIGTERM then is
        # the clean end of a single worker; the supervisor of several exits 0.
        return process.wait(timeout=20) in (0, -signal.SIGTERM)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


@pytest.fixture
def two_workers(cli_env: dict[str, str]) -> Iterator[str]:
    process, url = start_server(cli_env, "--workers", "2")
    yield url
    assert stop_server(process)


def test_several_workers_answer_reused_connections_without_a_nagle_stall(
    two_workers: str,
) -> None:
    with httpx.Client(base_url=two_workers) as http:
        http.get("/health")
        timings = []
        for _ in range(200):
            start = time.perf_counter()
            assert http.get("/api/v1/experiments/0").status_code == 200
            timings.append(time.perf_counter() - start)
    # A delayed-ACK stall costs ~40 ms a request; a healthy loopback request takes ~1 ms.
    assert statistics.median(timings) < 0.01
    assert max(sorted(timings)[: int(len(timings) * 0.9)]) < 0.03


def test_a_multi_worker_server_serves_one_store(two_workers: str) -> None:
    store = RestStore(two_workers)
    try:
        run = store.runs.create("0", run_name="remote")
        store.runs.log_batch(run.run_id, metrics=[Metric("m", float(i), 1, i) for i in range(50)])
        assert len(store.runs.get_metric_history(run.run_id, "m")) == 50
    finally:
        store.close()


def test_a_listening_socket_has_tcp_nodelay_and_reuse_port() -> None:
    sock = bind_socket(BindAddress("127.0.0.1", 0), reuse_port=True)
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
        # A second socket on the same port joins it instead of failing.
        twin = bind_socket(BindAddress("127.0.0.1", sock.getsockname()[1]), reuse_port=True)
        twin.close()
        client = socket.create_connection(sock.getsockname())
        accepted, _ = sock.accept()
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        accepted.close()
        client.close()
    finally:
        sock.close()


def test_a_port_in_use_is_a_configuration_error() -> None:
    sock = bind_socket(BindAddress("127.0.0.1", 0), reuse_port=False)
    try:
        with pytest.raises(ConfigurationError, match="pick another --port"):
            bind_socket(BindAddress("127.0.0.1", sock.getsockname()[1]), reuse_port=False)
    finally:
        sock.close()


def test_a_non_loopback_address_without_auth_is_warned_about(
    cli: CliRunner, cli_env: dict[str, str]
) -> None:
    # 192.0.2.1 is reserved for documentation: binding fails, after the warning.
    result = cli.invoke(app, ["server", "--host", "192.0.2.1", "--port", "0"])
    assert "without --auth" in result.output
    assert "warning" in result.output
    assert result.exit_code != 0
    assert "cannot listen on 192.0.2.1" in result.output


def test_a_server_url_as_backend_is_refused(cli: CliRunner, cli_env: dict[str, str]) -> None:
    result = cli.invoke(app, ["server", "--backend-uri", "http://127.0.0.1:1"])
    assert result.exit_code != 0
    assert "is a server, not a database" in result.output


def test_cli_commands_work_against_the_server(
    cli: CliRunner, cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    process, url = start_server(cli_env)
    try:
        store = RestStore(url)
        run = store.runs.create("0", run_name="listed-remotely")
        store.close()
        monkeypatch.setenv("MLOOP_TRACKING_URI", url)
        result = cli.invoke(app, ["runs", "list"])
        assert result.exit_code == 0, result.output
        assert "listed-remotely" in result.output
        shown = cli.invoke(app, ["runs", "show", run.run_id[:8]])
        assert shown.exit_code == 0, shown.output
        assert run.run_id in shown.output
    finally:
        assert stop_server(process)
