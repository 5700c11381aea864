"""Property tests: the summary-based statistics agree with SciPy on arbitrary small samples."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from mloop.stats import QuantileSketch, benjamini_hochberg, ks_2samp
from mloop.stats.distances import wasserstein_weighted
from mloop.stats.two_sample import ks_distance

samples = st.lists(st.integers(-20, 20).map(lambda v: v / 4), min_size=1, max_size=60)


@settings(max_examples=150, deadline=None)
@given(samples, samples)
def test_sketch_statistics_equal_scipy_on_raw_samples(ref: list[float], cur: list[float]) -> None:
    a, b = QuantileSketch.from_values(ref), QuantileSketch.from_values(cur)
    d = ks_distance(a.values, a.weights, b.values, b.weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy's own exact-method fallback
        expected = sps.ks_2samp(ref, cur).statistic
    assert d == pytest.approx(expected, abs=1e-12)
    # the wrapper never warns (scipy does when its exact method falls back)
    assert ks_2samp(ref, cur).statistic == pytest.approx(expected, abs=1e-12)
    w = wasserstein_weighted(a.values, a.weights, b.values, b.weights)
    assert w == pytest.approx(sps.wasserstein_distance(ref, cur), abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=40))
def test_benjamini_hochberg_is_bounded_and_keeps_the_order(p: list[float]) -> None:
    raw = np.array(p)
    adjusted = benjamini_hochberg(raw)
    assert np.all(adjusted >= raw - 1e-12)
    assert np.all(adjusted <= 1.0)
    order = np.argsort(raw, kind="stable")
    assert np.all(np.diff(adjusted[order]) >= -1e-12)
