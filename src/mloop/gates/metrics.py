"""The metric-threshold gate, and one-metric scoring shared with the champion gate.

Metrics are the drift engine's performance set (`mloop.monitoring.performance`), computed over
the whole holdout and, for a threshold with `per_segment`, per value of that column.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mloop.gates.policy import LOWER_IS_BETTER, PROBABILITY_METRICS
from mloop.gates.report import GateResult
from mloop.stats import classification, regression

if TYPE_CHECKING:
    import pandas as pd

    from mloop.gates.evaluation import Predictions
    from mloop.gates.policy import MetricThreshold, Policy
    from mloop.monitoring import PerformanceReport


def score(
    metric: str,
    truth: np.ndarray[Any, Any],
    predictions: Predictions,
    *,
    positive: Any,
    rows: np.ndarray[Any, Any] | None = None,
) -> float:
    """One metric of predictions against labels (on `rows` only, when given).

    Raises:
        InvalidInputError: the metric is undefined on these rows (e.g. ROC AUC on one class).
    """
    pred, prob = predictions.predicted, predictions.probability
    if rows is not None:
        truth, pred = truth[rows], pred[rows]
        prob = prob[rows] if prob is not None else None
    if metric in PROBABILITY_METRICS:
        if prob is None:
            from mloop.errors import InvalidInputError

            raise InvalidInputError(f"{metric} needs predicted probabilities", field="metric")
        if metric == "roc_auc":
            return classification.roc_auc(truth, prob, positive=positive)
        if metric == "log_loss":
            return classification.log_loss(truth, prob, positive=positive)
        return classification.expected_calibration_error(truth, prob, positive=positive)
    if metric == "accuracy":
        return classification.accuracy(truth, pred)
    if metric in ("precision", "recall", "f1"):
        values = classification.precision_recall_f1(truth, pred, positive=positive)
        return values[("precision", "recall", "f1").index(metric)]
    functions = {
        "mae": regression.mean_absolute_error,
        "rmse": regression.root_mean_squared_error,
        "r2": regression.r2_score,
        "mape": regression.mean_absolute_percentage_error,
    }
    return float(functions[metric](truth.astype(np.float64), pred.astype(np.float64)))


def direction(metric: str) -> str:
    """The metric's better direction: "lower" (log loss, errors) or "higher"."""
    return "lower" if metric in LOWER_IS_BETTER else "higher"


def performance(
    frame: pd.DataFrame,
    truth: np.ndarray[Any, Any],
    predictions: Predictions,
    policy: Policy,
    *,
    segment: str | None = None,
) -> PerformanceReport:
    """The drift engine's performance report of the predictions (per segment when given)."""
    import pandas as pd

    from mloop.monitoring import classification_performance, regression_performance

    table = pd.DataFrame({"target": truth, "prediction": predictions.predicted})
    if segment is not None:
        table["segment"] = frame[segment].astype(str).to_numpy()
    if policy.task == "regression":
        return regression_performance(
            table, target="target", prediction="prediction", segment="segment" if segment else None
        )
    if predictions.probability is not None:
        table["probability"] = predictions.probability
    return classification_performance(
        table,
        target="target",
        prediction="prediction",
        probability="probability" if predictions.probability is not None else None,
        positive=policy.positive_label,
        segment="segment" if segment else None,
    )


def _violation(
    threshold: MetricThreshold, value: float | None, where: str, *, has_probability: bool
) -> str | None:
    name = f"{threshold.metric}{where}"
    if value is None and threshold.metric in PROBABILITY_METRICS and not has_probability:
        return f"{name} needs predicted probabilities (the model has no predict_proba)"
    if value is None:
        return f"{name} is undefined on the holdout"
    if threshold.min is not None and value < threshold.min:
        return f"{name} {value:.4g} < min {threshold.min:g}"
    if threshold.max is not None and value > threshold.max:
        return f"{name} {value:.4g} > max {threshold.max:g}"
    return None


def _bound(threshold: MetricThreshold) -> str:
    parts = []
    if threshold.min is not None:
        parts.append(f">= {threshold.min:g}")
    if threshold.max is not None:
        parts.append(f"<= {threshold.max:g}")
    return " and ".join(parts)


def metrics_gate(
    frame: pd.DataFrame, truth: np.ndarray[Any, Any], predictions: Predictions, policy: Policy
) -> GateResult:
    """Check every metric threshold of the policy."""
    columns = sorted({t.per_segment for t in policy.metrics if t.per_segment})
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        problem = f"the holdout has no per_segment column(s) {', '.join(missing)}"
        return GateResult("metrics", "error", problem, (problem,))
    overall = performance(frame, truth, predictions, policy)
    by_segment = {
        column: performance(frame, truth, predictions, policy, segment=column) for column in columns
    }
    probability = predictions.probability is not None
    failures: list[str] = []
    rows: list[dict[str, Any]] = []
    for threshold in policy.metrics:
        if threshold.per_segment is None:
            value = overall.metrics.get(threshold.metric)
            found = _violation(threshold, value, "", has_probability=probability)
            rows.append(_row(threshold, "overall", value, found))
            failures.extend([found] if found else [])
            continue
        for key, values in by_segment[threshold.per_segment].segments.items():
            where = f"[{threshold.per_segment}={key}]"
            found = _violation(
                threshold, values.get(threshold.metric), where, has_probability=probability
            )
            rows.append(_row(threshold, where, values.get(threshold.metric), found))
            failures.extend([found] if found else [])
    checked = len(rows)
    summary = (
        f"{checked - len(failures)} of {checked} metric checks met"
        if failures
        else "; ".join(f"{r['metric']}{_where(r)} {_fmt(r['value'])} {r['bound']}" for r in rows)
    )
    return GateResult(
        "metrics",
        "fail" if failures else "pass",
        summary,
        tuple(failures),
        {
            "checks": rows,
            "overall": overall.metrics,
            "rows": overall.rows,
            "segments": {column: report.segments for column, report in by_segment.items()},
        },
    )


def _row(
    threshold: MetricThreshold, where: str, value: float | None, failure: str | None
) -> dict[str, Any]:
    return {
        "metric": threshold.metric,
        "scope": where,
        "value": value,
        "min": threshold.min,
        "max": threshold.max,
        "bound": _bound(threshold),
        "passed": failure is None,
    }


def _where(row: dict[str, Any]) -> str:
    return "" if row["scope"] == "overall" else str(row["scope"])


def _fmt(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.4g}"
