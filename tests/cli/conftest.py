"""CLI fixtures: a runner on the real `mloop` app, pointed at a fresh store per test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mloop.client.context import STATE, close_store


@pytest.fixture
def cli_env(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """Environment for CLI runs: a fresh store (SQLite or PostgreSQL) and a temporary home."""
    monkeypatch.chdir(tmp_path)
    env = {
        "MLOOP_HOME": str(tmp_path / ".mloop"),
        "MLOOP_TRACKING_URI": store_url,
        "MLOOP_ARTIFACT_URI": str(tmp_path / "artifacts"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MLOOP_EXPERIMENT_NAME", raising=False)
    yield env
    STATE.runs.clear()
    close_store()
    STATE.experiment_id = None


@contextmanager
def through_server(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """Serve the fresh store on a live `mloop server` and point MLOOP_TRACKING_URI at it.

    For modules that rerun the CLI tests through a server: their `cli_env` fixture wraps the
    plain one in this, so every command goes through `/api/v1`.
    """
    from mloop.server.app import create_app
    from mloop.server.config import ServerConfig
    from tests.server.conftest import serve_in_thread

    app = create_app(
        ServerConfig(
            backend_uri=cli_env["MLOOP_TRACKING_URI"], artifact_uri=cli_env["MLOOP_ARTIFACT_URI"]
        )
    )
    url, stop = serve_in_thread(app)
    monkeypatch.setenv("MLOOP_TRACKING_URI", url)
    try:
        yield {**cli_env, "MLOOP_TRACKING_URI": url}
    finally:
        close_store()
        stop()


@pytest.fixture
def cli() -> CliRunner:
    """A runner that invokes the real app in-process."""
    return CliRunner()


def ok(cli: CliRunner, *args: str) -> str:
    """Run `mloop ARGS...`, assert it exited 0 (showing its output otherwise); its output."""
    from mloop.cli.main import app

    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def ok_json(cli: CliRunner, *args: str) -> Any:
    """Run `mloop ARGS... --json`, assert it exited 0; its output parsed."""
    return json.loads(ok(cli, *args, "--json"))
