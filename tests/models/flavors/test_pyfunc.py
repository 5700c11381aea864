"""Python-function flavor: cloudpickle round trip, refused without trust, requirements."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mloop.errors import InvalidInputError, UnsupportedModelError, UntrustedModelError
from mloop.models import load_package, save_model


class Doubler:
    """Predicts twice the sum of a row; probabilities from a logistic of it."""

    classes_ = np.array(["low", "high"])

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        result: np.ndarray = 2 * frame.to_numpy().sum(axis=1)
        return result

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        high = 1 / (1 + np.exp(-frame.to_numpy().sum(axis=1)))
        return np.column_stack([1 - high, high])


def test_round_trip_with_trust(tmp_path: Path) -> None:
    example = pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4]})
    package = save_model(Doubler(), tmp_path / "pkg", input_example=example)

    assert package.flavor == "pyfunc"
    assert package.onnx is None
    assert package.signature is not None
    assert [c.type for c in package.signature.outputs] == ["double"]
    names = {line.split("==")[0] for line in package.requirements}
    # What the pickle refers to, plus what the flavor itself needs to load and feed it.
    assert {"cloudpickle", "pandas"} <= names
    loaded = load_package(package.path, trusted=True)
    assert loaded.predict({"a": [1.0], "b": [2]}).tolist() == [6.0]
    probabilities = loaded.predict_proba([{"a": 0.0, "b": 0}])
    np.testing.assert_allclose(probabilities, [[0.5, 0.5]])
    assert isinstance(loaded.native, Doubler)


def test_loading_a_pickle_needs_trust(tmp_path: Path) -> None:
    package = save_model(Doubler(), tmp_path / "pkg")
    with pytest.raises(UntrustedModelError, match="trusted=True") as caught:
        load_package(package.path)
    assert caught.value.types == ["pickle"]


def test_predict_proba_signature_is_named_after_classes(tmp_path: Path) -> None:
    example = {"a": [0.5], "b": [1]}
    package = save_model(Doubler(), tmp_path / "pkg", input_example=example, method="predict_proba")
    assert package.signature is not None
    assert [c.name for c in package.signature.outputs] == ["low", "high"]


def test_without_a_signature_the_input_is_passed_as_given(tmp_path: Path) -> None:
    class Echo:
        def predict(self, data: Any) -> Any:
            return data

    package = save_model(Echo(), tmp_path / "pkg")
    loaded = load_package(package.path, trusted=True)
    assert loaded.predict("anything") == "anything"
    assert not loaded.has_method("predict_proba")


def test_objects_that_do_not_pickle_or_lack_the_method_are_refused(tmp_path: Path) -> None:
    import threading

    class Locked:
        lock = threading.Lock()

        def __init__(self) -> None:
            self.held = threading.Lock()

        def predict(self, data: Any) -> Any:
            return data

    with pytest.raises(UnsupportedModelError, match="cloudpickle cannot pickle"):
        save_model(Locked(), tmp_path / "pkg")
    with pytest.raises(InvalidInputError, match="no predict_proba"):
        save_model(Locked.__new__(Locked), tmp_path / "pkg2", method="predict_proba")
    assert list(tmp_path.iterdir()) == []
