"""The fluent logging API (`client/fluent.py`): validation at the call, queueing, artifacts."""

from __future__ import annotations

import importlib
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import mloop
from mloop.client.context import STATE, get_queue
from mloop.entities import Metric
from mloop.errors import InvalidInputError, ParamConflictError, RunNotActiveError
from mloop.storage.sql.store import SqlStore
from mloop.tracking.artifacts import RunArtifacts


@pytest.fixture
def run_id() -> str:
    """An active run whose environment is recorded, so nothing else gets queued; ended by the
    autouse fixture."""
    run = mloop.start_run()
    assert run.environment_recorded.wait(60)
    mloop.flush()
    return run.run_id


def pending() -> int:
    return STATE.queue.pending if STATE.queue is not None else 0


# Params ------------------------------------------------------------------------------------


def test_log_param_returns_the_stored_string_and_accepts_the_same_value_again(
    run_id: str, store: SqlStore
):
    assert mloop.log_param("lr", 0.1) == "0.1"
    assert mloop.log_param("lr", 0.1) == "0.1"
    assert mloop.log_param("lr", "0.1") == "0.1"

    mloop.flush()
    assert store.runs.get(run_id).params == {"lr": "0.1"}


def test_log_param_with_another_value_raises_at_the_call_and_queues_nothing(
    run_id: str, store: SqlStore
):
    mloop.log_param("lr", 0.1)
    mloop.flush()

    with pytest.raises(ParamConflictError) as caught:
        mloop.log_param("lr", 0.2)

    assert (caught.value.key, caught.value.old_value, caught.value.new_value) == (
        "lr",
        "0.1",
        "0.2",
    )
    assert pending() == 0
    mloop.flush()
    assert store.runs.get(run_id).params == {"lr": "0.1"}


def test_log_params_with_one_conflict_queues_none_of_them(run_id: str, store: SqlStore):
    mloop.log_param("depth", 3)

    with pytest.raises(ParamConflictError):
        mloop.log_params({"width": 8, "depth": 4})

    mloop.flush()
    assert store.runs.get(run_id).params == {"depth": "3"}
    mloop.log_param("width", 16)  # nothing of the failed call was remembered either


def test_log_param_conflict_is_detected_for_a_run_started_elsewhere(store: SqlStore):
    other = store.runs.create("0", run_name="elsewhere")
    store.runs.log_batch(other.run_id, params=[mloop.entities.Param("lr", "0.1")])

    mloop.log_param("lr", 0.1, run_id=other.run_id)
    with pytest.raises(ParamConflictError):
        mloop.log_param("lr", 0.3, run_id=other.run_id)
    assert mloop.active_run() is None


def test_log_params_refuses_a_too_long_value_and_queues_nothing(run_id: str, store: SqlStore):
    mloop.log_param("fits", "x" * 6000)
    mloop.flush()

    with pytest.raises(InvalidInputError, match="6001"):
        mloop.log_params({"ok": 1, "long": "x" * 6001})

    assert pending() == 0
    assert store.runs.get(run_id).params == {"fits": "x" * 6000}


# Metrics -----------------------------------------------------------------------------------


def test_log_metric_stores_value_step_and_timestamp(run_id: str, store: SqlStore):
    mloop.log_metric("loss", 0.5, step=1, timestamp_ms=1_000)
    mloop.log_metric("loss", 0.25, step=2, timestamp_ms=2_000)
    mloop.log_metric("loss", 0.75, 0, timestamp_ms=500)
    mloop.flush()

    assert store.runs.get_metric_history(run_id, "loss") == [
        Metric("loss", 0.75, 500, 0),
        Metric("loss", 0.5, 1_000, 1),
        Metric("loss", 0.25, 2_000, 2),
    ]
    assert store.runs.get(run_id).metrics == {"loss": 0.25}


def test_log_metric_defaults_to_step_zero_and_now(run_id: str, store: SqlStore):
    before = time.time_ns() // 1_000_000
    mloop.log_metric("acc", 1)
    after = time.time_ns() // 1_000_000
    mloop.flush()

    (point,) = store.runs.get_metric_history(run_id, "acc")
    assert point.step == 0
    assert point.value == 1.0
    assert before <= point.timestamp_ms <= after


