"""Fluent `log_model` / `load_model`: packages in runs, registration, every URI form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

import mloop
from mloop.client.registry import set_model_alias
from mloop.errors import (
    AlreadyExistsError,
    InvalidInputError,
    InvalidModelReferenceError,
    ModelNotFoundError,
    ModelPackageNotFoundError,
    RunNotFoundError,
    UntrustedModelError,
)
from mloop.storage.sql.store import SqlStore


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    features, labels = make_classification(200, 4, random_state=1)
    frame = pd.DataFrame(features, columns=["a", "b", "c", "d"])
    frame["label"] = labels
    return frame


def _fit(model: Any, data: pd.DataFrame) -> Any:
    return model.fit(data[["a", "b", "c", "d"]], data["label"])


def test_log_model_writes_a_package_loadable_by_run_uri(data: pd.DataFrame) -> None:
    model = _fit(RandomForestClassifier(20, random_state=0), data)
    features = data[["a", "b", "c", "d"]]
    with mloop.start_run() as run:
        info = mloop.log_model(model, "model", input_example=features.head(10))

    assert info.model_uri == f"runs:/{run.run_id}/model"
    assert info.run_id == run.run_id
    assert info.package.source_run == info.model_uri
    assert info.package.onnx is not None
    assert info.package.onnx.verified
    assert info.registered_version is None
    names = {a.path for a in mloop.MloopClient().list_artifacts(run.run_id, "model")}
    assert {"model/mloop-model.yaml", "model/model.skops", "model/model.onnx"} <= names

    loaded = mloop.load_model(info.model_uri)
    assert loaded.backend == "onnx"
    assert np.array_equal(loaded.predict(features), model.predict(features))
    native = mloop.load_model(info.model_uri, prefer_onnx=False)
    np.testing.assert_allclose(
        loaded.predict_proba(features), native.predict_proba(features), atol=1e-6
    )
    assert loaded.package.digest == info.package.digest


def test_registered_model_loads_by_version_alias_and_latest(data: pd.DataFrame) -> None:
    features = data[["a", "b", "c", "d"]]
    first = _fit(LogisticRegression(), data)
    second = _fit(LogisticRegression(C=0.01), data)
    with mloop.start_run():
        info1 = mloop.log_model(
            first, "model", input_example=features.head(5), registered_model_name="churn"
        )
    with mloop.start_run():
        info2 = mloop.log_model(
            second, "model", input_example=features.head(5), registered_model_name="churn"
        )

    assert info1.registered_version is not None
    assert info2.registered_version is not None
    assert (info1.registered_version.version, info2.registered_version.version) == (1, 2)
    assert info1.registered_version.source == info1.model_uri
    assert info1.registered_version.package_digest == info1.package.digest
    assert info1.registered_version.signature == info1.package.signature.to_dict()  # type: ignore[union-attr]
    set_model_alias("churn", "champion", 1)

    champion = mloop.load_model("models:/churn@champion")
    assert np.array_equal(champion.predict(features), first.predict(features))
    np.testing.assert_allclose(
        champion.predict_proba(features), first.predict_proba(features), atol=1e-9
    )
    by_number = mloop.load_model("models:/churn/2")
    latest = mloop.load_model("models:/churn/latest")
    np.testing.assert_allclose(by_number.predict_proba(features), second.predict_proba(features))
    assert latest.package.digest == info2.package.digest


def test_stage_package_spelling_works(data: pd.DataFrame) -> None:
    import mloop.models

    model = _fit(LogisticRegression(), data)
    with mloop.start_run():
        info = mloop.models.log_model(model, "clf")
    loaded = mloop.models.load_model(info.model_uri)
    features = data[["a", "b", "c", "d"]]
    assert np.array_equal(loaded.predict(features), model.predict(features))


def test_a_second_model_under_the_same_name_is_refused(data: pd.DataFrame, store: SqlStore) -> None:
    model = _fit(LogisticRegression(), data)
    with mloop.start_run() as run:
        info = mloop.log_model(model, "model")
        with pytest.raises(AlreadyExistsError, match="already has artifacts under 'model'"):
            mloop.log_model(_fit(LogisticRegression(C=2.0), data), "model")
    loaded = mloop.load_model(f"runs:/{run.run_id}/model")
    assert loaded.package.digest == info.package.digest


def test_bad_names_and_unknown_registries_change_nothing(data: pd.DataFrame) -> None:
    model = _fit(LogisticRegression(), data)
    with mloop.start_run() as run:
        for bad in ("", ".", "../escape", "/abs"):
            with pytest.raises(InvalidInputError):
                mloop.log_model(model, bad)
        with pytest.raises(InvalidInputError, match="model name 'a/b' is not allowed"):
            mloop.log_model(model, "model", registered_model_name="a/b")
    mloop.flush()
    stored = {a.path for a in mloop.MloopClient().list_artifacts(run.run_id)}
    assert stored <= {"environment"}  # what every run records; no model files


def test_log_model_without_a_run_starts_one(data: pd.DataFrame) -> None:
    model = _fit(LogisticRegression(), data)
    info = mloop.log_model(model)
    active = mloop.active_run()
    assert active is not None
    assert active.run_id == info.run_id
    assert info.artifact_path == "model"


def test_pyfunc_models_need_trust_to_load(data: pd.DataFrame) -> None:
    class Constant:
        def predict(self, frame: pd.DataFrame) -> np.ndarray:
            return np.ones(len(frame))

    with mloop.start_run():
        info = mloop.log_model(Constant(), "const", input_example={"a": [1.0]})
    with pytest.raises(UntrustedModelError, match="trusted=True"):
        mloop.load_model(info.model_uri)
    loaded = mloop.load_model(info.model_uri, trusted=True)
    assert loaded.predict({"a": [1.0, 2.0]}).tolist() == [1.0, 1.0]


def test_uris_that_name_nothing_are_refused_clearly(data: pd.DataFrame) -> None:
    with mloop.start_run() as run:
        mloop.log_text("hello", "notes/readme.txt")
    mloop.flush()
    with pytest.raises(InvalidInputError, match="runs:/<run_id>/<artifact path>"):
        mloop.load_model(f"runs:/{run.run_id}")
    with pytest.raises(ModelPackageNotFoundError):
        mloop.load_model(f"runs:/{run.run_id}/nothing")
    with pytest.raises(ModelPackageNotFoundError):
        mloop.load_model(f"runs:/{run.run_id}/notes")
    with pytest.raises(RunNotFoundError):
        mloop.load_model("runs:/" + "0" * 32 + "/model")
    with pytest.raises(ModelNotFoundError):
        mloop.load_model("models:/nobody/1")
    with pytest.raises(InvalidModelReferenceError):
        mloop.load_model("models:/churn")


def test_local_folders_load_directly(data: pd.DataFrame, tmp_path: Path) -> None:
    from mloop.models import save_model

    model = _fit(LogisticRegression(), data)
    save_model(model, tmp_path / "pkg")
    features = data[["a", "b", "c", "d"]]
    for uri in (tmp_path / "pkg", str(tmp_path / "pkg"), f"file://{tmp_path / 'pkg'}"):
        assert np.array_equal(mloop.load_model(uri).predict(features), model.predict(features))


def test_a_package_is_fetched_from_the_artifact_store_when_not_cached(
    data: pd.DataFrame,
) -> None:
    import shutil

    from mloop.client.models import package_cache

    model = _fit(LogisticRegression(), data)
    with mloop.start_run():
        info = mloop.log_model(model, "model", input_example=data[["a", "b", "c", "d"]].head(3))
    assert info.package.path.parent == package_cache()
    shutil.rmtree(package_cache())

    loaded = mloop.load_model(info.model_uri)
    assert loaded.package.path == info.package.path  # fetched again, under the same digest
    assert loaded.package.digest == info.package.digest
    features = data[["a", "b", "c", "d"]]
    assert np.array_equal(loaded.predict(features), model.predict(features))


def test_a_package_already_in_the_cache_is_kept(tmp_path: Path) -> None:
    from mloop.client.models import _keep

    staged, final = tmp_path / "staged", tmp_path / "final"
    for folder in (staged, final):
        folder.mkdir()
        (folder / "mloop-model.yaml").write_text("x")
    assert _keep(staged, final) == final
    (final / "mloop-model.yaml").unlink()
    (final / "other").write_text("y")
    with pytest.raises(OSError):  # noqa: PT011 - the OS's own error, whatever its subclass
        _keep(staged, final)


def test_log_model_into_an_ended_run_by_id(data: pd.DataFrame) -> None:
    model = _fit(LogisticRegression(), data)
    run = mloop.start_run()
    mloop.end_run()  # the run has ended before its model is logged
    info = mloop.log_model(model, "late", run_id=run.run_id)
    assert info.model_uri == f"runs:/{run.run_id}/late"
    with pytest.raises(RunNotFoundError):
        mloop.log_model(model, "model", run_id="f" * 32)


class _Halver:
    """A python-function model: half the sum of each row."""

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        result: np.ndarray = frame.to_numpy().sum(axis=1) / 2
        return result


@pytest.mark.parametrize("flavor", ["sklearn", "onnx", "pyfunc"])
def test_every_flavor_round_trips_through_the_registry_by_alias(
    flavor: str, data: pd.DataFrame
) -> None:
    from skl2onnx import to_onnx

    features = data[["a", "b", "c", "d"]]
    fitted = _fit(LogisticRegression(), data)
    model: Any = {
        "sklearn": fitted,
        "onnx": to_onnx(fitted, features.to_numpy()[:1], options={id(fitted): {"zipmap": False}}),
        "pyfunc": _Halver(),
    }[flavor]
    expected = fitted.predict(features) if flavor != "pyfunc" else _Halver().predict(features)
    with mloop.start_run():
        info = mloop.log_model(
            model, "model", input_example=features.head(3), registered_model_name=f"m-{flavor}"
        )
    assert info.package.flavor == flavor
    set_model_alias(f"m-{flavor}", "champion", 1)

    loaded = mloop.load_model(f"models:/m-{flavor}@champion", trusted=flavor == "pyfunc")
    np.testing.assert_array_equal(loaded.predict(features), expected)
    np.testing.assert_array_equal(loaded.predict(features.to_dict("records")), expected)


def test_packages_round_trip_through_an_s3_artifact_store(
    data: pd.DataFrame, store_url: str, s3_server: Any
) -> None:
    import shutil

    from mloop.client.models import package_cache

    mloop.set_tracking_uri(store_url, artifact_uri=f"s3://{s3_server.new_bucket()}/root")
    model = _fit(RandomForestClassifier(10, random_state=0), data)
    features = data[["a", "b", "c", "d"]]
    with mloop.start_run():
        info = mloop.log_model(
            model, "model", input_example=features.head(5), registered_model_name="s3-model"
        )
    shutil.rmtree(package_cache())  # a fresh machine: nothing cached, fetched from S3

    loaded = mloop.load_model("models:/s3-model/latest")
    assert loaded.package.digest == info.package.digest
    assert np.array_equal(loaded.predict(features), model.predict(features))
    assert np.array_equal(
        mloop.load_model(info.model_uri, prefer_onnx=False).predict(features),
        model.predict(features),
    )
