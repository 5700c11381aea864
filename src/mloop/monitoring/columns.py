"""Read tables of any supported kind as named columns, one column at a time.

pandas and Polars data frames, Arrow tables and record batches, and paths to Parquet, CSV or Arrow
files are all read through Arrow, column by column, so memory stays bounded by one column's copy.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from mloop.errors import InvalidInputError


class ColumnKind(enum.StrEnum):
    """How drift treats a column."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    UNSUPPORTED = "unsupported"


def kind_of(arrow_type: pa.DataType) -> ColumnKind:
    """The drift kind of an Arrow type.

    Numbers and datetimes are numeric, text and booleans categorical, anything else (lists,
    structs, binary) unsupported.
    """
    types = pa.types
    if types.is_dictionary(arrow_type):
        return kind_of(arrow_type.value_type)
    if types.is_boolean(arrow_type) or types.is_string(arrow_type):
        return ColumnKind.CATEGORICAL
    if types.is_large_string(arrow_type) or types.is_string_view(arrow_type):
        return ColumnKind.CATEGORICAL
    if types.is_integer(arrow_type) or types.is_floating(arrow_type):
        return ColumnKind.NUMERIC
    if types.is_decimal(arrow_type) or types.is_temporal(arrow_type):
        return ColumnKind.NUMERIC
    if types.is_null(arrow_type):
        return ColumnKind.NUMERIC  # all missing: reported as insufficient data
    return ColumnKind.UNSUPPORTED


@dataclass(frozen=True)
class TableColumns:
    """A table seen as named Arrow columns.

    Attributes:
        names: column names in table order.
        row_count: number of rows.
    """

    names: tuple[str, ...]
    row_count: int
    _source: Any

    def column(self, name: str) -> pa.ChunkedArray:
        """One column as an Arrow array (dictionary columns decoded)."""
        values = _column(self._source, name)
        if pa.types.is_dictionary(values.type):
            values = values.cast(values.type.value_type)
        return values

    def select(self, names: list[str]) -> TableColumns:
        """The same table restricted to `names` (no data is copied)."""
        return TableColumns(tuple(names), self.row_count, self._source)

    def __iter__(self) -> Iterator[tuple[str, pa.ChunkedArray]]:
        """Columns in table order, converted one at a time."""
        for name in self.names:
            yield name, self.column(name)


def _column(source: Any, name: str) -> pa.ChunkedArray:
    if isinstance(source, pa.Table):
        return source.column(name)
    series = source[name]
    if type(source).__module__.split(".")[0] == "polars":
        values = series.to_arrow()
    else:
        values = pa.Array.from_pandas(series)
    # pandas' Arrow-backed strings come back chunked already; wrapping that again would make
    # pyarrow convert it value by value (a second per million rows)
    if isinstance(values, pa.ChunkedArray):
        return values
    return pa.chunked_array([values])


def read_columns(data: object) -> TableColumns:
    """Wrap a supported table (or read a file) as `TableColumns` without converting it yet.

    Args:
        data: a pandas or Polars DataFrame, an Arrow Table or RecordBatch, a mapping of column
            names to arrays, or the path of a Parquet, CSV or Arrow IPC file.

    Returns:
        The columns, converted lazily.

    Raises:
        InvalidInputError: the object is of no supported kind, the file cannot be read, or
            column names repeat.
    """
    if isinstance(data, TableColumns):
        return data
    source = _source(data)
    if isinstance(source, pa.Table):
        names = list(source.column_names)
    else:
        names = [str(name) for name in source.columns]
    if len(set(names)) != len(names):
        raise InvalidInputError(
            "column names must be unique; rename the repeated columns", field="columns"
        )
    return TableColumns(tuple(names), len(source), source)


def _source(data: object) -> Any:
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, str | os.PathLike):
        return read_table_file(Path(data))
    if isinstance(data, dict):
        try:
            return pa.table({str(key): value for key, value in data.items()})
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"cannot read a table from the mapping: {exc}", field="data"
            ) from exc
    if type(data).__module__.split(".")[0] == "polars" and hasattr(data, "collect"):
        data = data.collect()  # a LazyFrame: drift needs every value anyway
    is_frame = type(data).__module__.split(".")[0] in ("pandas", "polars")
    if isinstance(data, pa.Table) or (is_frame and hasattr(data, "columns")):
        return data
    raise InvalidInputError(
        f"cannot read a table from a {type(data).__module__}.{type(data).__name__}; pass a "
        "pandas or Polars DataFrame, a pyarrow Table, or a Parquet/CSV/Arrow file path",
        field="data",
    )


def read_table_file(path: Path) -> pa.Table:
    """Read a Parquet, CSV/TSV or Arrow IPC file (memory-mapped where the format allows).

    Raises:
        InvalidInputError: the file is missing, has an unknown suffix or cannot be parsed.
    """
    if not path.is_file():
        raise InvalidInputError(f"data file {str(path)!r} does not exist", field="data")
    name = path.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            import pyarrow.parquet as pq

            return pq.read_table(path, memory_map=True)
        if name.endswith((".csv", ".tsv", ".csv.gz")):
            import pyarrow.csv as pcsv

            delimiter = "\t" if name.endswith(".tsv") else ","
            return pcsv.read_csv(path, parse_options=pcsv.ParseOptions(delimiter=delimiter))
        if name.endswith((".arrow", ".feather", ".ipc")):
            from pyarrow import feather

            return feather.read_table(path, memory_map=True)
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInputError(
            f"cannot read data file {str(path)!r}: {exc}", field="data"
        ) from exc
    raise InvalidInputError(
        f"data file {str(path)!r} has an unknown suffix; use .parquet, .csv, .tsv or .arrow",
        field="data",
    )
