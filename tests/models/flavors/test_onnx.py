"""ONNX flavor: a user's ONNX model saved, checked and served by ONNX Runtime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mloop.errors import InvalidInputError, UnsupportedModelError
from mloop.models import load_package, save_model
from tests.models.conftest import Fitted


def _onnx(fitted: Fitted, *, zipmap: bool = False) -> object:
    from skl2onnx import to_onnx

    return to_onnx(
        fitted.model,
        fitted.frame.to_numpy()[:1],
        target_opset={"": 18, "ai.onnx.ml": 3},
        options={id(fitted.model): {"zipmap": zipmap}},
    )


def test_onnx_model_round_trip(logistic: Fitted, tmp_path: Path) -> None:
    graph = _onnx(logistic)
    package = save_model(graph, tmp_path / "pkg", input_example=logistic.frame.head(5))

    assert package.flavor == "onnx"
    assert package.model_class == "onnx.ModelProto"
    assert package.onnx is None  # the model is ONNX: there is nothing to export
    loaded = load_package(package.path)
    frame = logistic.frame
    assert np.array_equal(loaded.predict(frame), logistic.model.predict(frame))
    np.testing.assert_allclose(loaded.predict_proba(frame), logistic.model.predict_proba(frame))
    assert loaded.native is not None  # the ONNX Runtime session


def test_bytes_and_files_are_accepted(logistic: Fitted, tmp_path: Path) -> None:
    data = _onnx(logistic).SerializeToString()  # type: ignore[attr-defined]
    (tmp_path / "m.onnx").write_bytes(data)
    from_bytes = save_model(data, tmp_path / "a", flavor="onnx")
    from_file = save_model(str(tmp_path / "m.onnx"), tmp_path / "b", flavor="onnx")
    assert from_bytes.files["model.onnx"] == from_file.files["model.onnx"]
    # No signature: the raw input's columns are fed in order.
    loaded = load_package(from_bytes.path)
    frame = logistic.frame.head(4)
    assert np.array_equal(loaded.predict(frame), logistic.model.predict(frame))


def test_a_graph_with_one_output_serves_predict_only(regressor: Fitted, tmp_path: Path) -> None:
    from skl2onnx import to_onnx

    graph = to_onnx(regressor.model, regressor.frame.to_numpy()[:1])
    with pytest.raises(InvalidInputError, match="predict only"):
        save_model(graph, tmp_path / "pkg", method="predict_proba")
    package = save_model(graph, tmp_path / "ok", input_example=regressor.frame.head(2))
    loaded = load_package(package.path)
    np.testing.assert_allclose(
        loaded.predict(regressor.frame), regressor.model.predict(regressor.frame), rtol=1e-9
    )


def test_bytes_that_are_not_onnx_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedModelError, match="ONNX Runtime cannot open it"):
        save_model(b"not a graph", tmp_path / "pkg", flavor="onnx")
    assert list(tmp_path.iterdir()) == []


def test_a_graph_with_one_input_per_column(tmp_path: Path) -> None:
    from onnx import TensorProto, helper

    a = helper.make_tensor_value_info("a", TensorProto.DOUBLE, [None, 1])
    b = helper.make_tensor_value_info("b", TensorProto.DOUBLE, [None, 1])
    out = helper.make_tensor_value_info("sum", TensorProto.DOUBLE, [None, 1])
    graph = helper.make_graph([helper.make_node("Add", ["a", "b"], ["sum"])], "add", [a, b], [out])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    package = save_model(model, tmp_path / "pkg", input_example={"a": [1.0], "b": [2.0]})

    loaded = load_package(package.path)
    assert loaded.predict({"a": [1.0, 2.0], "b": [10, 20]}).tolist() == [11.0, 22.0]
    from mloop.models.flavors.onnx import OnnxPredictor

    predictor = OnnxPredictor(loaded.native)
    with pytest.raises(InvalidInputError, match="input column 'b'"):
        predictor.run("predict", {"a": np.array([1.0])}, None)
