"""Batched, idempotent logging of metrics, params and tags (`sql/batches.py`) on both backends."""

from __future__ import annotations

import math
import uuid

import pytest

from mloop.entities import Metric, Param, RunTag
from mloop.errors import ParamConflictError
from mloop.storage.sql.store import SqlStore
from tests.storage.sql.rows import metric_rows, scalar


@pytest.fixture
def run_id(store: SqlStore) -> str:
    return store.runs.create("0", run_name="batches").run_id


def test_log_batch_writes_metrics_params_and_tags(store: SqlStore, run_id: str) -> None:
    store.runs.log_batch(
        run_id,
        metrics=[Metric("loss", 0.5, 1000, 0), Metric("acc", 0.9, 1000, 0)],
        params=[Param("lr", "0.01"), Param("layers", "3")],
        tags=[RunTag("team", "a")],
    )
    run = store.runs.get(run_id)
    assert run.metrics == {"loss": 0.5, "acc": 0.9}
    assert run.params == {"lr": "0.01", "layers": "3"}
    assert run.tags == {"team": "a"}


def test_an_empty_batch_is_a_no_op(store: SqlStore, run_id: str) -> None:
    store.runs.log_batch(run_id)
    store.runs.log_batch(uuid.uuid4().hex)  # nothing to write, so nothing to look up
    assert store.runs.get(run_id).metrics == {}


def test_resending_the_same_batch_duplicates_nothing(store: SqlStore, run_id: str) -> None:
    batch = {
        "metrics": [Metric("loss", 1.0 / (s + 1), 1000 + s, s) for s in range(50)],
        "params": [Param("lr", "0.01")],
        "tags": [RunTag("t", "v")],
    }
    for _ in range(3):
        store.runs.log_batch(run_id, **batch)  # type: ignore[arg-type]
    assert metric_rows(store, run_id) == 50
    assert len(store.runs.get_metric_history(run_id, "loss")) == 50
    assert scalar(store, "SELECT count(*) FROM params") == 1
    assert scalar(store, "SELECT count(*) FROM tags") == 1
    assert scalar(store, "SELECT count(*) FROM latest_metrics") == 1
    assert scalar(store, "SELECT count(*) FROM metric_keys") == 1


def test_duplicate_points_within_one_batch_are_stored_once(store: SqlStore, run_id: str) -> None:
    point = Metric("loss", 0.5, 1000, 3)
    store.runs.log_batch(run_id, metrics=[point, point, point])
    assert metric_rows(store, run_id) == 1


def test_points_that_differ_only_in_value_are_all_kept(store: SqlStore, run_id: str) -> None:
    store.runs.log_batch(run_id, metrics=[Metric("m", 1.0, 1000, 0), Metric("m", 2.0, 1000, 0)])
    assert sorted(m.value for m in store.runs.get_metric_history(run_id, "m")) == [1.0, 2.0]


def test_same_param_value_twice_is_accepted(store: SqlStore, run_id: str) -> None:
    store.runs.log_batch(run_id, params=[Param("lr", "0.01")])
    store.runs.log_batch(run_id, params=[Param("lr", "0.01"), Param("lr", "0.01")])
    assert store.runs.get(run_id).params == {"lr": "0.01"}


def test_param_conflict_with_stored_value_writes_nothing_of_the_batch(
    store: SqlStore, run_id: str
) -> None:
    store.runs.log_batch(run_id, params=[Param("lr", "0.01")])
    with pytest.raises(ParamConflictError) as caught:
        store.runs.log_batch(
            run_id,
            metrics=[Metric("loss", 0.1, 1000, 0)],
            params=[Param("new", "1"), Param("lr", "0.02")],
            tags=[RunTag("t", "v")],
        )
    error = caught.value
    assert (error.run_id, error.key, error.old_value, error.new_value) == (
        run_id,
        "lr",
        "0.01",
        "0.02",
    )
    run = store.runs.get(run_id)
    assert run.params == {"lr": "0.01"}
    assert run.tags == {}
    assert run.metrics == {}
    assert metric_rows(store, run_id) == 0