def test_nan_and_infinities_round_trip(run_id: str, store: SqlStore):
    mloop.log_metric("x", float("nan"), step=0)
    mloop.log_metric("x", float("inf"), step=1)
    mloop.log_metric("x", float("-inf"), step=2)
    mloop.log_metric("only_nan", math.nan)
    mloop.log_metric("np", np.float32("nan"), step=0)  # type: ignore[arg-type]
    mloop.log_metric("np", np.float64(2.5), step=1)
    mloop.flush()

    values = [m.value for m in store.runs.get_metric_history(run_id, "x")]
    assert math.isnan(values[0])
    assert values[1:] == [math.inf, -math.inf]
    latest = store.runs.get(run_id).metrics
    assert latest["x"] == -math.inf
    assert math.isnan(latest["only_nan"])
    assert latest["np"] == 2.5
    assert mloop.search_runs(params=None)[0].run_id == run_id


BAD_KEYS: list[Any] = ["", "a" * 251, "bad!key", "/leading", "a/../b", "tab\tkey", 5, None]


def test_bad_keys_raise_at_the_call_and_change_nothing(run_id: str, store: SqlStore):
    for key in BAD_KEYS:
        with pytest.raises(InvalidInputError):
            mloop.log_metric(key, 1.0)
        with pytest.raises(InvalidInputError):
            mloop.log_param(key, 1)
        with pytest.raises(InvalidInputError):
            mloop.set_tag(key, "v")
        with pytest.raises(InvalidInputError):
            mloop.log_metrics({"good": 1.0, key: 2.0})
        with pytest.raises(InvalidInputError):
            mloop.set_tags({"good": "v", key: "v"})

    assert pending() == 0
    mloop.flush()
    run = store.runs.get(run_id)
    assert (run.metrics, run.params) == ({}, {})
    assert not [k for k in run.tags if not k.startswith("mloop.")]


def test_a_key_of_exactly_250_characters_is_accepted(run_id: str, store: SqlStore):
    key = "k" * 250
    mloop.log_metric(key, 1.0)
    mloop.log_param(key, 1)
    mloop.set_tag(key, 1)
    mloop.flush()

    run = store.runs.get(run_id)
    assert (run.metrics[key], run.params[key], run.tags[key]) == (1.0, "1", "1")


def test_metric_values_that_are_not_real_numbers_raise_at_the_call(run_id: str, store: SqlStore):
    for value in [True, False, np.bool_(True), "1.0", b"1", None, [1.0], 1j]:
        with pytest.raises(InvalidInputError, match="must be a number"):
            mloop.log_metric("m", value)  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError):
            mloop.log_metrics({"ok": 1.0, "m": value})  # type: ignore[dict-item]

    assert pending() == 0
    mloop.flush()
    assert store.runs.get(run_id).metrics == {}


BAD_STEPS_AND_TIMESTAMPS: list[tuple[Any, Any]] = [
    ("1", None),
    (1.5, None),
    (True, None),
    (2**63, None),
    (-(2**63) - 1, None),
    (0, -1),
    (0, 1.5),
    (0, "1"),
]


def test_bad_steps_and_timestamps_raise_at_the_call(run_id: str, store: SqlStore):
    for step, timestamp_ms in BAD_STEPS_AND_TIMESTAMPS:
        with pytest.raises(InvalidInputError):
            mloop.log_metric("m", 1.0, step, timestamp_ms=timestamp_ms)
        with pytest.raises(InvalidInputError):
            mloop.log_metrics({"m": 1.0}, step, timestamp_ms=timestamp_ms)

    assert pending() == 0
    mloop.log_metric("m", 1.0, 2**63 - 1)
    mloop.flush()
    mloop.log_metric("m", 1.0, -(2**63))
    mloop.flush()
    assert [p.step for p in store.runs.get_metric_history(run_id, "m")] == [-(2**63), 2**63 - 1]


def test_an_integral_float_step_is_stored_as_an_integer(run_id: str, store: SqlStore):
    mloop.log_metric("m", 1.0, 3.0)  # type: ignore[arg-type]
    mloop.flush()

    assert store.runs.get_metric_history(run_id, "m")[0].step == 3


def test_log_metrics_stores_all_points_at_one_step_and_time(run_id: str, store: SqlStore):
    mloop.log_metrics({"a": 1.0, "b": 2, "c": float("inf")}, step=7, timestamp_ms=123)
    mloop.flush()

    for key, value in [("a", 1.0), ("b", 2.0), ("c", math.inf)]:
        assert store.runs.get_metric_history(run_id, key) == [Metric(key, value, 123, 7)]


