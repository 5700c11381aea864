"""The logged-model store (MLflow 3 logged models), on SQLite and PostgreSQL."""

from __future__ import annotations

import math

import pytest

from mloop.entities import LifecycleStage
from mloop.entities.logged_models import LoggedModelLink, LoggedModelMetric, LoggedModelStatus
from mloop.errors import (
    ExperimentNotFoundError,
    InvalidFilterError,
    InvalidInputError,
    LoggedModelNotFoundError,
    ParamConflictError,
)
from mloop.storage.sql.store import SqlStore


def test_a_model_is_created_pending_under_its_experiment_and_finalized(
    store: SqlStore, artifact_root: str
) -> None:
    model = store.logged_models.create(
        "0", name="model", source_run_id="a" * 32, params={"C": "1.0"}, tags={"t": "v"}
    )
    assert model.model_id.startswith("m-")
    assert len(model.model_id) == 34
    assert model.status is LoggedModelStatus.PENDING
    assert model.artifact_location == f"{artifact_root}/0/models/{model.model_id}/artifacts"
    assert (model.params, model.tags, model.source_run_id) == ({"C": "1.0"}, {"t": "v"}, "a" * 32)
    ready = store.logged_models.finalize(model.model_id, LoggedModelStatus.READY)
    assert ready.status is LoggedModelStatus.READY
    assert store.logged_models.get(model.model_id) == ready


def test_tags_params_metrics_and_links_are_stored(store: SqlStore) -> None:
    model_id = store.logged_models.create("0", name="m").model_id
    store.logged_models.set_tags(model_id, {"a": "1", "b": "2"})
    store.logged_models.set_tags(model_id, {"a": "3"})
    store.logged_models.delete_tag(model_id, "b")
    store.logged_models.log_params(model_id, {"p": "x"})
    store.logged_models.log_params(model_id, {"p": "x"})  # the same value again: a no-op
    points = [
        LoggedModelMetric("acc", 0.5, 10, step=1, run_id="b" * 32),
        LoggedModelMetric("acc", math.nan, 11, step=2),
    ]
    store.logged_models.log_metrics(model_id, points)
    store.logged_models.log_metrics(model_id, points)  # re-sent: stored once
    got = store.logged_models.get(model_id)
    assert got.tags == {"a": "3"}
    assert got.params == {"p": "x"}
    assert [(m.key, m.step, m.run_id) for m in got.metrics] == [
        ("acc", 1, "b" * 32),
        ("acc", 2, ""),
    ]
    assert math.isnan(got.metrics[1].value)
    links = [LoggedModelLink("c" * 32, model_id, is_output=True, step=3)]
    store.logged_models.log_links(links)
    store.logged_models.log_links(links)
    assert store.logged_models.links_of(["c" * 32, "d" * 32]) == {"c" * 32: tuple(links)}


def test_bad_input_and_missing_objects_are_refused(store: SqlStore) -> None:
    with pytest.raises(ExperimentNotFoundError):
        store.logged_models.create("999", name="m")
    with pytest.raises(InvalidInputError):
        store.logged_models.create("0", name="m", tags={"bad key!": "v"})
    model_id = store.logged_models.create("0", name="m", params={"p": "1"}).model_id
    with pytest.raises(ParamConflictError):
        store.logged_models.log_params(model_id, {"p": "2"})
    with pytest.raises(LoggedModelNotFoundError):
        store.logged_models.delete_tag(model_id, "absent")
    with pytest.raises(LoggedModelNotFoundError):
        store.logged_models.get("m-" + "0" * 32)
    with pytest.raises(LoggedModelNotFoundError):
        store.logged_models.log_links([LoggedModelLink("c" * 32, "m-nope", is_output=False)])
    assert store.logged_models.get(model_id).params == {"p": "1"}


def test_a_deleted_model_is_hidden_unless_allowed(store: SqlStore) -> None:
    model_id = store.logged_models.create("0", name="m").model_id
    store.logged_models.delete(model_id)
    with pytest.raises(LoggedModelNotFoundError):
        store.logged_models.get(model_id)
    assert store.logged_models.get(model_id, allow_deleted=True).lifecycle_stage is (
        LifecycleStage.DELETED
    )
    assert store.logged_models.search(["0"]) == []
    with pytest.raises(LoggedModelNotFoundError):
        store.logged_models.set_tags(model_id, {"a": "b"})


def test_search_filters_orders_and_pages(store: SqlStore) -> None:
    ids = []
    for i in range(5):
        model = store.logged_models.create(
            "0", name=f"model-{i % 2}", params={"i": str(i)}, tags={"even": str(i % 2 == 0)}
        )
        store.logged_models.log_metrics(model.model_id, [LoggedModelMetric("acc", i / 10, 1)])
        ids.append(model.model_id)
    found = store.logged_models.search(
        ["0"], filter_string="name = 'model-0' AND metrics.acc > 0.1"
    )
    assert sorted(m.model_id for m in found) == sorted([ids[2], ids[4]])
    by_acc = store.logged_models.search(["0"], order_by=[("metrics.acc", False)])
    assert [m.model_id for m in by_acc] == ids[::-1]
    assert [
        m.model_id
        for m in store.logged_models.search(
            ["0"],
            filter_string="tags.even = 'True'",
            order_by=[("name", True), ("metrics.acc", True)],
        )
    ] == [ids[0], ids[2], ids[4]]
    first = store.logged_models.search(["0"], order_by=[("params.i", True)], max_results=2)
    assert [m.params["i"] for m in first] == ["0", "1"]
    second = store.logged_models.search(
        ["0"], order_by=[("params.i", True)], max_results=2, page_token=first.next_page_token
    )
    assert [m.params["i"] for m in second] == ["2", "3"]
    with pytest.raises(InvalidFilterError):
        store.logged_models.search(["0"], page_token=first.next_page_token)
    with pytest.raises(InvalidFilterError):
        store.logged_models.search(["0"], page_token="garbage!")
    with pytest.raises(InvalidFilterError):
        store.logged_models.search(["0"], filter_string="nope = 1")
    with pytest.raises(InvalidFilterError):
        store.logged_models.search(["0"], order_by=[("nope", True)])
    with pytest.raises(InvalidInputError):
        store.logged_models.search(["0"], max_results=0)