def test_param_conflict_inside_one_batch_writes_nothing(store: SqlStore, run_id: str) -> None:
    with pytest.raises(ParamConflictError):
        store.runs.log_batch(
            run_id,
            metrics=[Metric("loss", 0.1, 1000, 0)],
            params=[Param("lr", "1"), Param("lr", "2")],
        )
    assert store.runs.get(run_id).params == {}
    assert metric_rows(store, run_id) == 0


def test_params_of_other_runs_do_not_conflict(store: SqlStore, run_id: str) -> None:
    other = store.runs.create("0", run_name="other").run_id
    store.runs.log_batch(run_id, params=[Param("lr", "1")])
    store.runs.log_batch(other, params=[Param("lr", "2")])
    assert store.runs.get(other).params == {"lr": "2"}


def test_tags_are_overwritten_and_the_last_in_a_batch_wins(store: SqlStore, run_id: str) -> None:
    store.runs.log_batch(run_id, tags=[RunTag("t", "1")])
    store.runs.log_batch(run_id, tags=[RunTag("t", "2"), RunTag("t", "3")])
    assert store.runs.get(run_id).tags == {"t": "3"}


def test_latest_metric_keeps_the_highest_step_when_batches_arrive_out_of_order(
    store: SqlStore, run_id: str
) -> None:
    store.runs.log_batch(run_id, metrics=[Metric("loss", 0.1, 5000, 10)])
    store.runs.log_batch(run_id, metrics=[Metric("loss", 0.9, 9000, 5)])  # older step, newer time
    store.runs.log_batch(run_id, metrics=[Metric("loss", 0.5, 1000, 7), Metric("loss", 0.4, 1, 9)])
    assert store.runs.get(run_id).metrics == {"loss": 0.1}
    assert metric_rows(store, run_id) == 4


def test_latest_metric_breaks_step_ties_by_timestamp(store: SqlStore, run_id: str) -> None:
    store.runs.log_batch(run_id, metrics=[Metric("loss", 0.2, 2000, 3)])
    store.runs.log_batch(run_id, metrics=[Metric("loss", 0.8, 1000, 3)])
    assert store.runs.get(run_id).metrics == {"loss": 0.2}
    store.runs.log_batch(run_id, metrics=[Metric("loss", 0.3, 3000, 3)])
    assert store.runs.get(run_id).metrics == {"loss": 0.3}


def test_latest_metric_within_one_batch_is_its_maximum(store: SqlStore, run_id: str) -> None:
    points = [Metric("m", float(s), 1000 + s, s) for s in (4, 9, 1, 7)]
    store.runs.log_batch(run_id, metrics=points)
    assert store.runs.get(run_id).metrics == {"m": 9.0}


def test_latest_metric_is_per_run_and_per_key(store: SqlStore, run_id: str) -> None:
    other = store.runs.create("0", run_name="other").run_id
    store.runs.log_batch(run_id, metrics=[Metric("a", 1.0, 1, 1), Metric("b", 2.0, 1, 100)])
    store.runs.log_batch(other, metrics=[Metric("a", 3.0, 1, 0)])
    assert store.runs.get(run_id).metrics == {"a": 1.0, "b": 2.0}
    assert store.runs.get(other).metrics == {"a": 3.0}


@pytest.mark.parametrize("value", [math.inf, -math.inf, 0.0, -0.0, 1e-308, 1.7976931348623157e308])
def test_special_and_extreme_floats_round_trip(store: SqlStore, run_id: str, value: float) -> None:
    store.runs.log_batch(run_id, metrics=[Metric("m", value, 1000, 0)])
    assert store.runs.get(run_id).metrics["m"] == value
    assert [m.value for m in store.runs.get_metric_history(run_id, "m")] == [value]


