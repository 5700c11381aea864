"""Per-column summaries: what drift needs to know about one column of one table.

A numeric column becomes counts of missing and infinite values, moments and a quantile sketch
(exact when built from full data for a direct comparison, compressed in a saved profile); a
categorical column becomes value counts. Summaries merge, so they can be built chunk by chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mloop.errors import InvalidInputError
from mloop.monitoring.columns import ColumnKind, kind_of
from mloop.stats.sketches import Moments, QuantileSketch
from mloop.stats.two_sample import FloatArray

EXACT = 2**62
"""Sketch size that never compresses: summaries of full data are exact."""

MAX_CATEGORIES = 10_000
"""Categories kept per column; rarer ones are counted together as overflow."""


@dataclass(frozen=True)
class NumericSummary:
    """A numeric (or datetime) column.

    Attributes:
        rows: all rows.
        missing: null or NaN rows.
        positive_infinite: rows equal to +inf.
        negative_infinite: rows equal to -inf.
        moments: count, mean and spread of the finite values.
        sketch: quantile sketch of the finite values (None without any).
    """

    rows: int
    missing: int
    positive_infinite: int
    negative_infinite: int
    moments: Moments
    sketch: QuantileSketch | None
    kind: ColumnKind = field(default=ColumnKind.NUMERIC, init=False)

    @property
    def count(self) -> int:
        """Finite values, the ones the tests use."""
        return int(self.moments.count)

    @property
    def infinite(self) -> int:
        """Rows equal to +inf or -inf."""
        return self.positive_infinite + self.negative_infinite

    @property
    def distinct_size(self) -> int | None:
        """Number of distinct finite values, or None once the sketch is compressed."""
        if self.sketch is None:
            return 0
        return int(self.sketch.values.size) if self.sketch.is_exact else None

    def distinct(self) -> dict[str, float] | None:
        """Counts per distinct value (keys are the values as text), or None if compressed."""
        if self.sketch is None:
            return {}
        if not self.sketch.is_exact:
            return None
        return dict(
            zip(map(repr, self.sketch.values.tolist()), self.sketch.weights.tolist(), strict=True)
        )

    def merge(self, other: NumericSummary) -> NumericSummary:
        """The summary of both chunks together."""
        if self.sketch is None or other.sketch is None:
            sketch = self.sketch or other.sketch
        else:
            sketch = self.sketch.merge(other.sketch)
        return NumericSummary(
            self.rows + other.rows,
            self.missing + other.missing,
            self.positive_infinite + other.positive_infinite,
            self.negative_infinite + other.negative_infinite,
            self.moments.merge(other.moments),
            sketch,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "kind": self.kind.value,
            "rows": self.rows,
            "missing": self.missing,
            "positive_infinite": self.positive_infinite,
            "negative_infinite": self.negative_infinite,
            "moments": {
                "count": self.moments.count,
                "mean": self.moments.mean,
                "m2": self.moments.m2,
            },
            "sketch": self.sketch.to_dict() if self.sketch is not None else None,
        }


@dataclass(frozen=True)
class CategoricalSummary:
    """A categorical (text or boolean) column.

    Attributes:
        rows: all rows.
        missing: null rows.
        counts: rows per category (categories as text), at most `MAX_CATEGORIES` of them.
        overflow: rows in categories beyond the kept ones.
    """

    rows: int
    missing: int
    counts: dict[str, float]
    overflow: float = 0.0
    kind: ColumnKind = field(default=ColumnKind.CATEGORICAL, init=False)

    @property
    def count(self) -> int:
        """Present values."""
        return self.rows - self.missing

    @property
    def infinite(self) -> int:
        """Always 0: only numbers can be infinite."""
        return 0

    @property
    def distinct_size(self) -> int:
        """Number of categories (overflow counts as one)."""
        return len(self.counts) + (1 if self.overflow else 0)

    def distinct(self) -> dict[str, float]:
        """Counts per category (overflow included under a reserved key when present)."""
        if self.overflow:
            return {**self.counts, "\x00overflow": self.overflow}
        return dict(self.counts)

    def merge(self, other: CategoricalSummary) -> CategoricalSummary:
        """The summary of both chunks together."""
        counts = dict(self.counts)
        for key, value in other.counts.items():
            counts[key] = counts.get(key, 0.0) + value
        kept, overflow = _cap(counts)
        return CategoricalSummary(
            self.rows + other.rows,
            self.missing + other.missing,
            kept,
            self.overflow + other.overflow + overflow,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "kind": self.kind.value,
            "rows": self.rows,
            "missing": self.missing,
            "counts": self.counts,
            "overflow": self.overflow,
        }


@dataclass(frozen=True)
class UnsupportedSummary:
    """A column drift cannot test (lists, structs, binary ...).

    Attributes:
        rows: all rows.
        missing: null rows.
        type_name: the Arrow type, for the report.
    """

    rows: int
    missing: int
    type_name: str
    kind: ColumnKind = field(default=ColumnKind.UNSUPPORTED, init=False)

    @property
    def count(self) -> int:
        """Present values."""
        return self.rows - self.missing

    @property
    def infinite(self) -> int:
        """Always 0."""
        return 0

    def merge(self, other: UnsupportedSummary) -> UnsupportedSummary:
        """The summary of both chunks together."""
        return UnsupportedSummary(
            self.rows + other.rows, self.missing + other.missing, self.type_name
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "kind": self.kind.value,
            "rows": self.rows,
            "missing": self.missing,
            "type": self.type_name,
        }


Summary = NumericSummary | CategoricalSummary | UnsupportedSummary


def _cap(counts: dict[str, float]) -> tuple[dict[str, float], float]:
    if len(counts) <= MAX_CATEGORIES:
        return counts, 0.0
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    return dict(ranked[:MAX_CATEGORIES]), float(sum(value for _, value in ranked[MAX_CATEGORIES:]))


def numeric_values(values: pa.ChunkedArray) -> FloatArray:
    """A numeric or datetime column as float64 with NaN for missing values."""
    arrow_type = values.type
    if pa.types.is_null(arrow_type):
        return np.full(len(values), np.nan)
    if pa.types.is_date(arrow_type):
        values = values.cast(pa.timestamp("s"))
    if pa.types.is_temporal(values.type):
        values = values.cast(pa.int64())
    if not pa.types.is_floating(values.type):
        values = values.cast(pa.float64())
    return np.asarray(values.to_numpy(), dtype=np.float64)


def summarize_numeric(values: FloatArray, *, sketch_size: int = EXACT) -> NumericSummary:
    """Summarise float values (NaN = missing).

    Args:
        values: the column.
        sketch_size: support points to keep; `EXACT` keeps every distinct value.
    """
    finite_mask = np.isfinite(values)
    finite = values[finite_mask] if not finite_mask.all() else values
    nan = int(np.isnan(values).sum()) if finite.size != values.size else 0
    positive = int(np.count_nonzero(values == np.inf)) if finite.size != values.size else 0
    negative = values.size - finite.size - nan - positive
    sketch = QuantileSketch.from_values(finite, size=sketch_size) if finite.size else None
    return NumericSummary(
        int(values.size), nan, positive, negative, Moments.from_values(finite), sketch
    )


def summarize_categorical(values: pa.ChunkedArray) -> CategoricalSummary:
    """Summarise a text or boolean column as value counts."""
    counted = pc.value_counts(values)
    keys = counted.field("values").to_pylist()
    numbers = counted.field("counts").to_pylist()
    counts = {str(k): float(n) for k, n in zip(keys, numbers, strict=True) if k is not None}
    kept, overflow = _cap(counts)
    return CategoricalSummary(len(values), int(values.null_count), kept, overflow)


def summarize(values: pa.ChunkedArray, *, sketch_size: int = EXACT) -> Summary:
    """Summarise one Arrow column according to its kind.

    Args:
        values: the column.
        sketch_size: support points a numeric sketch keeps.

    Returns:
        The summary.
    """
    kind = kind_of(values.type)
    if kind is ColumnKind.NUMERIC:
        return summarize_numeric(numeric_values(values), sketch_size=sketch_size)
    if kind is ColumnKind.CATEGORICAL:
        return summarize_categorical(values)
    return UnsupportedSummary(len(values), int(values.null_count), str(values.type))


def summary_from_dict(data: dict[str, Any]) -> Summary:
    """Read a summary written by `to_dict`.

    Raises:
        InvalidInputError: the data is not a summary.
    """
    try:
        kind = ColumnKind(data["kind"])
        if kind is ColumnKind.NUMERIC:
            moments = Moments(**{k: float(v) for k, v in data["moments"].items()})
            sketch = data["sketch"]
            return NumericSummary(
                int(data["rows"]),
                int(data["missing"]),
                int(data["positive_infinite"]),
                int(data["negative_infinite"]),
                moments,
                QuantileSketch.from_dict(sketch) if sketch is not None else None,
            )
        if kind is ColumnKind.CATEGORICAL:
            counts = {str(k): float(v) for k, v in data["counts"].items()}
            return CategoricalSummary(
                int(data["rows"]), int(data["missing"]), counts, float(data.get("overflow", 0))
            )
        return UnsupportedSummary(int(data["rows"]), int(data["missing"]), str(data["type"]))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidInputError(f"not a column summary: {exc}", field="profile") from exc