def test_log_metrics_validates_all_before_queueing_any(run_id: str, store: SqlStore):
    with pytest.raises(InvalidInputError):
        mloop.log_metrics({"first": 1.0, "second": 2.0, "third": "three"})  # type: ignore[dict-item]

    assert pending() == 0
    mloop.flush()
    assert store.runs.get_metric_history(run_id, "first") == []


# Tags ----------------------------------------------------------------------------------------


def test_set_tag_overwrites_and_set_tags_sets_several(run_id: str, store: SqlStore):
    mloop.set_tag("stage", "dev")
    mloop.set_tag("stage", "prod")
    mloop.set_tags({"team": "risk", "version": 2})
    mloop.flush()

    tags = store.runs.get(run_id).tags
    assert (tags["stage"], tags["team"], tags["version"]) == ("prod", "risk", "2")


def test_set_tags_refuses_a_too_long_value_and_queues_nothing(run_id: str, store: SqlStore):
    mloop.set_tag("fits", "t" * 8000)
    mloop.flush()

    with pytest.raises(InvalidInputError, match="8001"):
        mloop.set_tags({"ok": "v", "long": "t" * 8001})

    assert pending() == 0
    tags = store.runs.get(run_id).tags
    assert tags["fits"] == "t" * 8000
    assert "ok" not in tags


# Write errors --------------------------------------------------------------------------------


def test_a_write_error_is_raised_on_flush_once(run_id: str, store: SqlStore):
    mloop.log_metric("before", 1.0)
    mloop.flush()
    store.runs.delete(run_id, actor="someone-else")

    mloop.log_metric("after", 2.0)
    with pytest.raises(RunNotActiveError) as caught:
        mloop.flush()

    assert caught.value.run_id == run_id
    mloop.flush()  # reported once, then cleared
    store.runs.restore(run_id, actor="test")
    assert store.runs.get_metric_history(run_id, "after") == []


def test_a_write_error_is_raised_at_run_end_and_the_run_still_ends(store: SqlStore):
    run = mloop.start_run()
    mloop.flush()
    store.runs.delete(run.run_id, actor="someone-else")
    mloop.log_metric("lost", 1.0)

    with pytest.raises(RunNotActiveError):
        mloop.end_run()

    assert mloop.active_run() is None
    assert store.runs.get(run.run_id).status.is_terminal


def test_a_write_error_is_raised_on_the_next_logging_call(run_id: str, store: SqlStore):
    mloop.flush()
    store.runs.delete(run_id, actor="someone-else")
    mloop.log_metric("lost", 1.0)
    deadline = time.monotonic() + 30
    while get_queue().pending and time.monotonic() < deadline:
        time.sleep(0.01)

    with pytest.raises(RunNotActiveError):
        mloop.log_metric("next", 1.0)  # reports the earlier failure; "next" itself is queued
    with pytest.raises(RunNotActiveError):
        mloop.flush()  # "next" went to the same deleted run, so it failed too
    mloop.flush()  # each error surfaced once and is cleared

    store.runs.restore(run_id, actor="test")
    mloop.log_metric("later", 1.0)
    mloop.flush()
    assert store.runs.get(run_id).metrics == {"later": 1.0}


# Artifacts -----------------------------------------------------------------------------------


def artifacts_of(store: SqlStore, run_id: str) -> RunArtifacts:
    return RunArtifacts.of(store, run_id)


def only_environment(artifacts: RunArtifacts) -> bool:
    """True when the run has no artifacts besides those it records on its own."""
    return [a.path for a in artifacts.list()] == ["environment"]


def no_temporary_files(root: Path) -> bool:
    """No blob store leftovers: temporary files go once their blob is in place."""
    return not list(root.rglob(".mloop-tmp-*")) and not list(root.glob("tmp/*"))


def test_log_artifact_copies_a_file_under_the_artifact_path(
    run_id: str, store: SqlStore, tmp_path: Path
):
    source = tmp_path / "model.bin"
    source.write_bytes(b"\x00weights")

    assert mloop.log_artifact(source) == "model.bin"
    assert mloop.log_artifact(str(source), "models/v1") == "models/v1/model.bin"

    artifacts = artifacts_of(store, run_id)
    assert artifacts.read_bytes("model.bin") == b"\x00weights"
    assert artifacts.read_bytes("models/v1/model.bin") == b"\x00weights"
    assert no_temporary_files(Path(store.artifact_root))
    # The same bytes under two paths are stored once.
    # Two logged files beside the environment's (requirements, plus a diff in a dirty checkout).
    logged = [f.path for f in artifacts.files() if not f.path.startswith("environment/")]
    assert sorted(logged) == ["model.bin", "models/v1/model.bin"]
    assert len({f.digest for f in artifacts.files() if f.path.endswith("model.bin")}) == 1


