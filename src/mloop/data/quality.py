"""Data-quality summary: per column missing rate, distinct count, min/max/mean, top values."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow.compute as pc

from mloop.data.jsonable import jsonable, rounded
from mloop.data.tables import Column, LogicalType, Table

DEFAULT_TOP_VALUES = 5
# One thread per core at most: more only adds memory traffic (measured on 1M x 50).
_MAX_THREADS = min(8, os.cpu_count() or 1)


@dataclass(frozen=True)
class ValueCount:
    """One frequent value and how often it occurs.

    Attributes:
        value: the value (JSON-safe: dates and times as ISO text).
        count: number of rows holding it.
    """

    value: Any
    count: int


@dataclass(frozen=True)
class ColumnQuality:
    """Quality facts about one column.

    Attributes:
        name: column name.
        type: logical type (`integer`, `float`, `boolean`, `string`, `datetime`, `other`,
            `empty`).
        missing_count: rows with no value (null, or NaN in float columns).
        missing_rate: `missing_count` over the row count (0 for an empty table).
        distinct_count: distinct present values (None for `other` columns).
        min: smallest present value (numbers and datetimes), else None.
        max: largest present value, else None.
        mean: average of present values (numbers and booleans), else None.
        top_values: the most frequent present values, most frequent first.
    """

    name: str
    type: str
    missing_count: int
    missing_rate: float
    distinct_count: int | None
    min: Any = None
    max: Any = None
    mean: float | None = None
    top_values: tuple[ValueCount, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (see `docs/data-validation.md`)."""
        return {
            "name": self.name,
            "type": self.type,
            "missing_count": self.missing_count,
            "missing_rate": self.missing_rate,
            "distinct_count": self.distinct_count,
            "min": self.min,
            "max": self.max,
            "mean": self.mean,
            "top_values": [{"value": item.value, "count": item.count} for item in self.top_values],
        }


@dataclass(frozen=True)
class QualityReport:
    """The quality summary of a table.

    Attributes:
        row_count: number of rows.
        columns: one entry per column, in table order.
    """

    row_count: int
    columns: tuple[ColumnQuality, ...]

    def column(self, name: str) -> ColumnQuality:
        """The entry of column `name`.

        Raises:
            KeyError: the table has no such column.
        """
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (see `docs/data-validation.md`)."""
        return {"row_count": self.row_count, "columns": [c.to_dict() for c in self.columns]}


def profile_quality(data: object, *, top_values: int = DEFAULT_TOP_VALUES) -> QualityReport:
    """Summarise the quality of every column of a table.

    Columns are summarised in parallel threads (Arrow's kernels release the GIL).

    Args:
        data: a pandas or Polars DataFrame, a pyarrow Table, or a Parquet/CSV/Arrow file path.
        top_values: how many of the most frequent values to keep per column.

    Returns:
        The report.

    Raises:
        InvalidInputError: the data cannot be read as a table.
    """
    table = Table.from_data(data)
    columns = list(table.columns.values())
    with ThreadPoolExecutor(max_workers=min(_MAX_THREADS, max(1, len(columns)))) as pool:
        summaries = tuple(pool.map(lambda column: _summarise(column, top_values), columns))
    return QualityReport(row_count=table.row_count, columns=summaries)


def _summarise(column: Column, top: int) -> ColumnQuality:
    rows = column.row_count
    base = ColumnQuality(
        name=column.name,
        type=column.logical_type.value,
        missing_count=column.missing_count,
        missing_rate=column.missing_count / rows if rows else 0.0,
        distinct_count=None,
    )
    if column.logical_type in (LogicalType.OTHER, LogicalType.EMPTY):
        return base
    low, high, mean = _range_and_mean(column)
    return ColumnQuality(
        name=base.name,
        type=base.type,
        missing_count=base.missing_count,
        missing_rate=base.missing_rate,
        distinct_count=column.distinct_count,
        min=low,
        max=high,
        mean=mean,
        top_values=_top(column, top),
    )


def _range_and_mean(column: Column) -> tuple[Any, Any, float | None]:
    ordered = column.sorted_present
    if ordered is None or ordered.size == 0:
        if column.logical_type is LogicalType.BOOLEAN and len(column.present):
            return None, None, rounded(pc.mean(column.present).as_py())
        return None, None, None
    if column.logical_type is LogicalType.DATETIME:
        low, high = pc.min_max(column.present).values()
        return jsonable(low.as_py()), jsonable(high.as_py()), None
    mean = float(np.mean(ordered, dtype=np.float64))
    return jsonable(ordered[0].item()), jsonable(ordered[-1].item()), rounded(mean)


def _top(column: Column, top: int) -> tuple[ValueCount, ...]:
    values, frequencies = column.value_counts
    if top <= 0 or len(frequencies) == 0:
        return ()
    if len(frequencies) > top:
        # Only the `top` largest need sorting: partition first (there can be 1M counts).
        chosen = np.argpartition(-frequencies, top - 1)[:top]
    else:
        chosen = np.arange(len(frequencies))
    pairs = sorted(
        zip(values.take(chosen).to_pylist(), frequencies[chosen].tolist(), strict=True),
        key=lambda pair: (-pair[1], pair[0]),
    )
    return tuple(ValueCount(jsonable(value), int(count)) for value, count in pairs)
