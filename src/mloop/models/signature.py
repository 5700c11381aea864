"""Model signatures: the input and output columns of a model, their types, the method to serve.

A signature is inferred from an input example (a data frame, a dict of columns, records or a
2-D array) and the model's output on it, or written by hand. It is stored in `mloop-model.yaml`
as plain data (`Signature.to_dict`), and `mloop.models.inputs` checks prediction input against it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mloop.errors import InvalidInputError, ModelInputError

if TYPE_CHECKING:
    import numpy as np

# Column types, named as MLflow names them so its signatures read the same. Each maps to the
# numpy dtype a column is converted to before prediction.
COLUMN_TYPES = ("boolean", "integer", "long", "float", "double", "string")
METHODS = ("predict", "predict_proba")
_NUMPY_DTYPES = {
    "boolean": "bool",
    "integer": "int32",
    "long": "int64",
    "float": "float32",
    "double": "float64",
    "string": "object",
}


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One input or output column.

    Attributes:
        name: the column name.
        type: one of `boolean`, `integer` (32-bit), `long` (64-bit), `float` (32-bit),
            `double` (64-bit), `string`.
    """

    name: str
    type: str

    def __post_init__(self) -> None:
        if self.type not in COLUMN_TYPES:
            raise InvalidInputError(
                f"column {self.name!r} has type {self.type!r}; the types are "
                f"{', '.join(COLUMN_TYPES)}",
                field="signature",
            )

    @property
    def numpy_dtype(self) -> str:
        """The numpy dtype values of this column are converted to."""
        return _NUMPY_DTYPES[self.type]

    @property
    def is_numeric(self) -> bool:
        """True for integer and floating-point columns."""
        return self.type in ("integer", "long", "float", "double")


@dataclass(frozen=True, slots=True)
class Signature:
    """What a model takes and returns.

    Attributes:
        inputs: the input columns, in the order the model was trained with.
        outputs: the columns the served method returns (empty when unknown).
        method: the method to serve, `predict` or `predict_proba`.
    """

    inputs: tuple[ColumnSpec, ...]
    outputs: tuple[ColumnSpec, ...] = ()
    method: str = "predict"
    _by_name: dict[str, ColumnSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InvalidInputError(
                f"signature method {self.method!r} is not one of {', '.join(METHODS)}",
                field="method",
            )
        names = [c.name for c in self.inputs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise InvalidInputError(
                f"signature has the input column {duplicates[0]!r} more than once",
                field="signature",
            )
        object.__setattr__(self, "_by_name", {c.name: c for c in self.inputs})

    @property
    def input_names(self) -> list[str]:
        """The input column names, in order."""
        return [c.name for c in self.inputs]

    def input(self, name: str) -> ColumnSpec | None:
        """The input column called `name`, or None."""
        return self._by_name.get(name)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for YAML or JSON (`from_dict` reads it back)."""
        return {
            "method": self.method,
            "inputs": [{"name": c.name, "type": c.type} for c in self.inputs],
            "outputs": [{"name": c.name, "type": c.type} for c in self.outputs],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signature:
        """Read the form `to_dict` writes.

        Raises:
            InvalidInputError: a column or the method is malformed.
        """
        try:
            inputs = tuple(ColumnSpec(str(c["name"]), str(c["type"])) for c in data["inputs"])
            outputs = tuple(
                ColumnSpec(str(c["name"]), str(c["type"])) for c in data.get("outputs") or ()
            )
        except (KeyError, TypeError) as exc:
            raise InvalidInputError(
                "a signature needs 'inputs' (and may have 'outputs'): lists of "
                "{name, type} mappings",
                field="signature",
            ) from exc
        return cls(inputs, outputs, str(data.get("method", "predict")))


def column_type(name: str, values: np.ndarray[Any, Any]) -> str:
    """The signature type of a column of values.

    Raises:
        ModelInputError: the values are of a type signatures cannot describe (dates, mixed
            objects ...).
    """
    kind = values.dtype.kind
    if kind == "b":
        return "boolean"
    if kind in "iu":
        return "integer" if kind == "i" and values.dtype.itemsize <= 4 else "long"
    if kind == "f":
        return "float" if values.dtype.itemsize <= 4 else "double"
    if kind in "US":
        return "string"
    if kind == "O":
        return _object_column_type(name, values)
    raise ModelInputError(
        name,
        f"has dtype {values.dtype}, which a signature cannot describe; convert it to numbers "
        "or strings first",
    )


def _object_column_type(name: str, values: np.ndarray[Any, Any]) -> str:
    kinds = {type(v) for v in values.tolist() if v is not None}
    if kinds and kinds <= {str}:
        return "string"
    if kinds and kinds <= {bool}:
        return "boolean"
    if kinds and kinds <= {int}:
        return "long"
    if kinds and kinds <= {int, float}:
        return "double"
    raise ModelInputError(
        name,
        f"holds values of types {sorted(k.__name__ for k in kinds) or ['None']}; a column "
        "must hold only numbers, only booleans or only strings",
    )


def infer_signature(
    columns: Mapping[str, np.ndarray[Any, Any]],
    output: Any = None,
    *,
    method: str = "predict",
    output_names: Sequence[str] | None = None,
) -> Signature:
    """Infer a signature from example input columns and, optionally, the model's output on them.

    Args:
        columns: the example's columns by name, in order (see `mloop.models.inputs.to_columns`).
        output: what the served method returned for the example: 1-D (one `prediction` column)
            or 2-D (one column per output, named by `output_names`, else by position).
        method: the method to serve.
        output_names: names of a 2-D output's columns (a classifier's classes, say).

    Raises:
        ModelInputError: a column's type cannot be described.
    """
    import numpy as np

    inputs = tuple(ColumnSpec(name, column_type(name, values)) for name, values in columns.items())
    outputs: tuple[ColumnSpec, ...] = ()
    if output is not None:
        result = np.asarray(output)
        if result.ndim == 1:
            outputs = (ColumnSpec("prediction", column_type("prediction", result)),)
        elif result.ndim == 2:
            names = list(output_names or [str(i) for i in range(result.shape[1])])
            outputs = tuple(
                ColumnSpec(str(n), column_type(str(n), result[:, i])) for i, n in enumerate(names)
            )
    return Signature(inputs, outputs, method)
