"""Beat the champion: a paired bootstrap confidence interval of the improvement on the holdout.

Both models score the same resampled rows in every resample, so the interval is of the paired
difference (candidate minus champion, or champion minus candidate for metrics where lower is
better) and row-to-row noise common to both models cancels out. The gate passes when the
interval's lower bound reaches the margin: a point estimate above the champion is not enough.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mloop.errors import InvalidInputError
from mloop.gates.bootstrap import Block, resample_blocks, weighted_scores
from mloop.gates.metrics import direction, score
from mloop.gates.report import GateResult

if TYPE_CHECKING:
    from mloop.gates.evaluation import Predictions
    from mloop.gates.policy import ChampionGate


def paired_bootstrap(
    metric: str,
    truth: np.ndarray[Any, Any],
    candidate: Predictions,
    champion: Predictions,
    *,
    positive: Any,
    resamples: int,
    confidence: float,
    seed: int,
) -> dict[str, Any]:
    """The improvement of `candidate` over `champion` with its percentile interval.

    Resamples on which the metric is undefined (ROC AUC of a resample holding one class) are
    left out and counted.

    Returns:
        `candidate`, `champion` and `improvement` on the whole holdout, `low` and `high` (the
        interval), `resamples` used and `undefined` resamples.

    Raises:
        InvalidInputError: the metric is undefined on the whole holdout or on every resample.
    """
    sign = -1.0 if direction(metric) == "lower" else 1.0
    mine = score(metric, truth, candidate, positive=positive)
    theirs = score(metric, truth, champion, positive=positive)
    blocks = [
        _block_differences(metric, block, truth, candidate, champion, positive=positive)
        for block in resample_blocks(truth.size, resamples, seed=seed)
    ]
    differences = sign * np.concatenate(blocks)
    usable = differences[np.isfinite(differences)]
    if usable.size == 0:
        raise InvalidInputError(f"{metric} is undefined on every resample", field="metric")
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(usable, [tail, 100.0 - tail])
    return {
        "metric": metric,
        "direction": direction(metric),
        "candidate": mine,
        "champion": theirs,
        "improvement": sign * (mine - theirs),
        "low": float(low),
        "high": float(high),
        "confidence": confidence,
        "resamples": int(usable.size),
        "undefined": int(resamples - usable.size),
    }


def _block_differences(
    metric: str,
    block: Block,
    truth: np.ndarray[Any, Any],
    candidate: Predictions,
    champion: Predictions,
    *,
    positive: Any,
) -> np.ndarray[Any, Any]:
    """Candidate minus champion on each resample of a block (NaN where undefined)."""
    mine = weighted_scores(metric, block, truth, candidate, positive=positive)
    theirs = weighted_scores(metric, block, truth, champion, positive=positive)
    if mine is not None and theirs is not None:
        return mine - theirs
    # no count-weighted form: score the drawn rows of each resample
    differences = np.full(block.size, np.nan)
    for i, rows in enumerate(block.drawn):
        try:
            differences[i] = score(metric, truth, candidate, positive=positive, rows=rows) - score(
                metric, truth, champion, positive=positive, rows=rows
            )
        except InvalidInputError:
            continue
    return differences


def champion_gate(
    gate: ChampionGate,
    truth: np.ndarray[Any, Any],
    candidate: Predictions,
    champion: Predictions | None,
    *,
    positive: Any,
    champion_uri: str | None,
) -> GateResult:
    """Compare the candidate with the alias holder's predictions (None: no holder yet)."""
    if champion is None:
        return GateResult(
            "champion",
            "pass",
            f"no version holds @{gate.alias} yet: nothing to beat",
            details={"alias": gate.alias, "champion": None},
        )
    try:
        found = paired_bootstrap(
            gate.metric,
            truth,
            candidate,
            champion,
            positive=positive,
            resamples=gate.resamples,
            confidence=gate.confidence,
            seed=gate.seed,
        )
    except InvalidInputError as exc:
        return GateResult("champion", "error", f"cannot compare {gate.metric}: {exc}")
    level = f"{gate.confidence * 100:g}%"
    interval = f"[{found['low']:+.4f}, {found['high']:+.4f}]"
    numbers = (
        f"{gate.metric} {found['candidate']:.4f} vs {found['champion']:.4f} ({champion_uri}); "
        f"improvement {found['improvement']:+.4f}, {level} CI {interval}, margin {gate.margin:+g}"
    )
    passed = found["low"] >= gate.margin
    failure = (
        ()
        if passed
        else (f"{numbers}: the interval's lower bound {found['low']:+.4f} is below the margin",)
    )
    details = {**found, "alias": gate.alias, "margin": gate.margin, "champion_uri": champion_uri}
    return GateResult("champion", "pass" if passed else "fail", numbers, failure, details)
