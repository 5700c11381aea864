from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps
from scipy.spatial import distance

from mloop.errors import InvalidInputError
from mloop.stats import hellinger, jensen_shannon, psi, wasserstein_normed
from mloop.stats.distances import binned_frequencies, fill_zeros, wasserstein_weighted


def test_wasserstein_normed_matches_scipy_over_reference_std() -> None:
    rng = np.random.default_rng(3)
    ref, cur = rng.normal(size=500), rng.normal(0.4, size=700)
    expected = sps.wasserstein_distance(ref, cur) / np.std(ref)
    assert wasserstein_normed(ref, cur) == pytest.approx(expected, rel=1e-9)


def test_wasserstein_normed_floors_the_std_of_a_constant_reference() -> None:
    assert wasserstein_normed([1.0, 1.0], [1.5, 1.5]) == pytest.approx(0.5 / 0.001)


def test_weighted_wasserstein_matches_scipy_weights() -> None:
    values_r, weights_r = np.array([0.0, 1.0, 3.0]), np.array([1.0, 2.0, 1.0])
    values_c, weights_c = np.array([1.0, 2.0]), np.array([3.0, 1.0])
    expected = sps.wasserstein_distance(values_r, values_c, weights_r, weights_c)
    assert wasserstein_weighted(values_r, weights_r, values_c, weights_c) == pytest.approx(expected)


def test_jensen_shannon_matches_scipy() -> None:
    p, q = [0.5, 0.3, 0.2, 0.0], [0.1, 0.3, 0.4, 0.2]
    assert jensen_shannon(p, q) == pytest.approx(distance.jensenshannon(p, q))
    assert jensen_shannon(p, p) == 0.0


def test_psi_by_hand_with_filled_empty_bins() -> None:
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.4, 0.4, 0.2])
    pf = np.array([0.5, 0.5, 1e-4])
    expected = np.sum((q - pf / pf.sum()) * np.log(q / (pf / pf.sum())))
    # the fill happens after normalising, as Evidently's
    assert fill_zeros(p).tolist() == [0.5, 0.5, 1e-4]
    assert psi(p, q) == pytest.approx(np.sum((q - fill_zeros(p)) * np.log(q / fill_zeros(p))))
    assert psi(p, q) == pytest.approx(expected, rel=1e-3)


def test_hellinger_by_hand() -> None:
    p, q = [0.5, 0.5], [0.9, 0.1]
    expected = np.sqrt(1 - (np.sqrt(0.45) + np.sqrt(0.05)))
    assert hellinger(p, q) == pytest.approx(expected)
    assert hellinger([1, 0], [0, 1]) == pytest.approx(1.0)


def test_distances_reject_misaligned_frequencies() -> None:
    with pytest.raises(InvalidInputError, match="aligned"):
        psi([0.5, 0.5], [1.0])
    with pytest.raises(InvalidInputError, match="positive total"):
        hellinger([0, 0], [1, 0])


def test_binned_frequencies_share_edges() -> None:
    ref, cur = binned_frequencies([0, 1, 2, 3], [2, 3, 4, 5], bins=5)
    assert ref.sum() == pytest.approx(1.0)
    assert cur.sum() == pytest.approx(1.0)
    assert ref[-1] == 0.0
    assert cur[0] == 0.0
