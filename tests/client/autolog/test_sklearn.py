"""mloop.sklearn.autolog against a real store: runs, params, metrics, tags, inputs, searches."""

from __future__ import annotations

import inspect
import io
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import mloop
import mloop.sklearn
from mloop.client.autolog.datasets import dataset_digest
from mloop.entities import Run, RunStatus
from mloop.errors import InvalidInputError

CLASSIFIER_METRICS = {
    "training_accuracy_score",
    "training_precision_score",
    "training_recall_score",
    "training_f1_score",
    "training_log_loss",
    "training_roc_auc",
    "training_score",
}


@pytest.fixture(autouse=True)
def autolog() -> Iterator[None]:
    """Autolog on for the test, and the scikit-learn classes restored afterwards."""
    mloop.sklearn.autolog()
    yield
    mloop.sklearn.disable()


@pytest.fixture(scope="module")
def iris() -> tuple[Any, Any]:
    """Iris with standardised features, so logistic regression converges in a few steps."""
    x, y = load_iris(return_X_y=True)
    return (x - x.mean(axis=0)) / x.std(axis=0), y


def all_runs() -> list[Run]:
    return list(mloop.search_runs(order_by=["start_time"]))


def test_fit_logs_params_metrics_tags_and_dataset_in_a_new_finished_run(iris):
    x, y = iris
    model = LogisticRegression(C=0.5, max_iter=300)

    assert model.fit(x, y) is model

    [run] = all_runs()
    assert run.status is RunStatus.FINISHED
    assert run.run_name == "LogisticRegression"
    assert run.params["C"] == "0.5"
    assert run.params["max_iter"] == "300"
    assert set(run.params) == set(model.get_params(deep=True))
    assert set(run.metrics) >= CLASSIFIER_METRICS
    assert run.metrics["training_accuracy_score"] == pytest.approx(model.score(x, y))
    assert run.tags["estimator_name"] == "LogisticRegression"
    assert run.tags["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"
    [dataset] = run.inputs
    assert dataset.digest == dataset_digest(x, y)
    assert dataset.name == f"dataset_{dataset.digest[:8]}"
    assert dataset.context == "training"
    assert mloop.active_run() is None


def test_fit_inside_an_active_run_logs_to_it_and_leaves_it_open(iris):
    x, y = iris
    with mloop.start_run(run_name="mine") as active:
        LogisticRegression(max_iter=300).fit(x, y)
        assert mloop.active_run() is active
        mloop.log_metric("after", 1.0)
    [run] = all_runs()
    assert run.run_id == active.run_id
    assert run.status is RunStatus.FINISHED
    assert {"training_accuracy_score", "after"} <= set(run.metrics)
    assert run.tags["estimator_name"] == "LogisticRegression"


def test_pipeline_logs_one_run_with_its_steps_params(iris):
    x, y = iris
    Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(C=2.0))]).fit(x, y)

    [run] = all_runs()
    assert run.tags["estimator_name"] == "Pipeline"
    assert run.params["clf__C"] == "2.0"
    assert run.params["scale__with_mean"] == "True"
    assert set(run.metrics) >= CLASSIFIER_METRICS


def test_grid_search_logs_a_parent_run_and_child_runs_for_the_best_candidates(iris):
    x, y = iris
    grid = {"C": [0.001, 0.01, 0.1, 1.0, 3.0]}
    search = GridSearchCV(LogisticRegression(max_iter=300), grid, cv=3)
    mloop.sklearn.autolog(max_tuning_runs=3)

    search.fit(x, y)

    runs = all_runs()
    [parent] = [r for r in runs if r.parent_run_id is None]
    children = [r for r in runs if r.parent_run_id is not None]
    assert len(runs) == 4  # the candidates' own fits logged nothing
    assert parent.tags["estimator_name"] == "GridSearchCV"
    assert parent.params["best_C"] == str(search.best_params_["C"])
    assert parent.params["estimator__C"] == "1.0"
    assert parent.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    assert "training_accuracy_score" in parent.metrics
    results = search.cv_results_
    best = sorted(range(len(grid["C"])), key=lambda i: (results["rank_test_score"][i], i))[:3]
    assert len(children) == 3
    assert {c.parent_run_id for c in children} == {parent.run_id}
    by_param = {c.params["C"]: c for c in children}
    assert set(by_param) == {str(grid["C"][i]) for i in best}
    for index in best:
        child = by_param[str(grid["C"][index])]
        assert child.status is RunStatus.FINISHED
        assert child.metrics["rank_test_score"] == results["rank_test_score"][index]
        assert child.metrics["mean_test_score"] == pytest.approx(results["mean_test_score"][index])
        assert child.metrics["std_test_score"] == pytest.approx(results["std_test_score"][index])
        assert child.tags["estimator_name"] == "LogisticRegression"
    csv = mloop.MloopClient().read_artifact(parent.run_id, "cv_results.csv").decode()
    table = pd.read_csv(io.StringIO(csv))
    assert len(table) == len(grid["C"])
    assert list(table["rank_test_score"]) == list(results["rank_test_score"])


