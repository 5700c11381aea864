"""Two-sample hypothesis tests: Kolmogorov-Smirnov, chi-square, Z-test for proportions.

Every test returns a `TestResult` (statistic and p-value). The tests work on raw samples or on
summaries (sorted values with weights, category counts), so a reference profile can stand in for
the reference data.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special
from scipy import stats as sps

from mloop.errors import InvalidInputError

FloatArray = npt.NDArray[np.float64]

# scipy.stats.ks_2samp computes exact p-values up to this many observations per side.
_KS_EXACT_MAX_N = 10_000


@dataclass(frozen=True)
class TestResult:
    """The outcome of a hypothesis test.

    Attributes:
        statistic: the test statistic (KS D, chi-square, z ...).
        p_value: the probability of a statistic at least this extreme when nothing changed.
    """

    __test__ = False  # not a pytest test class

    statistic: float
    p_value: float


def _finite(values: npt.ArrayLike, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64).ravel()
    array = array[np.isfinite(array)]
    if array.size == 0:
        raise InvalidInputError(
            f"the {name} sample has no finite values; pass at least one number", field=name
        )
    return array


def ks_2samp(reference: npt.ArrayLike, current: npt.ArrayLike) -> TestResult:
    """Two-sided two-sample Kolmogorov-Smirnov test (NaN and infinities are dropped).

    Matches `scipy.stats.ks_2samp` (exact p-values for samples up to 10,000 values, Smirnov's
    asymptotic distribution above).

    Args:
        reference: the reference sample.
        current: the current sample.

    Returns:
        D (the largest distance between the empirical CDFs) and its p-value.

    Raises:
        InvalidInputError: a sample has no finite values.
    """
    ref = np.sort(_finite(reference, "reference"))
    cur = np.sort(_finite(current, "current"))
    if max(ref.size, cur.size) <= _KS_EXACT_MAX_N:
        with warnings.catch_warnings():
            # scipy warns when its exact computation falls back to the asymptotic one (some
            # tiny or tied samples); the fallback is the documented behaviour, not a problem
            warnings.simplefilter("ignore", RuntimeWarning)
            result = sps.ks_2samp(ref, cur)
        return TestResult(float(result.statistic), float(result.pvalue))
    ones_r = np.ones(ref.size)
    ones_c = np.ones(cur.size)
    distance = ks_distance(ref, ones_r, cur, ones_c)
    return TestResult(distance, ks_p_value(distance, ref.size, cur.size))


def weighted_cdfs(
    ref_values: FloatArray, ref_weights: FloatArray, cur_values: FloatArray, cur_weights: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Both empirical CDFs on the sorted union of their support points.

    Args:
        ref_values: sorted reference support points.
        ref_weights: their weights (counts).
        cur_values: sorted current support points.
        cur_weights: their weights.

    Returns:
        The grid, the reference CDF and the current CDF at each grid point (right-continuous).
    """
    values = np.concatenate([ref_values, cur_values])
    order = np.argsort(values, kind="stable")  # two sorted runs: one linear merge
    merged = values[order]
    from_ref = order < ref_values.size
    weights = np.concatenate([ref_weights, cur_weights])[order]
    all_cum = np.cumsum(weights)
    ref_cum = np.cumsum(weights * from_ref)
    cur_cum = all_cum - ref_cum
    # the CDFs are right-continuous: read them after the last of equal values
    is_last = np.empty(merged.size, dtype=bool)
    is_last[-1] = True
    np.not_equal(merged[1:], merged[:-1], out=is_last[:-1])
    grid = merged[is_last]
    ref_cdf = ref_cum[is_last] / ref_cum[-1]
    cur_cdf = cur_cum[is_last] / cur_cum[-1]
    return grid, ref_cdf, cur_cdf


