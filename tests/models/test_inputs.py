"""Prediction input: every accepted shape becomes named columns, checked against the signature."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from mloop.errors import ModelInputError
from mloop.models import ColumnSpec, ModelInputWarning, Signature
from mloop.models.inputs import check_columns, convert_column, to_columns, to_matrix

SIGNATURE = Signature(
    (
        ColumnSpec("age", "long"),
        ColumnSpec("income", "double"),
        ColumnSpec("city", "string"),
        ColumnSpec("member", "boolean"),
    )
)


def _checked(data: object) -> dict[str, np.ndarray]:
    return check_columns(to_columns(data, SIGNATURE), SIGNATURE)


def test_frames_dicts_records_and_rows_give_the_same_columns() -> None:
    records = [
        {"age": 30, "income": 1.5, "city": "Oslo", "member": True},
        {"age": 41, "income": 2.0, "city": "Rome", "member": False},
    ]
    shapes = [
        pd.DataFrame(records),
        pl.DataFrame(records),
        {k: [r[k] for r in records] for k in records[0]},
        records,
        [[30, 1.5, "Oslo", True], [41, 2.0, "Rome", False]],
    ]
    for data in shapes:
        columns = _checked(data)
        assert list(columns) == ["age", "income", "city", "member"]
        assert columns["age"].dtype == np.int64
        assert columns["income"].tolist() == [1.5, 2.0]
        assert columns["city"].tolist() == ["Oslo", "Rome"]
        assert columns["member"].tolist() == [True, False]


def test_a_dict_of_single_values_is_one_row() -> None:
    columns = _checked({"age": 3, "income": 1.0, "city": "x", "member": False})
    assert {k: len(v) for k, v in columns.items()} == dict.fromkeys(columns, 1)


def test_missing_column_is_named() -> None:
    with pytest.raises(ModelInputError, match="'income' is missing") as caught:
        _checked({"age": [1], "city": ["x"], "member": [True]})
    assert caught.value.column == "income"
    assert caught.value.field == "income"


def test_wrong_type_is_named_with_what_was_expected() -> None:
    with pytest.raises(ModelInputError, match="'age' has floating-point values") as caught:
        _checked({"age": [1.5], "income": [1.0], "city": ["x"], "member": [True]})
    assert "expects long" in str(caught.value)
    with pytest.raises(ModelInputError, match="'income' has string values"):
        _checked({"age": [1], "income": ["high"], "city": ["x"], "member": [True]})
    with pytest.raises(ModelInputError, match="'city' has integer values"):
        _checked({"age": [1], "income": [1.0], "city": [3], "member": [True]})
    with pytest.raises(ModelInputError, match="'member' has integer values"):
        _checked({"age": [1], "income": [1.0], "city": ["x"], "member": [1]})


def test_integers_widen_to_floating_point() -> None:
    columns = _checked({"age": [1], "income": [7], "city": ["x"], "member": [True]})
    assert columns["income"].dtype == np.float64
    assert columns["income"].tolist() == [7.0]
    float32 = convert_column(ColumnSpec("f", "float"), np.array([1, 2]))
    assert float32.dtype == np.float32


def test_extra_columns_are_dropped_with_a_warning() -> None:
    data = {"age": [1], "income": [1.0], "city": ["x"], "member": [True], "id": [9], "z": [0]}
    with pytest.warns(ModelInputWarning, match="'id', 'z'"):
        columns = _checked(data)
    assert list(columns) == ["age", "income", "city", "member"]


def test_missing_numbers_in_records_become_nan_only_for_floats() -> None:
    records: list[dict[str, object]] = [
        {"age": 1, "income": None, "city": "x", "member": True},
        {"age": 2, "income": 3, "city": "y", "member": False},
    ]
    columns = _checked(records)
    assert np.isnan(columns["income"][0])
    assert columns["income"][1] == 3.0
    records[0]["age"] = None
    with pytest.raises(ModelInputError, match=r"'age' has missing \(None\) values"):
        _checked(records)


def test_object_columns_are_checked_value_by_value() -> None:
    spec = ColumnSpec("n", "long")
    assert convert_column(spec, np.array([1, 2], dtype=object)).dtype == np.int64
    with pytest.raises(ModelInputError, match="floating-point"):
        convert_column(spec, np.array([1, 2.5], dtype=object))
    with pytest.raises(ModelInputError, match="bool"):
        convert_column(spec, np.array([True, 2], dtype=object))
    flags = ColumnSpec("b", "boolean")
    assert convert_column(flags, np.array([True, None], dtype=object)[:1]).dtype == np.bool_
    with pytest.raises(ModelInputError, match="str"):
        convert_column(flags, np.array([True, "no"], dtype=object))
    text = ColumnSpec("s", "string")
    assert convert_column(text, np.array(["a", "b"], dtype=object)).tolist() == ["a", "b"]
    with pytest.raises(ModelInputError, match="int"):
        convert_column(text, np.array(["a", 1], dtype=object))


def test_integer_range_is_checked() -> None:
    with pytest.raises(ModelInputError, match="beyond integer"):
        convert_column(ColumnSpec("n", "integer"), np.array([2**40]))
    with pytest.raises(ModelInputError, match="beyond integer"):
        convert_column(ColumnSpec("n", "integer"), np.array([-(2**40)], dtype=object))
    assert convert_column(ColumnSpec("n", "integer"), np.array([], dtype=np.int64)).size == 0


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(ModelInputError, match="'b' has 1 values but column 'a' has 2"):
        to_columns({"a": [1, 2], "b": [3]})


def test_records_must_share_their_keys() -> None:
    with pytest.raises(ModelInputError, match="'b' is missing from record #1"):
        to_columns([{"a": 1, "b": 2}, {"a": 1}])
    with pytest.raises(ModelInputError, match="'c' is in record #1 but not in record #0"):
        to_columns([{"a": 1}, {"a": 1, "c": 2}])
    with pytest.raises(ModelInputError, match="#1 is a list"):
        to_columns([{"a": 1}, [1]])


def test_positional_input_needs_two_dimensions_and_the_right_width() -> None:
    with pytest.raises(ModelInputError, match="1-D array"):
        to_columns(np.array([1.0, 2.0]), SIGNATURE)
    with pytest.raises(ModelInputError, match="has 2 columns but the model takes 4"):
        to_columns(np.zeros((3, 2)), SIGNATURE)
    assert list(to_columns(np.zeros((1, 2)))) == ["x0", "x1"]


def test_dates_are_not_describable() -> None:
    from mloop.models.signature import column_type

    with pytest.raises(ModelInputError, match="datetime64"):
        column_type("when", np.array(["2026-01-01"], dtype="datetime64[D]"))


def test_to_matrix_puts_columns_side_by_side() -> None:
    matrix = to_matrix({"a": np.array([1, 2]), "b": np.array([3.5, 4.5])})
    assert matrix.tolist() == [[1.0, 3.5], [2.0, 4.5]]
    assert to_matrix({}).shape == (0, 0)
