"""Distances between two distributions: Wasserstein, Jensen-Shannon, PSI, Hellinger.

Wasserstein works on samples (or weighted sorted support points); the others compare two
probability vectors over the same bins or categories, built with `binned_frequencies`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from mloop.errors import InvalidInputError
from mloop.stats.two_sample import FloatArray, weighted_cdfs

# Evidently floors the reference standard deviation here so constant columns do not divide by 0.
STD_FLOOR = 0.001


def wasserstein_weighted(
    ref_values: FloatArray, ref_weights: FloatArray, cur_values: FloatArray, cur_weights: FloatArray
) -> float:
    """Wasserstein-1 (earth mover's) distance between two weighted samples.

    Args:
        ref_values: sorted reference support points.
        ref_weights: their weights (counts).
        cur_values: sorted current support points.
        cur_weights: their weights.

    Returns:
        The integral of |F_ref - F_cur| over the real line.
    """
    grid, ref_cdf, cur_cdf = weighted_cdfs(ref_values, ref_weights, cur_values, cur_weights)
    return float(np.sum(np.abs(ref_cdf[:-1] - cur_cdf[:-1]) * np.diff(grid)))


def wasserstein_normed(reference: npt.ArrayLike, current: npt.ArrayLike) -> float:
    """Wasserstein-1 distance divided by the reference's standard deviation (floored at 0.001).

    This is Evidently's `wasserstein` drift score: 0.1 means the mass moved, on average, a tenth
    of a reference standard deviation. NaN and infinities are dropped.

    Args:
        reference: the reference sample.
        current: the current sample.

    Returns:
        The normalised distance.

    Raises:
        InvalidInputError: a sample has no finite values.
    """
    ref = _sorted_finite(reference, "reference")
    cur = _sorted_finite(current, "current")
    distance = wasserstein_weighted(ref, np.ones(ref.size), cur, np.ones(cur.size))
    return distance / max(float(np.std(ref)), STD_FLOOR)


def _sorted_finite(values: npt.ArrayLike, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64).ravel()
    array = np.sort(array[np.isfinite(array)])
    if array.size == 0:
        raise InvalidInputError(f"the {name} sample has no finite values", field=name)
    return array


def _probabilities(p: npt.ArrayLike, q: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    p_arr = np.asarray(p, dtype=np.float64).ravel()
    q_arr = np.asarray(q, dtype=np.float64).ravel()
    if p_arr.shape != q_arr.shape or p_arr.size == 0:
        raise InvalidInputError(
            f"frequency vectors must be non-empty and aligned, got {p_arr.size} and {q_arr.size}",
            field="frequencies",
        )
    if (p_arr < 0).any() or (q_arr < 0).any() or p_arr.sum() == 0 or q_arr.sum() == 0:
        raise InvalidInputError(
            "frequencies must be non-negative with a positive total", field="frequencies"
        )
    return p_arr / p_arr.sum(), q_arr / q_arr.sum()


def jensen_shannon(reference: npt.ArrayLike, current: npt.ArrayLike) -> float:
    """Jensen-Shannon distance (natural log, as `scipy.spatial.distance.jensenshannon`).

    Args:
        reference: reference frequencies (normalised here).
        current: current frequencies over the same bins.

    Returns:
        The distance, between 0 and sqrt(ln 2).
    """
    p, q = _probabilities(reference, current)
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(p > 0, p * np.log(p / m), 0.0)
        right = np.where(q > 0, q * np.log(q / m), 0.0)
    return float(np.sqrt(max((left.sum() + right.sum()) / 2, 0.0)))


def fill_zeros(frequencies: FloatArray) -> FloatArray:
    """Replace empty bins by a small frequency, as Evidently does before PSI and KL.

    The fill is 1e-4, or a millionth of the smallest non-empty frequency if that is below 1e-4.

    Args:
        frequencies: frequencies summing to 1.

    Returns:
        A copy without zeros.
    """
    filled = np.asarray(frequencies, dtype=np.float64).copy()
    positive = filled[filled > 0]
    if positive.size == 0:
        return filled
    smallest = float(positive.min())
    filled[filled == 0] = smallest / 1e6 if smallest <= 1e-4 else 1e-4
    return filled


def psi(reference: npt.ArrayLike, current: npt.ArrayLike) -> float:
    """Population stability index: sum((cur - ref) * ln(cur / ref)) with empty bins filled.

    Rule of thumb: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 major shift.

    Args:
        reference: reference frequencies.
        current: current frequencies over the same bins.

    Returns:
        The index (>= 0).
    """
    p, q = _probabilities(reference, current)
    p, q = fill_zeros(p), fill_zeros(q)
    return float(np.sum((q - p) * np.log(q / p)))


def hellinger(reference: npt.ArrayLike, current: npt.ArrayLike) -> float:
    """Hellinger distance: sqrt(1 - sum(sqrt(p * q))), between 0 and 1.

    Args:
        reference: reference frequencies.
        current: current frequencies over the same bins.

    Returns:
        The distance.
    """
    p, q = _probabilities(reference, current)
    return float(np.sqrt(max(1.0 - np.sum(np.sqrt(p * q)), 0.0)))


def binned_frequencies(
    reference: npt.ArrayLike, current: npt.ArrayLike, *, bins: int | str = "sturges"
) -> tuple[FloatArray, FloatArray]:
    """Histogram both samples on shared bin edges computed from their union.

    Args:
        reference: the reference sample (finite values).
        current: the current sample (finite values).
        bins: a bin count or a NumPy rule name (Evidently uses Sturges' rule).

    Returns:
        Reference and current frequencies per bin (each sums to 1).
    """
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins=bins)
    ref_counts = np.histogram(ref, edges)[0]
    cur_counts = np.histogram(cur, edges)[0]
    return ref_counts / max(ref.size, 1), cur_counts / max(cur.size, 1)
