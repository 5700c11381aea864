"""Drift methods computed from two column summaries: p-value tests and distances.

Each method reads the reference and current summaries (never raw rows), so the same code scores
full data, chunked data and a saved reference profile.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np

from mloop.errors import InvalidInputError
from mloop.monitoring.columns import ColumnKind
from mloop.monitoring.summaries import CategoricalSummary, NumericSummary, Summary
from mloop.stats import distances, two_sample
from mloop.stats.sketches import QuantileSketch
from mloop.stats.two_sample import FloatArray

# Evidently bins numeric columns with more distinct reference values than this (Sturges' rule)
# before Jensen-Shannon, PSI and Hellinger; fewer are compared value by value.
_BIN_ABOVE_DISTINCT = 20


class Method(enum.StrEnum):
    """A drift test or distance, selectable per column."""

    KS = "ks"
    CHISQUARE = "chisquare"
    Z = "z"
    WASSERSTEIN = "wasserstein"
    JENSENSHANNON = "jensenshannon"
    PSI = "psi"
    HELLINGER = "hellinger"

    @property
    def is_test(self) -> bool:
        """True for hypothesis tests (value = p-value), False for distances (value = size)."""
        return self in (Method.KS, Method.CHISQUARE, Method.Z)

    @property
    def numeric_only(self) -> bool:
        """True for methods that need an ordered numeric column."""
        return self in (Method.KS, Method.WASSERSTEIN)


@dataclass(frozen=True)
class MethodValue:
    """What one method says about one column.

    Attributes:
        value: the p-value of a test, or the distance.
        statistic: the test statistic (KS D, chi-square, z), or the distance again.
    """

    value: float
    statistic: float


def aligned_counts(reference: Summary, current: Summary) -> tuple[FloatArray, FloatArray]:
    """Counts per value over the union of both columns' values.

    Raises:
        InvalidInputError: a numeric column has too many distinct values to count exactly.
    """
    ref = _distinct(reference)
    cur = _distinct(current)
    keys = list(ref.keys() | cur.keys())
    return (
        np.array([ref.get(key, 0.0) for key in keys]),
        np.array([cur.get(key, 0.0) for key in keys]),
    )


def _distinct(summary: Summary) -> dict[str, float]:
    if isinstance(summary, NumericSummary | CategoricalSummary):
        counts = summary.distinct()
        if counts is not None:
            return counts
    raise InvalidInputError(
        "this column has too many distinct values for a value-by-value test in a compressed "
        "profile; use ks, wasserstein or a binned distance instead",
        field="method",
    )


def distinct_count(reference: Summary, current: Summary) -> int | None:
    """Distinct values across both columns, or None when a sketch no longer knows them."""
    counted = (NumericSummary, CategoricalSummary)
    if not (isinstance(reference, counted) and isinstance(current, counted)):
        return None
    ref_size, cur_size = reference.distinct_size, current.distinct_size
    if ref_size is None or cur_size is None:
        return None
    if max(ref_size, cur_size) > _BIN_ABOVE_DISTINCT:
        return max(ref_size, cur_size)  # a lower bound is all the callers need
    ref = reference.distinct()
    cur = current.distinct()
    if ref is None or cur is None:
        return None
    return len(ref.keys() | cur.keys())


def _sketches(reference: Summary, current: Summary) -> tuple[QuantileSketch, QuantileSketch]:
    if not (isinstance(reference, NumericSummary) and isinstance(current, NumericSummary)):
        raise InvalidInputError("this method needs a numeric column", field="method")
    if reference.sketch is None or current.sketch is None:
        raise InvalidInputError("no finite values to compare", field="method")
    return reference.sketch, current.sketch


def _ks_small(ref: QuantileSketch, cur: QuantileSketch) -> MethodValue | None:
    # exact p-values where scipy's `auto` mode computes them and the cost stays small; Smirnov's
    # asymptotic distribution is accurate beyond that
    small = max(ref.count, cur.count) <= 10_000 and ref.count * cur.count <= 10_000_000
    if not (small and ref.is_exact and cur.is_exact):
        return None
    result = two_sample.ks_2samp(
        np.repeat(ref.values, ref.weights.astype(np.int64)),
        np.repeat(cur.values, cur.weights.astype(np.int64)),
    )
    return MethodValue(result.p_value, result.statistic)


def ks_and_wasserstein(reference: Summary, current: Summary) -> tuple[MethodValue, MethodValue]:
    """KS test and normalised Wasserstein distance from one pass over both CDFs."""
    ref, cur = _sketches(reference, current)
    grid, ref_cdf, cur_cdf = two_sample.weighted_cdfs(
        ref.values, ref.weights, cur.values, cur.weights
    )
    gaps = np.abs(ref_cdf - cur_cdf)
    test = _ks_small(ref, cur)
    if test is None:
        d = float(gaps.max())
        test = MethodValue(two_sample.ks_p_value(d, int(ref.count), int(cur.count)), d)
    distance = float(np.sum(gaps[:-1] * np.diff(grid)))
    std = reference.moments.std if isinstance(reference, NumericSummary) else 0.0
    normed = distance / max(std, distances.STD_FLOOR)
    return test, MethodValue(normed, normed)


def ks(reference: Summary, current: Summary) -> MethodValue:
    """Two-sample KS: exact p-value for small exact samples, asymptotic otherwise."""
    ref, cur = _sketches(reference, current)
    exact = _ks_small(ref, cur)
    if exact is not None:
        return exact
    d = two_sample.ks_distance(ref.values, ref.weights, cur.values, cur.weights)
    return MethodValue(two_sample.ks_p_value(d, int(ref.count), int(cur.count)), d)


def wasserstein(reference: Summary, current: Summary) -> MethodValue:
    """Wasserstein-1 distance over the reference standard deviation (floored at 0.001)."""
    return ks_and_wasserstein(reference, current)[1]


def chisquare(reference: Summary, current: Summary, *, evidently: bool = False) -> MethodValue:
    """Chi-square on value counts.

    mloop's variant tests homogeneity with rare categories merged; Evidently's tests the fit of
    current counts to reference frequencies.
    """
    ref, cur = aligned_counts(reference, current)
    if evidently:
        result = two_sample.chi_square_goodness_of_fit(ref, cur)
    else:
        result = two_sample.chi_square_counts(ref, cur)
    return MethodValue(result.p_value, result.statistic)


def z(reference: Summary, current: Summary) -> MethodValue:
    """Z-test for the share of the first value (binary columns)."""
    ref, cur = aligned_counts(reference, current)
    if ref.size == 1:
        return MethodValue(1.0, 0.0)
    result = two_sample.z_test_proportions(int(ref[0]), int(ref.sum()), int(cur[0]), int(cur.sum()))
    return MethodValue(result.p_value, result.statistic)


def frequencies(reference: Summary, current: Summary) -> tuple[FloatArray, FloatArray]:
    """Both columns as frequencies over shared bins, as Evidently bins them.

    Numeric columns with more than 20 distinct reference values get Sturges' bins over the
    combined range; other columns are compared value by value.
    """
    if isinstance(reference, NumericSummary) and isinstance(current, NumericSummary):
        distinct = reference.distinct_size
        if distinct is None or distinct > _BIN_ABOVE_DISTINCT:
            return _sturges_frequencies(*_sketches(reference, current))
    ref, cur = aligned_counts(reference, current)
    return ref / ref.sum(), cur / cur.sum()


def _sturges_frequencies(
    reference: QuantileSketch, current: QuantileSketch
) -> tuple[FloatArray, FloatArray]:
    low = min(reference.minimum, current.minimum)
    high = max(reference.maximum, current.maximum)
    bins = max(math.ceil(math.log2(reference.count + current.count) + 1.0), 1)
    edges = np.histogram_bin_edges(np.array([low, high]), bins=bins)
    ref = reference.histogram(edges)
    cur = current.histogram(edges)
    return ref / ref.sum(), cur / cur.sum()


def compute(
    method: Method, reference: Summary, current: Summary, *, evidently: bool = False
) -> MethodValue:
    """Run one method on two summaries.

    Args:
        method: the test or distance.
        reference: the reference column summary.
        current: the current column summary.
        evidently: reproduce Evidently's variant where it differs (chi-square).

    Raises:
        InvalidInputError: the method does not fit the column.
    """
    if method is Method.KS:
        return ks(reference, current)
    if method is Method.WASSERSTEIN:
        return wasserstein(reference, current)
    if method is Method.CHISQUARE:
        return chisquare(reference, current, evidently=evidently)
    if method is Method.Z:
        return z(reference, current)
    ref, cur = frequencies(reference, current)
    if method is Method.JENSENSHANNON:
        value = distances.jensen_shannon(ref, cur)
    elif method is Method.PSI:
        value = distances.psi(ref, cur)
    else:
        value = distances.hellinger(ref, cur)
    return MethodValue(value, value)


def evidently_choice(reference: Summary, current: Summary) -> Method:
    """Evidently 0.7's default method for a column (see docs/drift.md)."""
    distinct = distinct_count(reference, current)
    many = distinct is None or distinct > 5
    numeric = reference.kind is ColumnKind.NUMERIC
    if reference.count <= 1000:
        if numeric and many:
            return Method.KS
        return Method.CHISQUARE if distinct is None or distinct > 2 else Method.Z
    if numeric and many:
        return Method.WASSERSTEIN
    return Method.JENSENSHANNON
