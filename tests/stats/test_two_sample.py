from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from mloop.errors import InvalidInputError
from mloop.stats import benjamini_hochberg, chi_square_counts, ks_2samp, z_test_proportions
from mloop.stats.two_sample import (
    chi_square_goodness_of_fit,
    ks_distance,
    ks_p_value,
    merge_rare_categories,
)


@pytest.mark.parametrize(("n_ref", "n_cur"), [(50, 80), (900, 1000), (20_000, 15_000)])
def test_ks_matches_scipy(n_ref: int, n_cur: int) -> None:
    rng = np.random.default_rng(1)
    ref, cur = rng.normal(size=n_ref), rng.normal(0.1, 1.1, size=n_cur)
    expected = sps.ks_2samp(ref, cur)
    result = ks_2samp(ref, cur)
    assert result.statistic == pytest.approx(expected.statistic, abs=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-6, abs=1e-12)


def test_ks_drops_nan_and_infinity() -> None:
    ref = np.array([1.0, 2.0, 3.0, np.nan, np.inf])
    cur = np.array([1.0, 2.0, 3.0, -np.inf])
    assert ks_2samp(ref, cur).statistic == 0.0


def test_ks_rejects_an_all_missing_sample() -> None:
    with pytest.raises(InvalidInputError, match="no finite values"):
        ks_2samp([np.nan, np.nan], [1.0])


def test_weighted_ks_equals_the_raw_sample_ks() -> None:
    ref_values, ref_weights = np.array([1.0, 2.0, 3.0]), np.array([2.0, 1.0, 1.0])
    cur_values, cur_weights = np.array([2.0, 4.0]), np.array([1.0, 1.0])
    expected = sps.ks_2samp([1, 1, 2, 3], [2, 4]).statistic
    assert ks_distance(ref_values, ref_weights, cur_values, cur_weights) == pytest.approx(expected)


def test_ks_asymptotic_p_value_matches_scipy_asymp_mode() -> None:
    rng = np.random.default_rng(2)
    ref, cur = rng.normal(size=3000), rng.normal(0.05, size=2000)
    expected = sps.ks_2samp(ref, cur, method="asymp")
    assert ks_p_value(expected.statistic, 3000, 2000) == pytest.approx(expected.pvalue, rel=1e-9)


def test_chi_square_matches_scipy_contingency() -> None:
    ref, cur = np.array([120, 80, 40, 60]), np.array([100, 100, 50, 20])
    expected = sps.chi2_contingency(np.vstack([ref, cur]), correction=False)
    result = chi_square_counts(ref, cur)
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.p_value == pytest.approx(expected.pvalue)


def test_rare_categories_are_merged_before_chi_square() -> None:
    table = np.array([[100.0, 100.0, 1.0, 2.0, 2.0], [100.0, 100.0, 3.0, 1.0, 2.0]])
    merged = merge_rare_categories(table)
    assert merged.tolist() == [[100.0, 100.0, 5.0], [100.0, 100.0, 6.0]]
    # the merged "other" column is still rare here, so it joins the smallest kept category
    tiny = np.array([[100.0, 50.0, 1.0], [100.0, 50.0, 0.0]])
    assert merge_rare_categories(tiny).tolist() == [[100.0, 51.0], [100.0, 50.0]]


def test_chi_square_on_one_category_is_not_significant() -> None:
    assert chi_square_counts([10, 0], [20, 0]).p_value == 1.0


def test_chi_square_rejects_misaligned_counts() -> None:
    with pytest.raises(InvalidInputError, match="differ in length"):
        chi_square_counts([1, 2], [1, 2, 3])


def test_goodness_of_fit_matches_scipy_chisquare() -> None:
    ref, cur = np.array([50, 30, 20]), np.array([40, 40, 30])
    expected = sps.chisquare(cur, ref * cur.sum() / ref.sum())
    result = chi_square_goodness_of_fit(ref, cur)
    assert result.p_value == pytest.approx(expected.pvalue)
    assert chi_square_goodness_of_fit([5, 0], [3, 2]).p_value == 0.0


def test_z_test_by_hand() -> None:
    # p1 = 0.3, p2 = 0.4, pooled 0.35, se = sqrt(.35 * .65 * (1/100 + 1/100))
    result = z_test_proportions(30, 100, 40, 100)
    z = (0.3 - 0.4) / np.sqrt(0.35 * 0.65 * 0.02)
    assert result.statistic == pytest.approx(z)
    assert result.p_value == pytest.approx(2 * sps.norm.sf(abs(z)))
    assert z_test_proportions(0, 10, 0, 20).p_value == 1.0
    with pytest.raises(InvalidInputError):
        z_test_proportions(11, 10, 0, 20)


def test_benjamini_hochberg_matches_hand_computation() -> None:
    p = [0.01, 0.04, 0.03, 0.005, np.nan]
    # sorted 0.005, 0.01, 0.03, 0.04 -> *4/rank = 0.02, 0.02, 0.04, 0.04
    adjusted = benjamini_hochberg(p)
    assert adjusted[:4] == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert np.isnan(adjusted[4])
    assert np.isnan(benjamini_hochberg([np.nan])).all()


def test_ks_p_value_for_large_samples_stays_close_to_scipy() -> None:
    for d in (0.002, 0.005, 0.01):
        expected = sps.kstwo.sf(d, 500_000)
        assert ks_p_value(d, 1_000_000, 1_000_000) == pytest.approx(expected, rel=0.01)


def test_weighted_cdfs_handle_ties_across_samples() -> None:
    from mloop.stats.two_sample import weighted_cdfs

    grid, ref, cur = weighted_cdfs(
        np.array([1.0, 2.0]), np.array([1.0, 1.0]), np.array([2.0, 3.0]), np.array([3.0, 1.0])
    )
    assert grid.tolist() == [1.0, 2.0, 3.0]
    assert ref.tolist() == [0.5, 1.0, 1.0]
    assert cur.tolist() == [0.0, 0.75, 1.0]


def test_single_values_give_a_p_value_without_warnings() -> None:
    assert ks_p_value(1.0, 1, 1) == pytest.approx(sps.kstwo.sf(1.0, 1))
    assert 0.0 <= ks_2samp([0.0], [0.0]).p_value <= 1.0
