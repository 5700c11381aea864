from __future__ import annotations

import json

import numpy as np
import pytest

from mloop.errors import InvalidInputError
from mloop.stats import Moments, QuantileSketch


def test_sketch_is_exact_for_few_distinct_values() -> None:
    sketch = QuantileSketch.from_values([3, 1, 2, 2, 3, 3])
    assert sketch.values.tolist() == [1.0, 2.0, 3.0]
    assert sketch.weights.tolist() == [1.0, 2.0, 3.0]
    assert sketch.quantiles([0.0, 0.5, 1.0]).tolist() == [1.0, 2.0, 3.0]


def test_compressed_sketch_quantiles_are_within_its_rank_error() -> None:
    rng = np.random.default_rng(7)
    values = rng.normal(size=200_000)
    sketch = QuantileSketch.from_values(values, size=512)
    assert sketch.values.size <= 512
    assert sketch.count == 200_000
    q = np.linspace(0.01, 0.99, 50)
    ranks = np.searchsorted(np.sort(values), sketch.quantiles(q)) / values.size
    assert np.max(np.abs(ranks - q)) < 2 / 512
    assert sketch.minimum == values.min()
    assert sketch.maximum == values.max()


def test_merged_sketches_match_a_sketch_of_all_values() -> None:
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=50_000), rng.normal(1, size=30_000)
    merged = QuantileSketch.from_values(a, size=1024).merge(
        QuantileSketch.from_values(b, size=1024)
    )
    whole = np.sort(np.concatenate([a, b]))
    q = np.linspace(0.05, 0.95, 19)
    ranks = np.searchsorted(whole, merged.quantiles(q)) / whole.size
    assert np.max(np.abs(ranks - q)) < 3 / 1024
    assert merged.count == 80_000


def test_sketch_round_trips_through_json() -> None:
    sketch = QuantileSketch.from_values(np.arange(100.0), size=16)
    back = QuantileSketch.from_dict(json.loads(json.dumps(sketch.to_dict())))
    assert np.array_equal(back.values, sketch.values)
    assert back.size == 16
    with pytest.raises(InvalidInputError, match="not a quantile sketch"):
        QuantileSketch.from_dict({"values": [1.0]})


def test_sketch_rejects_non_finite_values() -> None:
    with pytest.raises(InvalidInputError, match="finite"):
        QuantileSketch.from_values([1.0, np.inf])


def test_moments_merge_like_one_pass() -> None:
    rng = np.random.default_rng(9)
    a, b = rng.normal(size=1000), rng.normal(3, 2, size=500)
    merged = Moments.from_values(a).merge(Moments.from_values(b))
    whole = np.concatenate([a, b])
    assert merged.mean == pytest.approx(whole.mean())
    assert merged.std == pytest.approx(whole.std())
    assert Moments().merge(Moments()).count == 0
    assert Moments().std == 0.0


def test_histogram_matches_numpy_on_exact_and_compressed_sketches() -> None:
    rng = np.random.default_rng(10)
    values = np.round(rng.normal(size=5000), 2)
    edges = np.array([-np.inf, -1.0, 0.0, 0.5, 1.0, np.inf])
    exact = QuantileSketch.from_values(values, size=10**9)
    assert exact.histogram(edges).tolist() == np.histogram(values, edges)[0].tolist()
    closed = np.array([-1.0, 0.0, values.max()])  # the last bin includes its right edge
    assert exact.histogram(closed).tolist() == np.histogram(values, closed)[0].tolist()
    compressed = QuantileSketch.from_values(values, size=64)
    assert compressed.histogram(edges).sum() == pytest.approx(5000)
