"""Vectorised bootstrap: metrics of many resamples at once, from resample counts.

Every metric of the performance set but the calibration error is a function of sums over the
drawn rows (ROC AUC: of how often each row was drawn, in score order), so a block of resamples
is a few array operations instead of one metric call per resample. Ties in ROC AUC count one
half, as in the Mann-Whitney statistic `mloop.stats.classification.roc_auc` uses; each resample
gets the value that scoring its drawn rows one at a time would give.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from mloop.gates.evaluation import Predictions

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
# Cells of one block of counts (resamples x rows): 16 MB of float64.
_BLOCK_CELLS = 2_000_000
_EPS = 1e-15


class Block:
    """A block of bootstrap resamples of n rows, as the row indices each resample drew.

    Attributes:
        drawn: (resamples in the block, n) row indices.
        n: rows in the sample.
    """

    def __init__(self, drawn: np.ndarray[Any, Any], n: int) -> None:
        self.drawn = drawn
        self.n = n
        self._counts: FloatArray | None = None

    @property
    def size(self) -> int:
        """Resamples in the block."""
        return int(self.drawn.shape[0])

    @property
    def counts(self) -> FloatArray:
        """How often each row was drawn: (resamples, n)."""
        if self._counts is None:
            self._counts = self._count(self.drawn)
        return self._counts

    def sums(self, values: FloatArray) -> FloatArray:
        """The sum of `values` over each resample's drawn rows.

        A gather from one vector, which stays in cache: cheaper than building the counts.
        """
        total: FloatArray = np.take(values, self.drawn).sum(axis=1)
        return total

    def counts_in(self, order: np.ndarray[Any, Any]) -> FloatArray:
        """The counts with columns in `order` (rows sorted by a score), without a gather."""
        position = np.empty(self.n, dtype=self.drawn.dtype)
        position[order] = np.arange(self.n, dtype=self.drawn.dtype)
        return self._count(position[self.drawn])

    def _count(self, drawn: np.ndarray[Any, Any]) -> FloatArray:
        offsets = (np.arange(self.size, dtype=np.int64) * self.n)[:, None]
        flat = (drawn + offsets).ravel()
        counts = np.bincount(flat, minlength=self.size * self.n)
        return counts.reshape(self.size, self.n).astype(np.float64)


def resample_blocks(n: int, resamples: int, *, seed: int) -> Iterator[Block]:
    """Blocks of bootstrap resamples (each draws n rows with replacement).

    Args:
        n: rows in the sample.
        resamples: resamples over all blocks.
        seed: the generator's seed (the same seed gives the same resamples).
    """
    rng = np.random.default_rng(seed)
    block = max(1, _BLOCK_CELLS // max(n, 1))
    done = 0
    while done < resamples:
        size = min(block, resamples - done)
        yield Block(rng.integers(0, n, (size, n)), n)
        done += size


def _ratio(top: FloatArray, bottom: FloatArray) -> FloatArray:
    """The ratio, 0 where the denominator is 0 (as scikit-learn's zero_division=0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1.0), 0.0)


def _auc(block: Block, is_pos: np.ndarray[Any, Any], score: FloatArray) -> FloatArray:
    """Weighted Mann-Whitney AUC per resample; NaN where a resample lacks a class."""
    order = np.argsort(score, kind="stable")
    ranked = score[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    weights = block.counts_in(order)
    positive = is_pos[order]
    pos_groups = np.add.reduceat(weights * positive, starts, axis=1)
    neg_groups = np.add.reduceat(weights * ~positive, starts, axis=1)
    below = np.cumsum(neg_groups, axis=1) - neg_groups
    wins = np.sum(pos_groups * (below + 0.5 * neg_groups), axis=1)
    pairs = pos_groups.sum(axis=1) * neg_groups.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pairs > 0, wins / np.where(pairs > 0, pairs, 1.0), np.nan)


def _classification(
    metric: str,
    block: Block,
    truth: np.ndarray[Any, Any],
    predictions: Predictions,
    *,
    positive: Any,
) -> FloatArray | None:
    n = truth.size
    is_pos = truth == positive
    if metric == "roc_auc" and predictions.probability is not None:
        return _auc(block, is_pos, predictions.probability.astype(np.float64))
    if metric == "accuracy":
        correct = (predictions.predicted == truth).astype(np.float64)
        accuracy: FloatArray = block.sums(correct) / n
        return accuracy
    if metric in ("precision", "recall", "f1"):
        selected = predictions.predicted == positive
        hits = block.sums((selected & is_pos).astype(np.float64))
        precision = _ratio(hits, block.sums(selected.astype(np.float64)))
        recall = _ratio(hits, block.sums(is_pos.astype(np.float64)))
        if metric != "f1":
            return precision if metric == "precision" else recall
        return _ratio(2 * precision * recall, precision + recall)
    prob = predictions.probability
    if prob is None or metric != "log_loss":
        return None
    p = np.clip(prob.astype(np.float64), _EPS, 1 - _EPS)
    y = is_pos.astype(np.float64)
    losses: FloatArray = block.sums(-(y * np.log(p) + (1 - y) * np.log(1 - p))) / n
    return losses


def _regression(metric: str, block: Block, truth: FloatArray, pred: FloatArray) -> FloatArray:
    n = truth.size
    error = truth - pred
    if metric == "mae":
        return block.sums(np.abs(error)) / n
    if metric == "rmse":
        return np.sqrt(block.sums(error**2) / n)
    if metric == "mape":
        return block.sums(np.abs(error) / np.maximum(np.abs(truth), np.finfo(np.float64).eps)) / n
    residual = block.sums(error**2)
    squares = block.sums(truth**2)
    total = squares - block.sums(truth) ** 2 / n
    constant = total <= 1e-12 * np.maximum(squares, 1e-300)
    fallback = np.where(residual == 0, 1.0, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(constant, fallback, 1.0 - residual / np.where(constant, 1.0, total))


def weighted_scores(
    metric: str,
    block: Block,
    truth: np.ndarray[Any, Any],
    predictions: Predictions,
    *,
    positive: Any,
) -> FloatArray | None:
    """`metric` on each resample of a block (NaN where undefined).

    Returns:
        One value per resample, or None when the metric has no count-weighted form (the
        calibration error): the caller then scores the resamples one at a time.
    """
    if metric in ("mae", "rmse", "mape", "r2"):
        return _regression(
            metric,
            block,
            truth.astype(np.float64),
            predictions.predicted.astype(np.float64),
        )
    return _classification(metric, block, truth, predictions, positive=positive)
