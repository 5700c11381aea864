"""`tests/client/test_run_end.py` through a live server (see conftest.py): every run lists the
environment files, linked on the server from the first run's upload."""

from __future__ import annotations

from typing import Any

import pytest

import mloop
from mloop.client.context import STATE
from mloop.storage.rest.transport import Transport
from tests.client import test_deferred_create as _deferred
from tests.client import test_run_end as _local

_TAKEN = [
    "test_every_run_of_a_process_has_the_environment_files_and_tags",
    "test_tags_given_at_start_win_over_the_environments",
    "test_runs_record_the_environment_again_when_the_first_run_was_purged",
]
_TAKEN_DEFERRED = [
    "test_fluent_reads_during_a_deferred_run_find_it",
    "test_the_first_run_in_an_experiment_is_created_at_once_and_fails_there",
    "test_a_forked_child_logs_to_a_deferred_run_of_its_parent",
]

for _name in _TAKEN:
    globals()[_name] = getattr(_local, _name)
for _name in _TAKEN_DEFERRED:
    globals()[_name] = getattr(_deferred, _name)


def test_a_run_through_a_server_costs_one_request(monkeypatch: pytest.MonkeyPatch) -> None:
    with mloop.start_run():
        pass  # the first run uploads the environment's files and is created at once
    sent: list[tuple[str, str]] = []
    original = Transport.request

    def counting(self: Transport, method: str, path: str, **kwargs: Any) -> Any:
        sent.append((method, path))
        return original(self, method, path, **kwargs)

    monkeypatch.setattr(Transport, "request", counting)
    # Keep the writer thread's 50 ms linger from ending between a log and the run's end on a
    # loaded machine: this test counts the requests of the end.
    assert STATE.queue is not None
    monkeypatch.setattr(STATE.queue, "_linger_s", 60.0)
    for i in range(3):
        with mloop.start_run() as run:
            mloop.log_params({"p": i, "q": "x"})
            mloop.log_metrics({"m": 0.5}, step=i)
        # The create went with the end: one request, one transaction on the server.
        assert sent == [("POST", f"/api/v1/runs/{run.run_id}/finish")]
        sent.clear()
    ended = mloop.get_run(run.run_id)
    assert ended.params == {"p": "2", "q": "x"}
    assert ended.metrics == {"m": 0.5}
    assert ended.status.value == "FINISHED"
    assert "environment/requirements.txt" in {
        f.path for f in mloop.MloopClient().store.artifacts.list_files(run.run_id)
    }