def ks_distance(
    ref_values: FloatArray, ref_weights: FloatArray, cur_values: FloatArray, cur_weights: FloatArray
) -> float:
    """The KS statistic D between two weighted samples given as sorted support points.

    Args:
        ref_values: sorted reference support points.
        ref_weights: their weights (counts).
        cur_values: sorted current support points.
        cur_weights: their weights.

    Returns:
        max |F_ref(x) - F_cur(x)|.
    """
    _, ref_cdf, cur_cdf = weighted_cdfs(ref_values, ref_weights, cur_values, cur_weights)
    return float(np.max(np.abs(ref_cdf - cur_cdf)))


def ks_p_value(distance: float, n_reference: int, n_current: int) -> float:
    """Two-sided asymptotic p-value of a two-sample KS statistic.

    As scipy's `asymp` mode up to an effective sample size of 10,000; beyond, the Kolmogorov
    limiting distribution with Stephens' small-sample correction (within 1% relative).

    Args:
        distance: the KS statistic D.
        n_reference: reference sample size.
        n_current: current sample size.

    Returns:
        The p-value.
    """
    big, small = sorted([float(n_reference), float(n_current)], reverse=True)
    effective_n = max(float(np.round(big * small / (big + small))), 1.0)
    if effective_n <= _KS_EXACT_MAX_N:
        return float(np.clip(sps.kstwo.sf(distance, effective_n), 0.0, 1.0))
    # kstwo.sf costs ~20 ms at these sizes; the Kolmogorov limit with Stephens' correction is
    # within 1% of it (relative) for p-values down to 1e-8 and takes microseconds
    root = np.sqrt(effective_n)
    return float(special.kolmogorov((root + 0.12 + 0.11 / root) * distance))


def chi_square_counts(
    reference_counts: npt.ArrayLike, current_counts: npt.ArrayLike, *, min_expected: float = 5.0
) -> TestResult:
    """Chi-square test of homogeneity between two vectors of category counts.

    Categories whose expected count (under "nothing changed") is below `min_expected` in either
    sample are merged into one "other" category before the test, so sparse, high-cardinality
    columns do not inflate the statistic.

    Args:
        reference_counts: counts per category in the reference.
        current_counts: counts per category in the current data, aligned with the reference.
        min_expected: smallest expected count a category keeps on its own (0 merges nothing).

    Returns:
        The chi-square statistic and its p-value (1.0 when fewer than two categories remain).

    Raises:
        InvalidInputError: the vectors differ in length, hold negative counts, or one sums to 0.
    """
    table = _count_table(reference_counts, current_counts)
    table = merge_rare_categories(table, min_expected=min_expected)
    if table.shape[1] < 2:
        return TestResult(0.0, 1.0)
    totals = table.sum(axis=1, keepdims=True)
    expected = totals * table.sum(axis=0, keepdims=True) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    dof = table.shape[1] - 1
    return TestResult(statistic, float(special.chdtrc(dof, statistic)))


def _count_table(reference_counts: npt.ArrayLike, current_counts: npt.ArrayLike) -> FloatArray:
    ref = np.asarray(reference_counts, dtype=np.float64).ravel()
    cur = np.asarray(current_counts, dtype=np.float64).ravel()
    if ref.shape != cur.shape:
        raise InvalidInputError(
            f"count vectors differ in length ({ref.size} vs {cur.size}); align both on the "
            "same categories",
            field="counts",
        )
    if (ref < 0).any() or (cur < 0).any():
        raise InvalidInputError("counts must not be negative", field="counts")
    if ref.sum() == 0 or cur.sum() == 0:
        raise InvalidInputError("each sample needs at least one counted value", field="counts")
    table = np.vstack([ref, cur])
    return table[:, table.sum(axis=0) > 0]


