"""Infer a schema from a reference table: types, nullability, ranges, categories, uniqueness.

What is inferred, and with which severity:

- `type` and `nullable: false` (when the reference has no missing value): errors on violation.
- `unique: true` for integer and text columns whose values are all distinct, when the reference
  has at least `min_unique_rows` present values (fewer could be distinct by chance).
- `max_missing_rate` (warning) for nullable columns: the observed rate plus half again, at least
  one percentage point more.
- `range` (warning) for numeric columns: the observed finite min and max.
- `allowed_values` (warning) for text columns with at most `max_categories` distinct values,
  each seen at least twice on average.
- `reference` stats (never checked): missing rate, distinct count, min/max, mean, std, quantiles.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow.compute as pc

from mloop.data.checks import (
    AllowedValuesRule,
    ColumnRule,
    MaxMissingRateRule,
    RangeRule,
    Severity,
)
from mloop.data.jsonable import jsonable, rounded
from mloop.data.schema import ColumnSchema, ColumnStats, Schema
from mloop.data.tables import Column, LogicalType, Table

DEFAULT_QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
# One thread per core at most: more only adds memory traffic (measured on 1M x 50).
_MAX_THREADS = min(8, os.cpu_count() or 1)


def infer_schema(
    data: object,
    *,
    max_categories: int = 20,
    min_unique_rows: int = 50,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    description: str | None = None,
) -> Schema:
    """Infer a schema from a reference table.

    Args:
        data: a pandas or Polars DataFrame, a pyarrow Table, or a Parquet/CSV/Arrow file path.
        max_categories: text columns with at most this many distinct values get an
            `allowed_values` rule.
        min_unique_rows: an all-distinct integer or text column is declared unique only with
            at least this many present values.
        quantiles: the quantiles recorded in each numeric column's reference stats.
        description: free text stored in the schema.

    Returns:
        The schema; `save()` writes it as YAML or JSON for people to edit.

    Raises:
        InvalidInputError: the data cannot be read as a table.
    """
    table = Table.from_data(data)

    def infer(column: Column) -> ColumnSchema:
        return _infer_column(
            column,
            max_categories=max_categories,
            min_unique_rows=min_unique_rows,
            quantiles=quantiles,
        )

    # Columns are independent and NumPy sorts / Arrow kernels release the GIL.
    with ThreadPoolExecutor(max_workers=max(1, min(_MAX_THREADS, len(table.columns)))) as pool:
        columns = tuple(pool.map(infer, table.columns.values()))
    return Schema(columns=columns, description=description, reference_rows=table.row_count)


def _infer_column(
    column: Column, *, max_categories: int, min_unique_rows: int, quantiles: Sequence[float]
) -> ColumnSchema:
    logical_type = column.logical_type
    if logical_type is LogicalType.EMPTY:
        # No value to learn a type from: accept anything, only presence is checked.
        logical_type = LogicalType.OTHER
    missing_rate = column.missing_count / column.row_count if column.row_count else 0.0
    present_count = column.row_count - column.missing_count
    counted = logical_type is not LogicalType.OTHER and present_count > 0
    distinct = column.distinct_count if counted else None
    rules: list[ColumnRule] = []
    if 0 < missing_rate < 1:
        allowed = min(1.0, missing_rate + max(missing_rate / 2, 0.01))
        rules.append(MaxMissingRateRule(math.ceil(allowed * 1000) / 1000, Severity.WARNING))
    bounds = _exact_bounds(column) if logical_type.is_numeric else None
    if bounds is not None:
        rules.append(RangeRule(*bounds, severity=Severity.WARNING))
    stats = _stats(column, missing_rate, distinct, quantiles, bounds)
    if (
        logical_type is LogicalType.STRING
        and distinct is not None
        and distinct <= max_categories
        and present_count >= 2 * distinct
    ):
        categories = sorted(column.value_counts[0].to_pylist())
        rules.append(AllowedValuesRule(tuple(categories), severity=Severity.WARNING))
    unique = (
        logical_type in (LogicalType.INTEGER, LogicalType.STRING)
        and present_count >= min_unique_rows
        and distinct == present_count
    )
    return ColumnSchema(
        name=column.name,
        type=logical_type,
        nullable=column.missing_count > 0 or column.row_count == 0,
        unique=unique,
        checks=tuple(rules),
        reference=stats,
    )


def _stats(
    column: Column,
    missing_rate: float,
    distinct: int | None,
    quantiles: Sequence[float],
    bounds: tuple[float, float] | None,
) -> ColumnStats:
    base: dict[str, Any] = {"missing_rate": rounded(missing_rate), "distinct_count": distinct}
    if column.logical_type is LogicalType.DATETIME and len(column.present) > 0:
        low, high = pc.min_max(column.present).values()
        base.update(min=jsonable(low.as_py()), max=jsonable(high.as_py()))
    if bounds is None:
        return ColumnStats(**base)
    numbers = _finite_sorted(column)
    values = _quantiles(numbers, quantiles)
    return ColumnStats(
        **base,
        min=bounds[0],
        max=bounds[1],
        mean=rounded(float(numbers.mean(dtype=np.float64))),
        std=rounded(float(numbers.std(dtype=np.float64))),
        quantiles={
            _quantile_name(q): float(f"{v:.6g}") for q, v in zip(quantiles, values, strict=True)
        },
    )


def _finite_sorted(column: Column) -> np.ndarray[Any, Any]:
    ordered = column.sorted_present
    if ordered is None:
        return np.zeros(0)
    if column.logical_type is LogicalType.FLOAT:
        # Sorted, so the finite values are one slice between the infinities: no copy.
        start = np.searchsorted(ordered, -np.inf, side="right")
        ordered = ordered[start : np.searchsorted(ordered, np.inf, side="left")]
    return ordered


def _quantiles(ordered: np.ndarray[Any, Any], quantiles: Sequence[float]) -> list[float]:
    """Quantiles of sorted numbers by linear interpolation (NumPy's default method), in O(k)."""
    positions = np.asarray(quantiles, dtype=np.float64) * (ordered.size - 1)
    below = np.floor(positions).astype(np.int64)
    above = np.minimum(below + 1, ordered.size - 1)
    low, high = ordered[below].astype(np.float64), ordered[above].astype(np.float64)
    return list(low + (high - low) * (positions - below))


def _exact_bounds(column: Column) -> tuple[float, float] | None:
    """Finite min and max in the column's own type, unrounded so the reference passes its range.

    None when the column has no finite value.
    """
    numbers = _finite_sorted(column)
    if numbers.size == 0:
        return None
    cast = int if column.logical_type is LogicalType.INTEGER else float
    return cast(numbers[0].item()), cast(numbers[-1].item())


def _quantile_name(q: float) -> str:
    """`p01` for 0.01, `p50` for 0.5, `p99.9` for 0.999."""
    percent = q * 100
    return f"p{int(percent):02d}" if percent == int(percent) else f"p{percent:g}"
