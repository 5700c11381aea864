"""The export check: an ONNX graph that disagrees with the native model is not verified."""

from __future__ import annotations

import numpy as np
from skl2onnx import to_onnx
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LinearRegression, LogisticRegression

from mloop.models.flavors.onnx import OnnxPredictor, make_session
from mloop.models.flavors.onnx_export import OPSET, verify
from mloop.models.inputs import to_columns


def _predictor(model: object, features: np.ndarray) -> OnnxPredictor:
    options = {id(model): {"zipmap": False}} if hasattr(model, "predict_proba") else None
    graph = to_onnx(model, features[:1], target_opset=OPSET, options=options)
    return OnnxPredictor(make_session(graph.SerializeToString()))


def test_an_export_of_another_classifier_is_not_verified() -> None:
    features, labels = make_classification(300, 4, random_state=0)
    exported = LogisticRegression(C=0.001).fit(features, labels)
    native = LogisticRegression(C=100).fit(features, labels)

    result = verify(native, _predictor(exported, features), to_columns(features))
    assert not result.verified
    assert result.file == ""
    assert result.max_abs_diff is not None
    assert result.max_abs_diff > result.tolerance  # type: ignore[operator]
    assert "differs from the native model's" in result.reason or "other labels" in result.reason


def test_an_export_of_another_regressor_is_not_verified() -> None:
    features, target = make_regression(100, 3, random_state=0)
    exported = LinearRegression().fit(features, target + 5.0)
    native = LinearRegression().fit(features, target)

    result = verify(native, _predictor(exported, features), to_columns(features))
    assert not result.verified
    assert result.compared == "predict"
    assert "differs from the native model's by 5" in result.reason


def test_outputs_of_another_shape_are_not_verified() -> None:
    features, labels = make_classification(
        300, 4, n_informative=3, n_redundant=0, n_classes=3, random_state=0
    )
    exported = LogisticRegression().fit(features, labels)
    native = LogisticRegression().fit(features, labels % 2)

    result = verify(native, _predictor(exported, features), to_columns(features))
    assert not result.verified
    assert "has shape (300, 3), the native model's (300, 2)" in result.reason
