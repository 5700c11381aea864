"""Fluent-API fixtures: the process-wide client state pointed at a fresh store for each test.

The fluent API keeps global state (`mloop.client.context.STATE`); the autouse `fluent` fixture
points it at the test's store (SQLite or PostgreSQL), runs in an empty working directory with no
`MLOOP_*` variables, and ends runs and resets the state afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import mloop
from mloop.client.context import STATE, close_store
from mloop.errors import MloopError

MLOOP_VARIABLES = (
    "MLOOP_HOME",
    "MLOOP_TRACKING_URI",
    "MLOOP_ARTIFACT_URI",
    "MLOOP_EXPERIMENT_NAME",
    "MLOOP_LOG_SYSTEM_METRICS",
)


@dataclass(frozen=True)
class FluentEnv:
    """Where the fluent API of one test writes."""

    store_url: str
    artifact_root: str
    workdir: Path

    def subprocess_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for a child Python process that should log to the same store."""
        import os

        env = dict(os.environ if base is None else base)
        for var in MLOOP_VARIABLES:
            env.pop(var, None)
        env["MLOOP_TRACKING_URI"] = self.store_url
        env["MLOOP_ARTIFACT_URI"] = self.artifact_root
        env["MLOOP_HOME"] = str(self.workdir / ".mloop")
        return env


def reset_fluent_state() -> list[MloopError]:
    """End every active run, close the default store and forget everything; return errors met."""
    errors: list[MloopError] = []
    while STATE.runs:
        try:
            mloop.end_run()
        except MloopError as exc:
            errors.append(exc)
    try:
        close_store()
    except MloopError as exc:
        errors.append(exc)
        STATE.store = None
        STATE.queue = None
    STATE.runs.clear()
    STATE.params.clear()
    STATE.experiment_id = None
    STATE.tracking_uri = None
    STATE.artifact_uri = None
    return errors


def fluent_env(
    store_url: str, artifact_root: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FluentEnv]:
    """Body of the `fluent` fixture, shared with other test packages."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    for var in MLOOP_VARIABLES:
        monkeypatch.delenv(var, raising=False)
    reset_fluent_state()
    mloop.set_tracking_uri(store_url, artifact_uri=artifact_root)
    yield FluentEnv(store_url, artifact_root, workdir)
    errors = reset_fluent_state()
    if errors:
        pytest.fail(f"write errors left unreported at the end of the test: {errors!r}")


@pytest.fixture(autouse=True)
def fluent(
    store_url: str, artifact_root: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FluentEnv]:
    """The fluent API, pointed at a fresh store (both backends), reset after the test."""
    yield from fluent_env(store_url, artifact_root, tmp_path, monkeypatch)
