"""Request bodies turned into named NumPy columns, and predictions turned into answer bodies.

Body families are read, all into the same `Columns` (name -> 1-D array), column by column:

- mloop's own: `{"inputs": {"col": [..], ...}}` (columns), `{"inputs": [{..}, ..]}` (records)
  or `{"inputs": [[..], ..]}` (rows in signature order).
- MLflow's `/invocations`: `{"dataframe_split": {"columns": [..], "data": [[..]]}}`,
  `{"dataframe_records": [{..}]}`, `{"instances": ..}`, `{"inputs": ..}` (each optionally with
  `"params"`, ignored), or a CSV body with a header row.
- Open Inference Protocol v2 tensors, read in `mloop.serving.oip` with the helpers here.

Rows of numbers become one 2-D float array in a single NumPy call when every column the model
takes is floating point, so `dataframe_split` costs no more than columns. Bodies that are not
what they claim raise `InvalidInputError` naming the field; columns are then checked against
the signature by `check_request` (unknown or missing column: `ModelInputError` naming it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from mloop.errors import InvalidInputError, ModelInputError
from mloop.models.inputs import check_columns, to_columns

if TYPE_CHECKING:
    from mloop.models.inputs import Columns
    from mloop.models.signature import Signature

try:
    import orjson

    def loads(body: bytes) -> Any:
        """Parse JSON bytes (orjson when installed)."""
        return orjson.loads(body)

    _JSON_ERRORS: tuple[type[Exception], ...] = (orjson.JSONDecodeError,)
except ImportError:  # pragma: no cover - orjson ships with mloop[server]
    import json

    def loads(body: bytes) -> Any:
        """Parse JSON bytes (orjson when installed)."""
        return json.loads(body)

    _JSON_ERRORS = (ValueError,)

MLFLOW_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")


def parse_json(body: bytes) -> Any:
    """The JSON value of a body.

    Raises:
        InvalidInputError: the body is empty or not JSON.
    """
    if not body:
        raise InvalidInputError("the request has no body; send JSON", field="body")
    try:
        return loads(body)
    except _JSON_ERRORS as exc:
        raise InvalidInputError(f"the body is not valid JSON ({exc})", field="body") from exc


def read_inputs(value: Any, signature: Signature | None, *, field: str = "inputs") -> Columns:
    """Columns from a dict of columns, a list of records, or a list of rows.

    Raises:
        InvalidInputError: the value is none of these.
        ModelInputError: columns differ in length, or records disagree.
    """
    if isinstance(value, Mapping):
        return to_columns(value)
    if not isinstance(value, list) or not value:
        raise InvalidInputError(
            f"'{field}' must be a dict of columns, a non-empty list of records or of rows",
            field=field,
        )
    first = value[0]
    if isinstance(first, Mapping):
        return to_columns(value)
    if isinstance(first, list):
        return _rows(value, _names_for_rows(signature, field), signature)
    # A flat list: one row when the model takes several columns, else one value per row.
    if signature is not None and len(signature.inputs) == 1:
        return to_columns({signature.inputs[0].name: value})
    return _rows([value], _names_for_rows(signature, field), signature)


def _names_for_rows(signature: Signature | None, field: str) -> list[str]:
    if signature is None:
        raise InvalidInputError(
            f"'{field}' holds rows without column names and the model has no signature; "
            "send a dict of columns or records",
            field=field,
        )
    return signature.input_names


def _rows(rows: list[Any], names: list[str], signature: Signature | None) -> Columns:
    """Rows of values into columns: one float matrix when every column is floating point."""
    width = len(names)
    if signature is not None and all(
        (spec := signature.input(n)) is not None and spec.type in ("float", "double") for n in names
    ):
        try:
            matrix = np.asarray(rows, dtype=np.float64)
        except (TypeError, ValueError):
            matrix = None  # a string among numbers, or ragged rows: checked below
        if matrix is not None and matrix.ndim == 2 and matrix.shape[1] == width:
            return {name: matrix[:, i] for i, name in enumerate(names)}
    for index, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            size = len(row) if isinstance(row, list) else "no"
            raise ModelInputError(
                "<input>",
                f"row #{index} has {size} values but there are {width} columns "
                f"({', '.join(names)})",
            )
    table = np.empty((len(rows), width), dtype=object)
    table[:] = rows
    return {name: _tighten(table[:, i]) for i, name in enumerate(names)}


def _tighten(column: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """An object column of plain Python values as the array NumPy would have made of them."""
    values = column.tolist()
    kinds = {type(v) for v in values}
    if kinds <= {int, float} and kinds:
        return np.asarray(values)
    return column


def parse_mloop(body: bytes, signature: Signature | None) -> Columns:
    """Columns of mloop's own body: `{"inputs": columns | records | rows}`.

    Raises:
        InvalidInputError, ModelInputError: the body is not of that shape.
    """
    return read_mloop(parse_json(body), signature)


def read_mloop(data: Any, signature: Signature | None) -> Columns:
    """Columns of mloop's own body, already parsed from JSON (see `parse_mloop`).

    Raises:
        InvalidInputError, ModelInputError: the body is not of that shape.
    """
    if not isinstance(data, Mapping) or "inputs" not in data:
        raise InvalidInputError(
            'the body must be {"inputs": {column: [values]}} or {"inputs": [records]}',
            field="inputs",
        )
    return read_inputs(data["inputs"], signature)


def parse_mlflow(body: bytes, content_type: str, signature: Signature | None) -> Columns:
    """Columns of an MLflow scoring-server body (JSON or CSV).

    Raises:
        InvalidInputError, ModelInputError: the body is not in one of MLflow's formats.
    """
    if content_type.startswith("text/csv"):
        return parse_csv(body)
    data = parse_json(body)
    keys = [k for k in MLFLOW_KEYS if isinstance(data, Mapping) and k in data]
    if len(keys) != 1:
        raise InvalidInputError(
            "an /invocations body must have exactly one of the keys "
            f"{', '.join(MLFLOW_KEYS)} (MLflow's formats), or be CSV with Content-Type text/csv",
            field="body",
        )
    key = keys[0]
    value = data[key]
    if key == "dataframe_split":
        return _dataframe_split(value, signature)
    if key == "dataframe_records" and not (isinstance(value, list) and value):
        raise InvalidInputError("'dataframe_records' must be a non-empty list", field=key)
    return read_inputs(value, signature, field=key)


def _dataframe_split(value: Any, signature: Signature | None) -> Columns:
    if not isinstance(value, Mapping) or not isinstance(value.get("data"), list):
        raise InvalidInputError(
            '\'dataframe_split\' must be {"columns": [names], "data": [rows]}',
            field="dataframe_split",
        )
    names = value.get("columns")
    if names is None:
        names = _names_for_rows(signature, "dataframe_split")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise InvalidInputError(
            "'dataframe_split.columns' must be a list of column names", field="dataframe_split"
        )
    if not value["data"]:
        raise InvalidInputError("'dataframe_split.data' has no rows", field="dataframe_split")
    return _rows(value["data"], names, signature)


def parse_csv(body: bytes) -> Columns:
    """Columns of a CSV body with a header row (read by Arrow's CSV reader).

    Raises:
        InvalidInputError: the body is not CSV with a header.
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    if not body.strip():
        raise InvalidInputError("the CSV body is empty; send a header row and rows", field="body")
    try:
        table = pa_csv.read_csv(pa.py_buffer(body))
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InvalidInputError(f"the body is not valid CSV ({exc})", field="body") from exc
    return {
        name: _from_arrow(column.combine_chunks())
        for name, column in zip(table.column_names, table.columns, strict=True)
    }


def _from_arrow(array: Any) -> np.ndarray[Any, Any]:
    """A NumPy column from an Arrow array, read from its buffers.

    `to_numpy` would import pandas (pyarrow probes for it), which the ONNX path must not load.
    Numbers are read without a copy; a missing number becomes NaN; text goes through Python.
    """
    import pyarrow as pa

    kind = array.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        dtype = np.dtype(kind.to_pandas_dtype())
        values = np.frombuffer(array.buffers()[1], dtype=dtype)[
            array.offset : array.offset + len(array)
        ]
        if not array.null_count:
            return values
        valid = np.unpackbits(np.frombuffer(array.buffers()[0], dtype=np.uint8), bitorder="little")[
            array.offset : array.offset + len(array)
        ].astype(bool)
        return np.where(valid, values.astype(np.float64), np.nan)
    return np.asarray(array.to_pylist(), dtype=object if not pa.types.is_boolean(kind) else None)


def check_request(columns: Columns, signature: Signature | None) -> Columns:
    """The request's columns checked against the signature, in its order and types.

    Unlike `LoadedModel.predict`, which drops extra columns with a warning, a server refuses
    them: a misspelt column name is a client bug worth a 400, not a silent drop.

    Raises:
        ModelInputError: a column is unknown, missing or of the wrong type (it is named).
    """
    if signature is None:
        return columns
    unknown = [name for name in columns if signature.input(name) is None]
    if unknown:
        raise ModelInputError(
            unknown[0],
            f"is not an input of the model; it takes {', '.join(signature.input_names)}",
        )
    return check_columns(columns, signature)


def row_count(columns: Columns) -> int:
    """How many rows the columns hold."""
    for values in columns.values():
        return len(values)
    return 0


def to_json_values(output: Any) -> Any:
    """Predictions as JSON-ready data: lists of Python numbers and strings."""
    array = np.asarray(output)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        # JSON has no NaN or infinity: send null, as MLflow does.
        cleaned = array.astype(object)
        cleaned[~np.isfinite(array)] = None
        return cleaned.tolist()
    return array.tolist()
