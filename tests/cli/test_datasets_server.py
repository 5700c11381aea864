"""`mloop data ...` and `mloop lineage` against a server (`MLOOP_TRACKING_URI=http://...`).

The CLI's dataset tests, run with the tracking URI pointing at a live `mloop server` on the
backend under test: versions, aliases, diffs, pushes, pulls and materialised files go through
`/api/v1/datasets` and `/api/v1/blobs`. Left out: the push/pull test, which plays another machine
by switching the local artifact root (through a server, every client shares the server's).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mloop.client.context import close_store
from mloop.server.app import create_app
from mloop.server.config import ServerConfig
from tests.cli import test_datasets
from tests.server.conftest import serve_in_thread

_TAKEN = [
    "test_add_status_show_diff_and_alias",
    "test_table_versions_show_schema_and_row_changes",
    "test_unknown_names_and_bad_input_have_clear_errors",
    "test_import_dvc_and_lineage",
]
for _name in _TAKEN:
    globals()[_name] = getattr(test_datasets, _name)


@pytest.fixture
def cli_env(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The CLI environment with MLOOP_TRACKING_URI set to a server on the fresh store."""
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
