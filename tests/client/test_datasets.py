"""The fluent dataset API on the default store: add, snapshot, load, log_input, lineage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import mloop
import mloop.data
from mloop.client.context import get_store
from mloop.client.datasets import lineage, stat_cache
from mloop.errors import DatasetNotFoundError, InvalidDatasetReferenceError
from tests.client.conftest import FluentEnv


def test_snapshot_load_and_add_through_mloop_data(fluent: FluentEnv, tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": [1, 2, 3]})
    result = mloop.data.snapshot(frame, "frame", message="first")
    assert result.created
    assert result.version.uri == "datasets:/frame/1"
    assert not mloop.data.snapshot(frame, "frame").created
    pd.testing.assert_frame_equal(mloop.data.load("datasets:/frame/latest"), frame)
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    added = mloop.data.add(folder, "files", tags={"k": "v"})
    assert added.version.file_count == 1
    # the stat cache lives in the mloop home of this process
    assert stat_cache().path == fluent.workdir / ".mloop" / "stat-cache.db"


def test_log_input_records_the_version_on_the_active_run(fluent: FluentEnv) -> None:
    result = mloop.data.snapshot(pd.DataFrame({"x": [1]}), "train")
    with mloop.start_run() as run:
        logged = mloop.log_input("datasets:/train/1", context="training")
        mloop.log_input(result, context="validation")
    assert logged == result.version
    inputs = mloop.get_run(run.run_id).inputs
    assert {(i.name, i.digest, i.source, i.context) for i in inputs} == {
        ("train", result.version.digest, "datasets:/train/1", "training"),
        ("train", result.version.digest, "datasets:/train/1", "validation"),
    }


def test_lineage_reaches_runs_and_the_model_versions_they_produced(fluent: FluentEnv) -> None:
    result = mloop.data.snapshot(pd.DataFrame({"x": [1]}), "train")
    with mloop.start_run() as run:
        mloop.log_input(result.version)
    mloop.start_run()
    mloop.end_run()
    registered = _register(run.run_id, "churn")
    found = lineage("train/1")
    assert [r.run_id for r in found.runs] == [run.run_id]
    assert [(m.name, m.version) for m in found.model_versions] == [("churn", registered.version)]
    assert lineage(result.version, store=get_store()).version == result.version


def _register(run_id: str, name: str) -> Any:
    """A model version produced by the run (through the store: no model package needed)."""
    registry = get_store().registry
    registry.create_model(name, actor="test")
    return registry.create_version(name, f"runs:/{run_id}/model", actor="test", run_id=run_id)


def test_bad_references_fail_clearly_and_log_nothing(fluent: FluentEnv) -> None:
    with mloop.start_run() as run:
        with pytest.raises(DatasetNotFoundError):
            mloop.log_input("datasets:/missing/1")
        with pytest.raises(InvalidDatasetReferenceError):
            mloop.log_input("not a ref!")
    assert mloop.get_run(run.run_id).inputs == ()
