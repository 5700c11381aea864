"""Benchmark: the champion gate's paired bootstrap, mloop vs a scikit-learn loop.

Run (one benchmark at a time; the machine has 2 shared cores):

    .venv/bin/python bench/gates.py --rows 2000 20000 --resamples 1000

Two binary classifiers' probabilities on n labelled rows; each metric's paired bootstrap interval
of the difference (1,000 resamples):

- mloop: `mloop.gates.champion.paired_bootstrap` (blocks of resamples scored at once);
- anchor: the loop people write by hand, one resample at a time with scikit-learn's
  `roc_auc_score`, `f1_score`, `log_loss` on the drawn rows.

Both use the very same resamples (mloop's blocks of drawn row indices), so their intervals must
agree; the script checks that and prints the median of `--repeat` runs and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from mloop.gates.bootstrap import resample_blocks
from mloop.gates.champion import paired_bootstrap
from mloop.gates.evaluation import Predictions

METRICS = ("roc_auc", "f1", "log_loss")


def _data(rows: int) -> tuple[np.ndarray, Predictions, Predictions]:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, rows)
    better = np.clip(0.3 * truth + 0.7 * rng.random(rows), 0, 1)
    worse = np.clip(0.2 * truth + 0.8 * rng.random(rows), 0, 1)
    return (
        truth,
        Predictions((better > 0.5).astype(np.int64), better),
        Predictions((worse > 0.5).astype(np.int64), worse),
    )


def _sklearn(metric: str) -> Callable[[np.ndarray, Predictions, np.ndarray], float]:
    from sklearn import metrics

    def score(truth: np.ndarray, model: Predictions, rows: np.ndarray) -> float:
        if metric == "f1":
            return float(metrics.f1_score(truth[rows], model.predicted[rows]))
        prob = model.probability
        if prob is None:
            raise ValueError("no probabilities")
        if metric == "roc_auc":
            return float(metrics.roc_auc_score(truth[rows], prob[rows]))
        return float(metrics.log_loss(truth[rows], prob[rows], labels=[0, 1]))

    return score


def _anchor(metric: str, truth: np.ndarray, a: Predictions, b: Predictions, resamples: int) -> Any:
    score = _sklearn(metric)
    sign = -1.0 if metric == "log_loss" else 1.0
    diffs = [
        sign * (score(truth, a, rows) - score(truth, b, rows))
        for block in resample_blocks(truth.size, resamples, seed=0)
        for rows in block.drawn
    ]
    return np.percentile(diffs, [2.5, 97.5])


def _timed(function: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    """Print seconds per metric and size, and the ratio anchor / mloop."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("| rows | metric | mloop s | scikit-learn loop s | ratio | same interval |")
    print("|---:|---|---:|---:|---:|---|")
    for rows in args.rows:
        truth, a, b = _data(rows)
        for metric in METRICS:
            print(_compare(metric, truth, a, b, resamples=args.resamples, repeat=args.repeat))


def _compare(
    metric: str, truth: np.ndarray, a: Predictions, b: Predictions, *, resamples: int, repeat: int
) -> str:
    mine_s, mine = _timed(
        lambda: paired_bootstrap(
            metric, truth, a, b, positive=1, resamples=resamples, confidence=0.95, seed=0
        ),
        repeat,
    )
    theirs_s, theirs = _timed(lambda: _anchor(metric, truth, a, b, resamples), repeat)
    same = bool(np.allclose([mine["low"], mine["high"]], theirs, rtol=1e-6, atol=1e-9))
    return (
        f"| {truth.size:,} | {metric} | {mine_s:.2f} | {theirs_s:.2f} | "
        f"{theirs_s / mine_s:.1f}x | {same} |"
    )


if __name__ == "__main__":
    main()