def test_randomized_search_of_a_pipeline_with_all_candidates_as_children():
    x, y = make_classification(n_samples=200, random_state=0)
    pipeline = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())])
    search = RandomizedSearchCV(
        pipeline, {"clf__C": [0.1, 1.0, 10.0]}, n_iter=3, cv=2, random_state=0
    )
    mloop.sklearn.autolog(max_tuning_runs=None)

    search.fit(x, y)

    runs = all_runs()
    assert len(runs) == 4
    children = [r for r in runs if r.parent_run_id is not None]
    assert sorted(c.params["clf__C"] for c in children) == ["0.1", "1.0", "10.0"]


def test_max_tuning_runs_zero_logs_no_child_runs(iris):
    x, y = iris
    mloop.sklearn.autolog(max_tuning_runs=0)
    GridSearchCV(LogisticRegression(max_iter=300), {"C": [0.1, 1.0]}, cv=2).fit(x, y)
    assert [r.tags["estimator_name"] for r in all_runs()] == ["GridSearchCV"]


def test_a_failing_fit_ends_the_autolog_run_failed_and_raises_the_same_exception(iris):
    x, y = iris
    error = RuntimeError("boom in a step")

    def explode(data: Any) -> Any:
        raise error

    pipeline = Pipeline([("bad", FunctionTransformer(explode)), ("clf", LogisticRegression())])
    with pytest.raises(RuntimeError) as raised:
        pipeline.fit(x, y)

    assert raised.value is error
    [run] = all_runs()
    assert run.status is RunStatus.FAILED
    assert run.tags["mloop.error.type"] == "RuntimeError"
    assert mloop.active_run() is None


def test_a_failing_fit_inside_a_user_run_leaves_the_run_to_the_user():
    bad = np.array([[1.0, np.nan], [2.0, 3.0]])
    with mloop.start_run() as active:
        with pytest.raises(ValueError, match="NaN"):
            LogisticRegression().fit(bad, [0, 1])
        assert mloop.active_run() is active
    assert mloop.get_run(active.run_id).status is RunStatus.FINISHED


def test_disable_restores_the_original_methods_exactly():
    mloop.sklearn.disable()
    originals = {
        "lr_fit": LogisticRegression.fit,
        "pipeline_fit_transform": Pipeline.__dict__["fit_transform"],
        "kmeans_fit_predict": KMeans.fit_predict,
    }
    assert "fit" not in GridSearchCV.__dict__

    mloop.sklearn.autolog()
    assert LogisticRegression.fit is not originals["lr_fit"]
    assert "fit" in GridSearchCV.__dict__
    mloop.sklearn.autolog(disable=True)

    assert LogisticRegression.fit is originals["lr_fit"]
    assert Pipeline.__dict__["fit_transform"] is originals["pipeline_fit_transform"]
    assert KMeans.fit_predict is originals["kmeans_fit_predict"]
    assert "fit" not in GridSearchCV.__dict__
    x, y = make_classification(n_samples=50, random_state=0)
    LogisticRegression().fit(x, y)
    assert all_runs() == []


