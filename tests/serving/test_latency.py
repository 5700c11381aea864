"""The latency model: latency = a * rows + b over a window of recent batches."""

from __future__ import annotations

import pytest

from mloop.serving.latency import LatencyModel


def test_the_fit_recovers_slope_and_overhead_and_follows_a_change() -> None:
    model = LatencyModel(window=8)
    assert model.expected_s(10) == 0.0
    for rows in (1, 2, 4, 8, 16, 32, 64, 128):
        model.observe(rows, 0.001 + rows * 0.0001)
    assert model.per_row_s == pytest.approx(0.0001)
    assert model.overhead_s == pytest.approx(0.001)
    assert model.expected_s(100) == pytest.approx(0.011)
    # the window slides: eight batches later only the new cost counts
    for rows in (1, 2, 4, 8, 16, 32, 64, 128):
        model.observe(rows, 0.002 + rows * 0.0002)
    assert model.samples == 8
    assert model.expected_s(100) == pytest.approx(0.022)


def test_batches_of_one_size_count_as_overhead_and_arrivals_are_averaged() -> None:
    model = LatencyModel()
    for _ in range(5):
        model.observe(1, 0.003)
    assert model.per_row_s == 0.0
    assert model.overhead_s == pytest.approx(0.003)
    assert model.expected_gap_s() is None
    for t in range(10):
        model.arrived(t * 0.01)
    gap = model.expected_gap_s()
    assert gap is not None
    assert gap == pytest.approx(0.01)
