"""`mloop deploy ...` against a server (`MLOOP_TRACKING_URI=http://...`).

The CLI's deployment tests, run with the tracking URI pointing at a live `mloop server` on the
backend under test, so every command goes through `/api/v1/deployments`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cli import test_deploy
from tests.cli.conftest import through_server

_TAKEN = [
    "test_create_update_show_list_rollback_and_history",
    "test_bad_input_exits_with_a_clear_error",
    "test_rollback_of_a_first_revision_and_conflicting_flags",
]
for _name in _TAKEN:
    globals()[_name] = getattr(test_deploy, _name)
pytestmark = test_deploy.pytestmark


@pytest.fixture
def cli_env(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The CLI environment with MLOOP_TRACKING_URI set to a server on the fresh store."""
    with through_server(cli_env, monkeypatch) as env:
        yield env
