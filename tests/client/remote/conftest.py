"""Remote-mode fixtures: the fluent API pointed at a live server in front of the test's store.

The test modules of this folder take tests from the local client suites, so each runs unchanged
over HTTP (REST store, server, SQL store) on both backends.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mloop.server.app import create_app
from mloop.server.config import ServerConfig
from tests.client.conftest import FluentEnv, fluent_env
from tests.server.conftest import serve_in_thread


@pytest.fixture(autouse=True)
def fluent(
    store_url: str, artifact_root: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FluentEnv]:
    """The fluent API pointed at a live server on the test's store (both backends)."""
    app = create_app(ServerConfig(backend_uri=store_url, artifact_uri=artifact_root))
    url, stop = serve_in_thread(app)
    try:
        yield from fluent_env(url, artifact_root, tmp_path, monkeypatch)
    finally:
        stop()