def test_autolog_twice_wraps_once_and_logs_once(iris):
    x, y = iris
    wrapped = LogisticRegression.fit
    mloop.sklearn.autolog()
    assert LogisticRegression.fit is wrapped

    LogisticRegression(max_iter=300).fit(x, y)

    [run] = all_runs()
    assert len(run.inputs) == 1


def test_wrapped_methods_keep_signatures_and_availability():
    assert "sample_weight" in inspect.signature(LogisticRegression.fit).parameters
    transformer_last = Pipeline([("scale", StandardScaler())])
    assert hasattr(transformer_last, "fit_transform")
    assert not hasattr(transformer_last, "fit_predict")


def test_fit_transform_and_fit_predict_log_once(iris):
    x, _ = iris
    StandardScaler().fit_transform(x)
    labels = KMeans(n_clusters=3, n_init=2, random_state=0).fit_predict(x)

    runs = all_runs()
    assert [r.run_name for r in runs] == ["StandardScaler", "KMeans"]
    assert len(labels) == len(x)
    assert runs[0].inputs[0].digest == dataset_digest(x)
    assert "training_silhouette_score" in runs[1].metrics


def test_regressor_metrics_with_sample_weights():
    x, y = make_regression(n_samples=100, n_features=3, noise=1.0, random_state=0)
    weights = np.linspace(0.5, 1.5, len(y))
    model = LinearRegression().fit(x, y, weights)  # sample_weight passed by position

    [run] = all_runs()
    assert run.metrics["training_root_mean_squared_error"] == pytest.approx(
        run.metrics["training_mean_squared_error"] ** 0.5
    )
    assert {"training_mean_absolute_error", "training_r2_score"} <= set(run.metrics)
    assert run.metrics["training_score"] == pytest.approx(model.score(x, y, sample_weight=weights))


def test_binary_classifier_with_text_labels_gets_every_metric():
    x, y = make_classification(n_samples=200, random_state=0)
    labels = np.where(y == 1, "yes", "no")
    LogisticRegression().fit(pd.DataFrame(x), pd.Series(labels))
    [run] = all_runs()
    assert set(run.metrics) >= CLASSIFIER_METRICS


def test_exclusive_logs_nothing_into_user_runs(iris):
    x, y = iris
    mloop.sklearn.autolog(exclusive=True)
    with mloop.start_run() as active:
        LogisticRegression(max_iter=300).fit(x, y)
    assert "estimator_name" not in mloop.get_run(active.run_id).tags
    LogisticRegression(max_iter=300).fit(x, y)
    assert [r.run_name for r in all_runs()][-1] == "LogisticRegression"


def test_a_second_fit_in_one_run_keeps_the_first_params_and_warns(iris):
    x, y = iris
    with mloop.start_run() as active:
        LogisticRegression(C=1.0, max_iter=300).fit(x, y)
        with pytest.warns(mloop.sklearn.AutologWarning, match="'C'"):
            LogisticRegression(C=2.0, max_iter=300).fit(x, y)
    assert mloop.get_run(active.run_id).params["C"] == "1.0"


def test_a_run_deleted_mid_fit_does_not_break_fit(iris):
    x, y = iris

    deleted: list[str] = []

    def delete_active_run(data: Any) -> Any:
        active = mloop.active_run()
        if active is not None and not deleted:
            mloop.delete_run(active.run_id)
            deleted.append(active.run_id)
        return data

    pipeline = Pipeline(
        [
            ("sneaky", FunctionTransformer(delete_active_run)),
            ("clf", LogisticRegression(max_iter=300)),
        ]
    )
    with pytest.warns(mloop.sklearn.AutologWarning, match="Pipeline"):
        fitted = pipeline.fit(x, y)

    assert fitted is pipeline
    assert pipeline.predict(x).shape == y.shape
    assert len(deleted) == 1
    assert mloop.active_run() is None


def test_an_unusable_store_does_not_break_fit(iris, tmp_path):
    x, y = iris
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    mloop.set_tracking_uri(f"sqlite:///{blocker / 'mloop.db'}")

    with pytest.warns(mloop.sklearn.AutologWarning, match="a new run"):
        model = LogisticRegression(max_iter=300).fit(x, y)

    assert model.score(x, y) > 0.9