def test_log_artifacts_copies_a_folder_recursively(run_id: str, store: SqlStore, tmp_path: Path):
    folder = tmp_path / "report"
    (folder / "plots").mkdir(parents=True)
    (folder / "index.html").write_text("<h1>hi</h1>")
    (folder / "plots" / "roc.svg").write_text("<svg/>")

    assert mloop.log_artifacts(folder, "report") == 2

    artifacts = artifacts_of(store, run_id)
    assert artifacts.read_bytes("report/index.html") == b"<h1>hi</h1>"
    assert artifacts.read_bytes("report/plots/roc.svg") == b"<svg/>"


def test_log_text_and_log_dict_write_files(run_id: str, store: SqlStore):
    data = {"b": 1, "a": [1.5, "x"], "nested": {"ok": True}, "text": "é"}

    assert mloop.log_text("héllo\n", "notes/readme.txt") == "notes/readme.txt"
    mloop.log_dict(data, "config.json")
    mloop.log_dict(data, "config.yaml")
    mloop.log_dict(data, "nested/config.yml")

    artifacts = artifacts_of(store, run_id)
    assert artifacts.read_bytes("notes/readme.txt").decode("utf-8") == "héllo\n"
    assert json.loads(artifacts.read_bytes("config.json")) == data
    assert yaml.safe_load(artifacts.read_bytes("config.yaml")) == data
    assert yaml.safe_load(artifacts.read_bytes("nested/config.yml")) == data
    assert list(yaml.safe_load(artifacts.read_bytes("config.yaml"))) == ["b", "a", "nested", "text"]


def test_log_dict_refuses_data_it_cannot_serialise(run_id: str, store: SqlStore):
    with pytest.raises(InvalidInputError, match="serialise"):
        mloop.log_dict({"when": object()}, "bad.json")
    with pytest.raises(InvalidInputError, match="serialise"):
        mloop.log_dict({"when": object()}, "bad.yaml")

    assert only_environment(artifacts_of(store, run_id))


def test_log_figure_refuses_an_object_that_is_not_a_figure(run_id: str, store: SqlStore):
    with pytest.raises(InvalidInputError, match="figure"):
        mloop.log_figure({"not": "a figure"}, "plot.png")

    assert only_environment(artifacts_of(store, run_id))


def test_log_figure_saves_a_matplotlib_figure(run_id: str, store: SqlStore):
    matplotlib: Any = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    plt: Any = importlib.import_module("matplotlib.pyplot")

    figure, axes = plt.subplots()
    axes.plot([0, 1], [1, 0])
    mloop.log_figure(figure, "plots/line.png")
    mloop.log_figure(figure, "plots/line.svg")
    plt.close(figure)

    artifacts = artifacts_of(store, run_id)
    assert artifacts.read_bytes("plots/line.png").startswith(b"\x89PNG")
    assert b"<svg" in artifacts.read_bytes("plots/line.svg")


BAD_ARTIFACT_PATHS = [
    "../x.txt",
    "/abs.txt",
    "a/../../b.txt",
    "a\\b.txt",
    "..",
    "a/../..",
    "a\x00b",
]


def test_artifact_paths_that_escape_raise_and_write_nothing(
    run_id: str, store: SqlStore, tmp_path: Path
):
    source = tmp_path / "f.txt"
    source.write_text("x")
    before = sorted(p for p in tmp_path.rglob("*") if p.is_file())

    for bad_path in BAD_ARTIFACT_PATHS:
        with pytest.raises(InvalidInputError):
            mloop.log_text("x", bad_path)
        with pytest.raises(InvalidInputError):
            mloop.log_dict({"a": 1}, bad_path)
        with pytest.raises(InvalidInputError):
            mloop.log_artifact(source, bad_path)
        with pytest.raises(InvalidInputError):
            mloop.log_artifacts(tmp_path / "work", bad_path)

    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == before
    assert not Path("/abs.txt").exists()
