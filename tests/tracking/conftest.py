"""Tracking fixtures: the fluent API's `fluent` fixture, for the tests that start runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client.conftest import FluentEnv, fluent_env


@pytest.fixture
def fluent(
    store_url: str, artifact_root: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FluentEnv]:
    """The fluent API, pointed at a fresh store (both backends), reset after the test."""
    yield from fluent_env(store_url, artifact_root, tmp_path, monkeypatch)
