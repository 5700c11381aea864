"""Request bodies into columns: every format gives the same columns; bad bodies name the field."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mloop.errors import InvalidInputError, ModelInputError
from mloop.models.signature import ColumnSpec, Signature
from mloop.serving import oip, payloads

SIGNATURE = Signature(
    (ColumnSpec("age", "double"), ColumnSpec("city", "string"), ColumnSpec("n", "long"))
)
NUMERIC = Signature((ColumnSpec("a", "double"), ColumnSpec("b", "double")))
ROWS = [[30.0, "Oslo", 1], [41.5, "Rome", 2]]
RECORDS = [{"age": 30.0, "city": "Oslo", "n": 1}, {"age": 41.5, "city": "Rome", "n": 2}]
COLUMNS = {"age": [30.0, 41.5], "city": ["Oslo", "Rome"], "n": [1, 2]}


def _checked(columns: dict[str, np.ndarray]) -> dict[str, list[object]]:
    checked = payloads.check_request(columns, SIGNATURE)
    return {name: values.tolist() for name, values in checked.items()}


def _body(value: object) -> bytes:
    return json.dumps(value).encode()


@pytest.mark.parametrize(
    "body",
    [
        {"dataframe_split": {"columns": ["age", "city", "n"], "data": ROWS}},
        {"dataframe_records": RECORDS},
        {"instances": RECORDS},
        {"instances": ROWS},
        {"inputs": COLUMNS},
        {"inputs": RECORDS, "params": {"ignored": 1}},
    ],
)
def test_every_mlflow_format_gives_the_same_columns(body: dict[str, object]) -> None:
    columns = payloads.parse_mlflow(_body(body), "application/json", SIGNATURE)
    assert _checked(columns) == COLUMNS


def test_csv_and_mloop_bodies_give_the_same_columns() -> None:
    csv = b"age,city,n\n30.0,Oslo,1\n41.5,Rome,2\n"
    assert _checked(payloads.parse_mlflow(csv, "text/csv; charset=utf-8", SIGNATURE)) == COLUMNS
    for inputs in (COLUMNS, RECORDS, ROWS):
        assert _checked(payloads.parse_mloop(_body({"inputs": inputs}), SIGNATURE)) == COLUMNS


def test_numeric_rows_become_one_float_matrix() -> None:
    body = _body({"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2.5], [3, 4]]}})
    columns = payloads.parse_mlflow(body, "application/json", NUMERIC)
    assert columns["a"].dtype == np.float64
    assert columns["a"].tolist() == [1.0, 3.0]
    assert columns["b"].base is columns["a"].base  # views of one array, no per-row work


def test_oip_requests_as_one_tensor_per_column_or_one_matrix() -> None:
    per_column = {
        "id": "r1",
        "inputs": [
            {"name": "a", "shape": [2], "datatype": "FP64", "data": [1, 3]},
            {"name": "b", "shape": [2, 1], "datatype": "FP32", "data": [[2.5], [4]]},
        ],
        "outputs": [{"name": "predict"}],
    }
    request = oip.parse_oip(_body(per_column), NUMERIC)
    assert request.request_id == "r1"
    assert request.outputs == ("predict",)
    checked = payloads.check_request(request.columns, NUMERIC)
    assert {k: v.tolist() for k, v in checked.items()} == {"a": [1.0, 3.0], "b": [2.5, 4.0]}
    matrix = {
        "inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP64", "data": [1, 2.5, 3, 4]}]
    }
    request = oip.parse_oip(_body(matrix), NUMERIC)
    assert {k: v.tolist() for k, v in request.columns.items()} == {"a": [1, 3], "b": [2.5, 4]}
    strings = {"inputs": [{"name": "city", "shape": [1], "datatype": "BYTES", "data": ["Oslo"]}]}
    assert oip.parse_oip(_body(strings), SIGNATURE).columns["city"].tolist() == ["Oslo"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"", "body"),
        (b"{not json", "body"),
        (_body({"rows": []}), "body"),
        (_body({"instances": [], "inputs": []}), "body"),
        (_body({"dataframe_split": {"columns": ["a"]}}), "dataframe_split"),
        (_body({"dataframe_records": {}}), "dataframe_records"),
        (_body({"inputs": 3}), "inputs"),
    ],
)
def test_malformed_mlflow_bodies_name_the_field(body: bytes, field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        payloads.parse_mlflow(body, "application/json", SIGNATURE)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ([{"name": "a", "shape": [1], "datatype": "FP99", "data": [1]}], "a"),
        ([{"name": "a", "shape": [3], "datatype": "FP64", "data": [1]}], "a"),
        ([{"name": "a", "shape": "x", "datatype": "FP64", "data": [1]}], "a"),
        ([{"shape": [1], "datatype": "FP64", "data": [1]}], "inputs[0]"),
        ([], "inputs"),
    ],
)
def test_malformed_oip_tensors_name_the_field(inputs: list[object], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        oip.parse_oip(_body({"inputs": inputs}), NUMERIC)
    assert caught.value.field == field


def test_unknown_missing_and_mistyped_columns_are_named() -> None:
    with pytest.raises(ModelInputError, match="'agee' is not an input") as caught:
        payloads.check_request({"agee": np.asarray([1.0])}, SIGNATURE)
    assert caught.value.column == "agee"
    with pytest.raises(ModelInputError, match="'city' is missing"):
        payloads.check_request({"age": np.asarray([1.0])}, SIGNATURE)
    rows = _body({"dataframe_split": {"columns": ["a", "b"], "data": [[1, "x"]]}})
    with pytest.raises(ModelInputError) as caught:
        payloads.check_request(payloads.parse_mlflow(rows, "application/json", NUMERIC), NUMERIC)
    assert caught.value.column == "b"
    with pytest.raises(ModelInputError, match="row #1 has 1 values"):
        payloads.parse_mloop(_body({"inputs": [[1, 2], [3]]}), NUMERIC)


def test_outputs_as_json_and_oip_tensors() -> None:
    assert payloads.to_json_values(np.asarray([1.0, np.nan])) == [1.0, None]
    tensors, _ = oip.oip_outputs(np.asarray([[0.2, 0.8]]), NUMERIC, ())
    assert tensors == [{"name": "predict", "shape": [1, 2], "datatype": "FP64", "data": [0.2, 0.8]}]
    labels, _ = oip.oip_outputs(np.asarray(["yes", "no"]), NUMERIC, ())
    assert labels[0]["datatype"] == "BYTES"
    assert labels[0]["data"] == ["yes", "no"]
    with pytest.raises(InvalidInputError, match="no output 'proba'"):
        oip.oip_outputs(np.asarray([1]), NUMERIC, ("proba",))


def test_triton_binary_tensors_in_and_out() -> None:
    sized, text = {"binary_data_size": 16}, {"binary_data_size": 13}
    header = {
        "inputs": [
            {"name": "a", "shape": [2], "datatype": "FP64", "parameters": sized},
            {"name": "city", "shape": [2], "datatype": "BYTES", "parameters": text},
        ],
        "outputs": [{"name": "predict", "parameters": {"binary_data": True}}],
    }
    head = _body(header)
    data = np.asarray([1.5, 2.5]).tobytes() + b"\x04\x00\x00\x00Oslo\x01\x00\x00\x00R"
    request = oip.parse_oip(head + data, None, header_length=len(head))
    assert request.columns["a"].tolist() == [1.5, 2.5]
    assert request.columns["city"].tolist() == ["Oslo", "R"]
    assert request.binary_outputs
    tensors, binary = oip.oip_outputs(np.asarray([3, 4]), None, (), binary=True)
    assert tensors == [{"name": "predict", "shape": [2], "datatype": "INT64", "parameters": sized}]
    assert np.frombuffer(binary, dtype="<i8").tolist() == [3, 4]
    with pytest.raises(InvalidInputError, match="only 3 bytes"):
        oip.parse_oip(head + data[:3], None, header_length=len(head))
    with pytest.raises(InvalidInputError, match="no tensor claims"):
        oip.parse_oip(head + data + b"xx", None, header_length=len(head))
