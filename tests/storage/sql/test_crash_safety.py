"""A writer killed mid-stream on SQLite loses none of the batches it had been told were written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mloop.entities import RunTag
from mloop.storage.sql.store import SqlStore
from tests.storage.sql.rows import scalar

pytestmark = pytest.mark.slow

_ROOT = Path(__file__).resolve().parents[3]


def _kill_after(url: str, artifact_root: str, run_id: str, acks: int) -> list[int]:
    """Run a streaming writer, SIGKILL it after `acks` acknowledgements; return all it printed."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.storage.sql.writers", url, artifact_root, run_id],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=_ROOT,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(_ROOT), os.environ.get("PYTHONPATH", "")]),
        },
    )
    assert child.stdout is not None
    acknowledged: list[int] = []
    try:
        for line in child.stdout:
            acknowledged.append(int(line))
            if len(acknowledged) >= acks:
                break
    finally:
        # The child is most likely inside its next transaction now.
        child.send_signal(signal.SIGKILL)
        # Read what is left through the same file object: lines it has already buffered from the
        # pipe are acknowledgements too (`communicate` would read only the pipe and miss them).
        rest = child.stdout.read()
        errors = child.stderr.read() if child.stderr is not None else ""
        child.wait(timeout=30)
    acknowledged.extend(int(line) for line in rest.split())
    assert child.returncode == -signal.SIGKILL, errors
    return acknowledged


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("acks", [1, 37, 150])
def test_every_acknowledged_batch_survives_sigkill(
    store: SqlStore, store_url: str, artifact_root: str, acks: int
) -> None:
    run_id = store.runs.create("0", run_name="killed").run_id
    acknowledged = _kill_after(store_url, artifact_root, run_id, acks)
    assert acknowledged == list(range(len(acknowledged)))
    assert len(acknowledged) >= acks

    reopened = SqlStore(store_url, artifact_root=artifact_root)
    try:
        assert scalar(reopened, "PRAGMA integrity_check") == "ok"
        run = reopened.runs.get(run_id)
        steps = {m.step for m in reopened.runs.get_metric_history(run_id, "k0")}
        assert set(acknowledged) <= steps
        assert {f"b{i}" for i in acknowledged} <= set(run.tags)
        # A batch is all or nothing, including the one the kill interrupted.
        assert len(steps) in (len(acknowledged), len(acknowledged) + 1)
        for key in ("k1", "k19"):
            assert {m.step for m in reopened.runs.get_metric_history(run_id, key)} == steps
        assert len(run.tags) == len(steps)
        # The store stays writable after the crash.
        reopened.runs.log_batch(run_id, tags=[RunTag("after", "crash")])
        reopened.experiments.create("after-crash")
    finally:
        reopened.close()
