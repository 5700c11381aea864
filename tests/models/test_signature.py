"""Signatures: inference from examples, plain-data round trip, validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mloop.errors import InvalidInputError, ModelInputError
from mloop.models import ColumnSpec, Signature, infer_signature
from mloop.models.inputs import to_columns


def test_types_are_inferred_from_a_data_frame() -> None:
    frame = pd.DataFrame(
        {
            "i32": np.array([1], dtype=np.int32),
            "i64": np.array([1], dtype=np.int64),
            "u8": np.array([1], dtype=np.uint8),
            "f32": np.array([1], dtype=np.float32),
            "f64": [1.0],
            "flag": [True],
            "text": ["a"],
        }
    )
    signature = infer_signature(to_columns(frame))
    assert {c.name: c.type for c in signature.inputs} == {
        "i32": "integer",
        "i64": "long",
        "u8": "long",
        "f32": "float",
        "f64": "double",
        "flag": "boolean",
        "text": "string",
    }
    assert signature.outputs == ()
    assert signature.method == "predict"


def test_object_columns_are_typed_by_their_values() -> None:
    columns = {
        "s": np.array(["a", None], dtype=object),
        "b": np.array([True, False], dtype=object),
        "n": np.array([1, 2], dtype=object),
        "x": np.array([1, 2.5], dtype=object),
    }
    types = {c.name: c.type for c in infer_signature(columns).inputs}
    assert types == {"s": "string", "b": "boolean", "n": "long", "x": "double"}
    with pytest.raises(ModelInputError, match="'mixed' holds values of types"):
        infer_signature({"mixed": np.array([1, "a"], dtype=object)})


def test_outputs_come_from_the_model_output() -> None:
    columns = {"a": np.array([1.0, 2.0])}
    one = infer_signature(columns, np.array([0, 1]))
    assert one.outputs == (ColumnSpec("prediction", "long"),)
    two = infer_signature(
        columns, np.array([[0.2, 0.8], [0.6, 0.4]]), method="predict_proba", output_names=["n", "y"]
    )
    assert [c.name for c in two.outputs] == ["n", "y"]
    assert two.method == "predict_proba"
    unnamed = infer_signature(columns, np.zeros((2, 3)))
    assert [c.name for c in unnamed.outputs] == ["0", "1", "2"]


def test_round_trip_through_plain_data() -> None:
    signature = Signature(
        (ColumnSpec("a", "double"), ColumnSpec("b", "string")),
        (ColumnSpec("prediction", "long"),),
        "predict_proba",
    )
    assert Signature.from_dict(signature.to_dict()) == signature
    assert signature.input("b") == ColumnSpec("b", "string")
    assert signature.input("zzz") is None
    assert ColumnSpec("a", "double").numpy_dtype == "float64"
    assert ColumnSpec("a", "string").is_numeric is False


def test_malformed_signatures_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="type 'decimal'"):
        ColumnSpec("a", "decimal")
    with pytest.raises(InvalidInputError, match="'a' more than once"):
        Signature((ColumnSpec("a", "long"), ColumnSpec("a", "long")))
    with pytest.raises(InvalidInputError, match="method 'transform'"):
        Signature((ColumnSpec("a", "long"),), method="transform")
    with pytest.raises(InvalidInputError, match="needs 'inputs'"):
        Signature.from_dict({"outputs": []})