def merge_rare_categories(table: FloatArray, *, min_expected: float = 5.0) -> FloatArray:
    """Merge the columns of a 2 x k count table whose expected counts are below `min_expected`.

    Args:
        table: counts, one row per sample, one column per category.
        min_expected: smallest expected count a category keeps on its own.

    Returns:
        The table with rare categories summed into one trailing column (kept only if that
        merged column itself reaches `min_expected`, else folded into the smallest kept one).
    """
    if min_expected <= 0 or table.shape[1] < 2:
        return table
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    rare = (expected < min_expected).any(axis=0)
    if not rare.any():
        return table
    kept = table[:, ~rare]
    other = table[:, rare].sum(axis=1, keepdims=True)
    other_expected = other.sum() * table.sum(axis=1) / table.sum()
    if kept.shape[1] > 0 and (other_expected < min_expected).any():
        smallest = int(np.argmin(kept.sum(axis=0)))
        kept = kept.copy()
        kept[:, smallest : smallest + 1] += other
        return kept
    return np.hstack([kept, other])


def chi_square_goodness_of_fit(
    reference_counts: npt.ArrayLike, current_counts: npt.ArrayLike
) -> TestResult:
    """Chi-square goodness of fit of current counts to reference frequencies (Evidently's test).

    The expected counts are the reference counts scaled to the current total; a category absent
    from the reference makes the statistic infinite and the p-value 0.

    Args:
        reference_counts: counts per category in the reference.
        current_counts: counts per category in the current data, aligned with the reference.

    Returns:
        The chi-square statistic and its p-value.

    Raises:
        InvalidInputError: the vectors differ in length, hold negative counts, or one sums to 0.
    """
    table = _count_table(reference_counts, current_counts)
    ref, cur = table
    expected = ref * cur.sum() / ref.sum()
    if (expected == 0).any():
        return TestResult(float("inf"), 0.0)
    statistic = float(np.sum((cur - expected) ** 2 / expected))
    return TestResult(statistic, float(special.chdtrc(table.shape[1] - 1, statistic)))


def z_test_proportions(
    reference_successes: int, reference_n: int, current_successes: int, current_n: int
) -> TestResult:
    """Two-sided Z-test for the difference of two proportions (pooled variance).

    Args:
        reference_successes: count of the tracked value in the reference.
        reference_n: reference sample size.
        current_successes: count of the tracked value in the current data.
        current_n: current sample size.

    Returns:
        z = (p_ref - p_cur) / se and its p-value (1.0 when both samples are constant and equal).

    Raises:
        InvalidInputError: a sample size is not positive or a count exceeds it.
    """
    for successes, n, name in (
        (reference_successes, reference_n, "reference"),
        (current_successes, current_n, "current"),
    ):
        if n <= 0 or not 0 <= successes <= n:
            raise InvalidInputError(
                f"{name}: need 0 <= successes <= n and n > 0, got {successes} of {n}", field=name
            )
    p_ref = reference_successes / reference_n
    p_cur = current_successes / current_n
    pooled = (reference_successes + current_successes) / (reference_n + current_n)
    variance = pooled * (1 - pooled) * (1 / reference_n + 1 / current_n)
    if variance == 0:
        return TestResult(0.0, 1.0)
    z = (p_ref - p_cur) / float(np.sqrt(variance))
    return TestResult(z, float(2 * sps.norm.sf(abs(z))))


def benjamini_hochberg(p_values: npt.ArrayLike) -> FloatArray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN entries stay NaN and are not counted.

    Reject the hypotheses whose adjusted p-value is below the target false discovery rate.

    Args:
        p_values: raw p-values, any order.

    Returns:
        Adjusted p-values in the input order (as `statsmodels` `fdr_bh`).
    """
    raw = np.asarray(p_values, dtype=np.float64).ravel()
    adjusted = np.full(raw.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(raw))
    if valid.size == 0:
        return adjusted
    order = valid[np.argsort(raw[valid], kind="stable")]
    ranked = raw[order] * valid.size / np.arange(1, valid.size + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    adjusted[order] = np.clip(ranked, 0.0, 1.0)
    return adjusted