def test_nan_round_trips_as_nan_and_is_never_stored_as_null(store: SqlStore, run_id: str) -> None:
    store.runs.log_batch(
        run_id,
        metrics=[Metric("nan", math.nan, 1000, 0), Metric("zero", 0.0, 1000, 0)],
    )
    run = store.runs.get(run_id)
    assert math.isnan(run.metrics["nan"])
    assert run.metrics["zero"] == 0.0
    assert not math.isnan(run.metrics["zero"])
    (point,) = store.runs.get_metric_history(run_id, "nan")
    assert math.isnan(point.value)
    assert scalar(store, "SELECT count(*) FROM metric_chunks WHERE payload IS NULL") == 0
    assert scalar(store, "SELECT count(*) FROM latest_metrics WHERE value IS NULL") == 0


def test_nan_and_zero_at_the_same_step_are_distinct_points(store: SqlStore, run_id: str) -> None:
    store.runs.log_batch(run_id, metrics=[Metric("m", math.nan, 1000, 0)])
    store.runs.log_batch(run_id, metrics=[Metric("m", 0.0, 1000, 0)])
    store.runs.log_batch(run_id, metrics=[Metric("m", math.nan, 1000, 0)])  # a resend
    values = [m.value for m in store.runs.get_metric_history(run_id, "m")]
    assert len(values) == 2
    assert sum(math.isnan(v) for v in values) == 1
    assert 0.0 in values


def test_a_later_nan_becomes_the_latest_value_and_a_later_number_replaces_it(
    store: SqlStore, run_id: str
) -> None:
    store.runs.log_batch(run_id, metrics=[Metric("m", 1.0, 1000, 0)])
    store.runs.log_batch(run_id, metrics=[Metric("m", math.nan, 1000, 1)])
    assert math.isnan(store.runs.get(run_id).metrics["m"])
    store.runs.log_batch(run_id, metrics=[Metric("m", -math.inf, 1000, 2)])
    assert store.runs.get(run_id).metrics["m"] == -math.inf


def test_batches_of_mlflows_maximum_size_are_written_whole(store: SqlStore, run_id: str) -> None:
    metrics = [Metric(f"m{i % 50}", float(i), 1000 + i, i) for i in range(1000)]
    params = [Param(f"p{i}", "v" * 6000) for i in range(100)]
    tags = [RunTag(f"t{i}", "v" * 8000) for i in range(100)]
    store.runs.log_batch(run_id, metrics=metrics, params=params, tags=tags)
    run = store.runs.get(run_id)
    assert metric_rows(store, run_id) == 1000
    assert len(run.params) == 100
    assert len(run.tags) == 100
    assert run.metrics["m49"] == 999.0
    assert run.params["p7"] == "v" * 6000


def test_metric_keys_are_shared_across_runs_and_stores(
    store: SqlStore, store_url: str, artifact_root: str, run_id: str
) -> None:
    store.runs.log_batch(run_id, metrics=[Metric("shared", 1.0, 1, 0)])
    other = SqlStore(store_url, artifact_root=artifact_root)
    try:
        second = other.runs.create("0", run_name="second").run_id
        other.runs.log_batch(second, metrics=[Metric("shared", 2.0, 1, 0)])
        assert other.runs.get(run_id).metrics == {"shared": 1.0}
    finally:
        other.close()
    assert scalar(store, "SELECT count(*) FROM metric_keys") == 1
    assert store.runs.get(second).metrics == {"shared": 2.0}


def test_a_param_of_the_full_length_with_varied_text_is_stored(
    store: SqlStore, run_id: str
) -> None:
    # Incompressible text: PostgreSQL cannot put such a value in a B-tree index entry.
    value = "".join(uuid.uuid4().hex for _ in range(188))[:6000]
    assert len(value) == 6000
    store.runs.log_batch(run_id, params=[Param("long", value)])
    assert store.runs.get(run_id).params["long"] == value
    assert [r.run_id for r in store.runs.search(None, params={"long": value})] == [run_id]