def test_silent_hides_the_warning(iris, tmp_path):
    x, y = iris
    mloop.sklearn.autolog(silent=True)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    mloop.set_tracking_uri(f"sqlite:///{blocker / 'mloop.db'}")
    LogisticRegression(max_iter=300).fit(x, y)  # warnings are errors in this suite


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"log_post_training_metrics": True}, "log_post_training_metrics"),
        ({"max_tuning_runs": -1}, "max_tuning_runs"),
        ({"max_tuning_runs": 2.5}, "max_tuning_runs"),
    ],
)
def test_options_not_available_are_refused_clearly(options, field):
    with pytest.raises(InvalidInputError) as raised:
        mloop.sklearn.autolog(**options)
    assert raised.value.field == field


def test_importing_mloop_sklearn_does_not_import_sklearn():
    code = "import sys, mloop.sklearn; print('sklearn' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"


def test_multi_metric_search_without_refit_ranks_by_the_first_metric(iris):
    x, y = iris
    search = GridSearchCV(
        LogisticRegression(max_iter=300),
        {"C": [0.01, 1.0]},
        cv=2,
        scoring={"acc": "accuracy", "f1": "f1_macro"},
        refit=False,
    )
    search.fit(x, y)  # no best estimator: no training metrics, no best params, no warning

    runs = all_runs()
    [parent] = [r for r in runs if r.parent_run_id is None]
    assert not any(k.startswith("best_") for k in parent.params)
    assert not any(k.startswith("training_") for k in parent.metrics)
    children = [r for r in runs if r.parent_run_id is not None]
    assert {c.metrics["rank_test_acc"] for c in children} == {1.0, 2.0}
    assert all("mean_test_f1" in c.metrics for c in children)


def test_params_with_keys_mloop_cannot_store_are_left_out(iris):
    x, y = iris
    Pipeline([("scale:z", StandardScaler()), ("clf", LogisticRegression())]).fit(x, y)
    [run] = all_runs()
    assert "clf__C" in run.params
    assert not any(k.startswith("scale:z") for k in run.params)


def test_log_models_logs_a_loadable_package_into_the_fit_run(iris):
    x, y = iris
    mloop.sklearn.autolog(log_models=True)
    model = LogisticRegression(max_iter=300).fit(x, y)

    (run,) = all_runs()
    loaded = mloop.load_model(f"runs:/{run.run_id}/model")
    assert loaded.backend == "onnx"
    assert np.array_equal(loaded.predict(x), model.predict(x))
    example = loaded.package.input_example()
    assert example is not None
    assert len(example["x0"]) == 5
    assert loaded.package.source_run == f"runs:/{run.run_id}/model"


def test_log_models_logs_a_search_best_estimator_and_skips_transformers(iris):
    x, y = iris
    frame = pd.DataFrame(x, columns=["sl", "sw", "pl", "pw"])
    mloop.sklearn.autolog(log_models=True, max_tuning_runs=0)
    search = GridSearchCV(LogisticRegression(max_iter=300), {"C": [0.1, 1.0]}, cv=2).fit(frame, y)
    StandardScaler().fit(frame)

    searched, scaled = all_runs()
    loaded = mloop.load_model(f"runs:/{searched.run_id}/model")
    assert loaded.package.model_class.endswith("LogisticRegression")
    assert loaded.signature.input_names == ["sl", "sw", "pl", "pw"]
    assert np.array_equal(loaded.predict(frame), search.predict(frame))
    client = mloop.MloopClient()
    assert client.list_artifacts(scaled.run_id, "model") == []


def test_log_models_with_sparse_training_data_gets_a_dense_example(iris):
    from scipy import sparse

    x, y = iris
    mloop.sklearn.autolog(log_models=True)
    model = LogisticRegression(max_iter=300).fit(sparse.csr_matrix(x), y)

    (run,) = all_runs()
    loaded = mloop.load_model(f"runs:/{run.run_id}/model")
    assert loaded.signature.input_names == ["x0", "x1", "x2", "x3"]
    assert np.array_equal(loaded.predict(x), model.predict(x))
