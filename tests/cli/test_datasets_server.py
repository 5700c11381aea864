"""`mloop data ...` and `mloop lineage` against a server (`MLOOP_TRACKING_URI=http://...`).

The CLI's dataset tests, run with the tracking URI pointing at a live `mloop server` on the
backend under test: versions, aliases, diffs, pushes, pulls and materialised files go through
`/api/v1/datasets` and `/api/v1/blobs`. Left out: the push/pull test, which plays another machine
by switching the local artifact root (through a server, every client shares the server's).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cli import test_datasets
from tests.cli.conftest import through_server

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
    with through_server(cli_env, monkeypatch) as env:
        yield env
