"""Mergeable summaries of numeric samples: a quantile sketch and running moments.

`QuantileSketch` keeps at most `size` weighted support points (exact while a sample has no more
distinct values than that; above it, equal-weight centroids, so quantiles and CDFs are off by at
most about 1/size in rank). Sketches merge by concatenation and recompression, so a profile can
be built chunk by chunk and from several files.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from mloop.errors import InvalidInputError
from mloop.stats.two_sample import FloatArray

DEFAULT_SKETCH_SIZE = 2048


def _compress(values: FloatArray, weights: FloatArray, size: int) -> tuple[FloatArray, FloatArray]:
    """Merge adjacent points into at most `size` centroids of about equal weight."""
    if values.size <= size:
        return values, weights
    cumulative = np.cumsum(weights)
    midpoints = (cumulative - weights / 2) / cumulative[-1]
    bucket = np.minimum((midpoints * size).astype(np.int64), size - 1)
    bucket_weights = np.bincount(bucket, weights=weights, minlength=size).astype(np.float64)
    bucket_sums = np.bincount(bucket, weights=values * weights, minlength=size).astype(np.float64)
    used = bucket_weights > 0
    return bucket_sums[used] / bucket_weights[used], bucket_weights[used]


def _unique_counts(values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Sorted distinct values and their counts (about 2x faster than `np.unique`)."""
    ordered = np.sort(values)
    is_start = np.empty(ordered.size, dtype=bool)
    is_start[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=is_start[1:])
    starts = np.flatnonzero(is_start)
    counts = np.diff(np.append(starts, ordered.size)).astype(np.float64)
    return ordered[starts], counts


@dataclass(frozen=True)
class QuantileSketch:
    """Weighted, sorted support points approximating a numeric distribution.

    Attributes:
        values: sorted support points (centroids).
        weights: how many observations each point stands for.
        minimum: the smallest observation (exact).
        maximum: the largest observation (exact).
        size: the most points the sketch keeps.
        is_exact: every distinct value is kept with its exact count (no compression yet).
    """

    values: FloatArray
    weights: FloatArray
    minimum: float
    maximum: float
    size: int = DEFAULT_SKETCH_SIZE
    is_exact: bool = True

    @classmethod
    def from_values(
        cls, values: npt.ArrayLike, *, size: int = DEFAULT_SKETCH_SIZE
    ) -> QuantileSketch:
        """Summarise finite values (NaN and infinities must be removed by the caller).

        Args:
            values: the observations.
            size: the most support points to keep.

        Returns:
            The sketch (exact when there are at most `size` distinct values).

        Raises:
            InvalidInputError: there are no values, or a value is not finite.
        """
        array = np.asarray(values, dtype=np.float64).ravel()
        if array.size == 0 or not np.isfinite(array).all():
            raise InvalidInputError(
                "a quantile sketch needs at least one value and only finite ones", field="values"
            )
        support, counts = _unique_counts(array)
        points, weights = _compress(support, counts, size)
        exact = support.size <= size
        return cls(points, weights, float(support[0]), float(support[-1]), size, exact)

    @property
    def count(self) -> float:
        """Number of observations summarised."""
        return float(self.cumulative[-1])

    def merge(self, other: QuantileSketch) -> QuantileSketch:
        """A sketch of both samples together (recompressed to the larger `size`)."""
        values = np.concatenate([self.values, other.values])
        weights = np.concatenate([self.weights, other.weights])
        order = np.argsort(values, kind="stable")
        values, weights = values[order], weights[order]
        # fold equal support points before compressing so exact sketches stay exact
        support, index = np.unique(values, return_inverse=True)
        folded = np.bincount(index, weights=weights).astype(np.float64)
        size = max(self.size, other.size)
        points, point_weights = _compress(support, folded, size)
        return QuantileSketch(
            points,
            point_weights,
            min(self.minimum, other.minimum),
            max(self.maximum, other.maximum),
            size,
            self.is_exact and other.is_exact and support.size <= size,
        )

    @cached_property
    def cumulative(self) -> FloatArray:
        """Running total of the weights (computed once per sketch)."""
        return np.cumsum(self.weights)

    def quantiles(self, q: npt.ArrayLike) -> FloatArray:
        """Approximate quantiles (inverse of the step CDF; `q` in [0, 1])."""
        probs = np.asarray(q, dtype=np.float64)
        cumulative = self.cumulative / self.cumulative[-1]
        index = np.minimum(np.searchsorted(cumulative, probs, side="left"), self.values.size - 1)
        result = self.values[index]
        result = np.where(probs <= 0, self.minimum, result)
        return np.where(probs >= 1, self.maximum, result)

    def histogram(self, edges: npt.ArrayLike) -> FloatArray:
        """Approximate counts of observations in the bins given by `edges`."""
        # values are sorted: bin totals are differences of the running weight total
        bounds = np.asarray(edges, dtype=np.float64)
        positions = np.searchsorted(self.values, bounds, side="left")
        positions[-1] = np.searchsorted(self.values, bounds[-1], side="right")  # closed last bin
        totals = np.concatenate([[0.0], self.cumulative])[positions]
        return np.diff(totals)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (`from_dict` reads it back)."""
        return {
            "size": self.size,
            "is_exact": self.is_exact,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "values": self.values.tolist(),
            "weights": self.weights.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuantileSketch:
        """Read a sketch written by `to_dict`.

        Raises:
            InvalidInputError: a key is missing or the arrays disagree.
        """
        try:
            values = np.asarray(data["values"], dtype=np.float64)
            weights = np.asarray(data["weights"], dtype=np.float64)
            sketch = cls(
                values,
                weights,
                float(data["minimum"]),
                float(data["maximum"]),
                int(data["size"]),
                bool(data.get("is_exact", False)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"not a quantile sketch: {exc}", field="sketch") from exc
        if values.shape != weights.shape or values.size == 0:
            raise InvalidInputError("sketch values and weights must align", field="sketch")
        return sketch


@dataclass(frozen=True)
class Moments:
    """Count, mean and sum of squared deviations, merged with Chan's parallel formula.

    Attributes:
        count: number of observations.
        mean: their mean.
        m2: the sum of squared deviations from the mean.
    """

    count: float = 0.0
    mean: float = 0.0
    m2: float = 0.0

    @classmethod
    def from_values(cls, values: FloatArray) -> Moments:
        """Moments of finite values."""
        if values.size == 0:
            return cls()
        mean = float(values.mean())
        return cls(float(values.size), mean, float(np.sum((values - mean) ** 2)))

    def merge(self, other: Moments) -> Moments:
        """Moments of both samples together."""
        total = self.count + other.count
        if total == 0:
            return Moments()
        delta = other.mean - self.mean
        mean = self.mean + delta * other.count / total
        m2 = self.m2 + other.m2 + delta**2 * self.count * other.count / total
        return Moments(total, mean, m2)

    @property
    def std(self) -> float:
        """Population standard deviation (ddof=0, as Evidently's `np.std`)."""
        return float(np.sqrt(self.m2 / self.count)) if self.count > 0 else 0.0
