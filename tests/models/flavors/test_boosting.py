"""XGBoost and LightGBM flavors: native formats round trip, detected before scikit-learn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import pandas as pd
import pytest
import xgboost
from sklearn.datasets import make_classification, make_regression

from mloop.errors import InvalidInputError, InvalidModelPackageError
from mloop.models import load_package, save_model
from mloop.models.flavors import detect_flavor


@pytest.fixture(scope="module")
def classification() -> tuple[pd.DataFrame, np.ndarray]:
    features, labels = make_classification(
        300, 4, n_informative=3, n_redundant=0, n_classes=3, random_state=0
    )
    return pd.DataFrame(features, columns=["a", "b", "c", "d"]), labels


@pytest.fixture(scope="module")
def regression() -> tuple[pd.DataFrame, np.ndarray]:
    features, target = make_regression(200, 3, random_state=0)
    return pd.DataFrame(features, columns=["x", "y", "z"]), target


def test_wrappers_are_detected_before_scikit_learn() -> None:
    assert detect_flavor(xgboost.XGBClassifier()) == "xgboost"
    assert detect_flavor(lightgbm.LGBMRegressor()) == "lightgbm"


@pytest.mark.parametrize("kind", ["xgboost", "lightgbm"])
def test_classifiers_round_trip(
    kind: str, classification: tuple[pd.DataFrame, np.ndarray], tmp_path: Path
) -> None:
    frame, labels = classification
    model: Any = (
        xgboost.XGBClassifier(n_estimators=15, max_depth=3)
        if kind == "xgboost"
        else lightgbm.LGBMClassifier(n_estimators=15, verbose=-1)
    ).fit(frame, labels)
    package = save_model(model, tmp_path / "pkg", input_example=frame.head(5))

    assert package.flavor == kind
    assert package.onnx is not None
    assert not package.onnx.verified
    assert any(r.split("==")[0] in (kind, f"{kind}-cpu") for r in package.requirements)
    loaded = load_package(package.path)
    assert loaded.backend == "native"
    assert np.array_equal(loaded.predict(frame), model.predict(frame))
    np.testing.assert_allclose(loaded.predict_proba(frame), model.predict_proba(frame), atol=1e-9)
    records = frame.head(4).to_dict("records")
    assert np.array_equal(loaded.predict(records), model.predict(frame.head(4)))


@pytest.mark.parametrize("kind", ["xgboost", "lightgbm"])
def test_regressors_round_trip(
    kind: str, regression: tuple[pd.DataFrame, np.ndarray], tmp_path: Path
) -> None:
    frame, target = regression
    model: Any = (
        xgboost.XGBRegressor(n_estimators=15)
        if kind == "xgboost"
        else lightgbm.LGBMRegressor(n_estimators=15, verbose=-1)
    ).fit(frame, target)
    package = save_model(model, tmp_path / "pkg", input_example=frame.head(5))

    loaded = load_package(package.path)
    np.testing.assert_allclose(loaded.predict(frame), model.predict(frame), rtol=1e-6)
    assert not loaded.has_method("predict_proba")
    with pytest.raises(InvalidInputError, match="no predict_proba"):
        save_model(model, tmp_path / "other", method="predict_proba")


def test_binary_lightgbm_gives_two_probability_columns(
    classification: tuple[pd.DataFrame, np.ndarray], tmp_path: Path
) -> None:
    frame, labels = classification
    names = np.array(["no", "yes"])[labels % 2]
    model: Any = lightgbm.LGBMClassifier(n_estimators=10, verbose=-1).fit(frame, names)
    package = save_model(
        model, tmp_path / "pkg", input_example=frame.head(5), method="predict_proba"
    )

    assert package.signature is not None
    assert [c.name for c in package.signature.outputs] == ["no", "yes"]
    loaded = load_package(package.path)
    np.testing.assert_allclose(loaded.serve(frame), model.predict_proba(frame), atol=1e-12)
    assert loaded.predict(frame).tolist() == model.predict(frame).tolist()


def test_boosters_round_trip(regression: tuple[pd.DataFrame, np.ndarray], tmp_path: Path) -> None:
    frame, target = regression
    booster = xgboost.train({"max_depth": 2}, xgboost.DMatrix(frame, target), num_boost_round=5)
    lgb_booster = lightgbm.train(
        {"verbose": -1}, lightgbm.Dataset(frame, target), num_boost_round=5
    )
    models: list[Any] = [booster, lgb_booster]
    for index, model in enumerate(models):
        package = save_model(model, tmp_path / f"pkg{index}", input_example=frame.head(3))
        loaded = load_package(package.path)
        expected = model.predict(xgboost.DMatrix(frame) if index == 0 else frame.to_numpy())
        np.testing.assert_allclose(loaded.predict(frame), expected, rtol=1e-6)


def test_other_objects_and_unknown_classes_are_refused(
    regression: tuple[pd.DataFrame, np.ndarray], tmp_path: Path
) -> None:
    import yaml

    frame, target = regression
    with pytest.raises(InvalidInputError, match="xgboost flavor saves"):
        save_model(object(), tmp_path / "a", flavor="xgboost")
    with pytest.raises(InvalidInputError, match="lightgbm flavor saves"):
        save_model(object(), tmp_path / "b", flavor="lightgbm")
    package = save_model(xgboost.XGBRegressor(n_estimators=2).fit(frame, target), tmp_path / "c")
    recorded = yaml.safe_load((package.path / "mloop-model.yaml").read_text())
    recorded["flavor_options"]["wrapper"] = "os.system"
    (package.path / "mloop-model.yaml").write_text(yaml.safe_dump(recorded))
    with pytest.raises(InvalidModelPackageError, match=r"'os\.system' is not one of"):
        load_package(package.path)
