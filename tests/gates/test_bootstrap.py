"""The vectorised bootstrap scores each resample exactly as scoring its drawn rows would."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mloop.gates.bootstrap import resample_blocks, weighted_scores
from mloop.gates.champion import paired_bootstrap
from mloop.gates.evaluation import Predictions
from mloop.gates.metrics import score
from mloop.gates.policy import CLASSIFICATION_METRICS, REGRESSION_METRICS


def _classifier(rows: int, seed: int) -> tuple[np.ndarray, Predictions]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, rows)
    # rounded scores, so ROC AUC meets ties
    prob = np.round(np.clip(0.35 * truth + 0.65 * rng.random(rows), 0, 1), 2)
    return truth, Predictions((prob > 0.5).astype(np.int64), prob)


@pytest.mark.parametrize("metric", [*CLASSIFICATION_METRICS, *REGRESSION_METRICS])
def test_weighted_scores_equal_scoring_the_drawn_rows(metric: str) -> None:
    if metric in REGRESSION_METRICS:
        rng = np.random.default_rng(3)
        truth = rng.normal(5.0, 2.0, 200)
        predictions = Predictions(truth + rng.normal(0.0, 1.0, 200), None)
    else:
        truth, predictions = _classifier(200, seed=3)
    (block,) = resample_blocks(truth.size, 25, seed=7)
    found = weighted_scores(metric, block, truth, predictions, positive=1)
    if metric == "calibration_error":
        assert found is None  # scored resample by resample instead
        return
    assert found is not None
    for i, rows in enumerate(block.drawn):
        expected = score(metric, truth, predictions, positive=1, rows=rows)
        assert found[i] == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_counts_draw_n_rows_per_resample_across_blocks() -> None:
    blocks = list(resample_blocks(300_000, 20, seed=1))
    assert [b.size for b in blocks] == [6, 6, 6, 2]  # 2,000,000 cells per block
    assert all((b.counts.sum(axis=1) == 300_000).all() for b in blocks)
    order = np.argsort(np.random.default_rng(2).random(300_000))
    assert (blocks[3].counts_in(order) == blocks[3].counts[:, order]).all()


def test_the_interval_is_reproducible_and_brackets_the_improvement() -> None:
    truth, better = _classifier(2000, seed=5)
    rng = np.random.default_rng(9)
    assert better.probability is not None
    noisy = np.clip(better.probability + rng.normal(0, 0.3, truth.size), 0, 1)
    worse = Predictions((noisy > 0.5).astype(np.int64), noisy)
    args: dict[str, Any] = {"positive": 1, "resamples": 300, "confidence": 0.9, "seed": 4}
    first = paired_bootstrap("roc_auc", truth, better, worse, **args)
    assert paired_bootstrap("roc_auc", truth, better, worse, **args) == first
    assert 0 < first["low"] <= first["improvement"] <= first["high"]
    # lower is better for log loss: the improvement is still positive for the better model
    loss = paired_bootstrap("log_loss", truth, better, worse, **args)
    assert loss["improvement"] > 0
    assert loss["direction"] == "lower"
    calibration = paired_bootstrap("calibration_error", truth, better, worse, **args)
    assert calibration["resamples"] == 300
