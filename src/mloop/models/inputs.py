"""Prediction input turned into named numpy columns and checked against a signature.

Accepted inputs: a data frame (pandas or anything with `columns` whose columns have
`to_numpy()`, e.g. Polars), a dict of columns (lists, arrays or single values for one row), a
list of records (dicts), or a 2-D array or list of rows, whose columns are taken in the
signature's order. Only numpy is needed: pandas is never imported here, so the ONNX path stays
light for callers that send plain dicts.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mloop.errors import ModelInputError

if TYPE_CHECKING:
    import numpy as np

    from mloop.models.signature import ColumnSpec, Signature

Columns = dict[str, "np.ndarray[Any, Any]"]

# Kinds of numpy dtype a column of each signature type accepts: the same kind, or a safe
# widening (integers into floating point). A float64 input for a float32 column is accepted
# because JSON has only one number type.
_ACCEPTED_KINDS = {
    "boolean": "b",
    "integer": "iu",
    "long": "iu",
    "float": "iuf",
    "double": "iuf",
    "string": "US",
}
_KIND_NAMES = {
    "b": "boolean",
    "i": "integer",
    "u": "integer",
    "f": "floating-point",
    "U": "string",
    "S": "bytes",
}


class ModelInputWarning(UserWarning):
    """Prediction input had something the model does not use (extra columns), which was dropped."""


def to_columns(data: Any, signature: Signature | None = None) -> Columns:
    """Named columns of `data`, as numpy arrays of equal length.

    Args:
        data: a data frame, dict of columns, list of records, or 2-D array / list of rows.
        signature: names the columns of positional input (arrays, rows).

    Raises:
        ModelInputError: the data has no column names and no signature gives them, columns
            differ in length, or a record lacks a column.
    """
    import numpy as np

    if isinstance(data, Mapping):
        columns = {str(k): _as_column(v) for k, v in data.items()}
    elif hasattr(data, "columns") and hasattr(data, "__getitem__"):
        columns = {str(c): np.asarray(data[c].to_numpy()) for c in data.columns}
    elif isinstance(data, list | tuple) and data and isinstance(data[0], Mapping):
        columns = _records_to_columns(data)
    else:
        # Rows of Python values may mix types: keep each value as it is (object), so a row of
        # [30, "Oslo"] does not turn 30 into the string "30".
        array = data if isinstance(data, np.ndarray) else np.asarray(data, dtype=object)
        columns = _positional_columns(array, signature)
    _check_lengths(columns)
    return columns


def _as_column(values: Any) -> np.ndarray[Any, Any]:
    import numpy as np

    column = np.asarray(values)
    return column.reshape(1) if column.ndim == 0 else column


def _records_to_columns(records: list[Any] | tuple[Any, ...]) -> Columns:
    import numpy as np

    names = list(records[0])
    known = set(names)
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise ModelInputError("<record>", f"#{index} is a {type(record).__name__}, not a dict")
        if record.keys() != known:
            missing = sorted(known.difference(record), key=str)
            if missing:
                raise ModelInputError(
                    str(missing[0]), f"is missing from record #{index}; every record needs it"
                )
            extra = sorted(set(record).difference(known), key=str)
            raise ModelInputError(str(extra[0]), f"is in record #{index} but not in record #0")
    return {str(n): np.asarray([r[n] for r in records]) for n in names}


def _positional_columns(array: np.ndarray[Any, Any], signature: Signature | None) -> Columns:
    if array.ndim != 2:
        raise ModelInputError(
            "<input>",
            f"is a {array.ndim}-D array; pass a 2-D array (rows x columns), a data frame, "
            "a dict of columns or a list of records",
        )
    if signature is None:
        return {f"x{i}": array[:, i] for i in range(array.shape[1])}
    names = signature.input_names
    if array.shape[1] != len(names):
        raise ModelInputError(
            "<input>",
            f"has {array.shape[1]} columns but the model takes {len(names)} ({', '.join(names)})",
        )
    return {name: array[:, i] for i, name in enumerate(names)}


def _check_lengths(columns: Columns) -> None:
    lengths = {name: len(values) for name, values in columns.items()}
    if len(set(lengths.values())) > 1:
        first = next(iter(lengths))
        odd = next(n for n, size in lengths.items() if size != lengths[first])
        raise ModelInputError(
            odd, f"has {lengths[odd]} values but column {first!r} has {lengths[first]}"
        )


def check_columns(columns: Columns, signature: Signature) -> Columns:
    """The signature's input columns, in its order, converted to its types.

    Extra columns are dropped with a `ModelInputWarning`; integers are widened to floating
    point where the signature wants it.

    Raises:
        ModelInputError: a column is missing or has values of the wrong type (named).
    """
    checked: Columns = {}
    for spec in signature.inputs:
        values = columns.get(spec.name)
        if values is None:
            raise ModelInputError(
                spec.name,
                f"is missing; the model takes {', '.join(signature.input_names)} "
                "(its signature is in mloop-model.yaml)",
            )
        checked[spec.name] = convert_column(spec, values)
    extra = [name for name in columns if signature.input(name) is None]
    if extra:
        warnings.warn(
            f"input columns {', '.join(repr(n) for n in extra)} are not in the model's "
            "signature and were dropped",
            ModelInputWarning,
            stacklevel=3,
        )
    return checked


def convert_column(spec: ColumnSpec, values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """One column converted to its signature type, or a ModelInputError naming it."""
    kind = values.dtype.kind
    if kind == "O":
        return _convert_objects(spec, values)
    if kind not in _ACCEPTED_KINDS[spec.type]:
        raise _type_error(spec, _KIND_NAMES.get(kind, str(values.dtype)))
    if spec.type == "string":
        return values.astype(object)
    if values.dtype == spec.numpy_dtype:
        return values
    if spec.type in ("integer", "long"):
        _check_integer_range(spec, values)
    return values.astype(spec.numpy_dtype)


def _check_integer_range(spec: ColumnSpec, values: np.ndarray[Any, Any]) -> None:
    import numpy as np

    if not len(values):
        return
    info = np.iinfo(spec.numpy_dtype)
    low, high = int(values.min()), int(values.max())
    if low < info.min or high > info.max:
        raise ModelInputError(
            spec.name, f"has values up to {high if high > info.max else low}, beyond {spec.type}"
        )


def _convert_objects(spec: ColumnSpec, values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Object arrays come from records with None or from data frames; check each value once."""
    import numpy as np

    items = values.tolist()
    kinds = {type(v) for v in items}
    if spec.type == "string":
        if kinds <= {str}:
            return values
        raise _type_error(spec, _describe(kinds - {str}))
    if spec.type == "boolean":
        if kinds <= {bool, np.bool_}:
            return values.astype(bool)
        raise _type_error(spec, _describe(kinds - {bool, np.bool_}))
    allowed: set[type] = {int, float, np.integer, np.floating}
    if spec.type in ("float", "double"):
        allowed.add(type(None))  # a missing number is NaN
    wrong = {k for k in kinds if not issubclass(k, tuple(allowed)) or issubclass(k, bool)}
    if wrong:
        raise _type_error(spec, _describe(wrong))
    if spec.type in ("integer", "long"):
        ints = np.asarray(items)
        if ints.dtype.kind not in "iu":
            raise _type_error(spec, "floating-point")
        _check_integer_range(spec, ints)
        return ints.astype(spec.numpy_dtype)
    return np.asarray(items, dtype=spec.numpy_dtype)


def _describe(kinds: set[type]) -> str:
    names = sorted("missing (None)" if k is type(None) else k.__name__ for k in kinds)
    return " and ".join(names)


def _type_error(spec: ColumnSpec, found: str) -> ModelInputError:
    return ModelInputError(
        spec.name,
        f"has {found} values but the model's signature expects {spec.type}; convert the "
        "column (integers are accepted where floating point is expected, not the reverse)",
    )


def to_matrix(columns: Columns, dtype: str = "float64") -> np.ndarray[Any, Any]:
    """The columns side by side as one 2-D array (rows x columns) of `dtype`."""
    import numpy as np

    values = list(columns.values())
    rows = len(values[0]) if values else 0
    matrix = np.empty((rows, len(values)), dtype=dtype)
    for index, column in enumerate(values):
        matrix[:, index] = column
    return matrix
