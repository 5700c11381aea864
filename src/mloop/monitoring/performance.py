"""Model performance once labels arrive: overall and per segment (e.g. per country).

Classification: accuracy, precision, recall, F1, and with probabilities ROC AUC, log loss and
expected calibration error. Regression: MAE, RMSE, R2, MAPE.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mloop.errors import InvalidInputError
from mloop.monitoring.columns import read_columns
from mloop.stats import classification, regression


@dataclass(frozen=True)
class PerformanceReport:
    """Metrics of a model on labelled data.

    Attributes:
        task: "classification" or "regression".
        rows: rows scored.
        metrics: metric name → value (None when undefined, e.g. AUC on one class).
        segments: segment value → {"rows": n, metric name → value}.
    """

    task: str
    rows: int
    metrics: dict[str, float | None]
    segments: dict[str, dict[str, float | None]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "task": self.task,
            "rows": self.rows,
            "metrics": self.metrics,
            "segments": self.segments,
        }


Scorer = Callable[[dict[str, np.ndarray]], dict[str, float | None]]


def _safe(function: Callable[[], float]) -> float | None:
    try:
        return float(function())
    except InvalidInputError:
        return None


def _classification_scorer(positive: Any, has_probability: bool) -> Scorer:
    def score(columns: dict[str, np.ndarray]) -> dict[str, float | None]:
        truth, pred = columns["target"], columns["prediction"]
        precision, recall, f1 = classification.precision_recall_f1(truth, pred, positive=positive)
        metrics: dict[str, float | None] = {
            "accuracy": classification.accuracy(truth, pred),
            "precision": precision,
            "recall": recall,
            "f1": f1,
        }
        if has_probability:
            prob = columns["probability"]
            metrics["roc_auc"] = _safe(
                lambda: classification.roc_auc(truth, prob, positive=positive)
            )
            metrics["log_loss"] = classification.log_loss(truth, prob, positive=positive)
            metrics["calibration_error"] = classification.expected_calibration_error(
                truth, prob, positive=positive
            )
        return metrics

    return score


def _regression_score(columns: dict[str, np.ndarray]) -> dict[str, float | None]:
    truth, pred = columns["target"], columns["prediction"]
    return {
        "mae": regression.mean_absolute_error(truth, pred),
        "rmse": regression.root_mean_squared_error(truth, pred),
        "r2": regression.r2_score(truth, pred),
        "mape": regression.mean_absolute_percentage_error(truth, pred),
    }


def _read(data: object, names: dict[str, str]) -> dict[str, np.ndarray]:
    table = read_columns(data)
    missing = [column for column in names.values() if column not in table.names]
    if missing:
        raise InvalidInputError(
            f"columns {missing} are not in the data (it has {list(table.names)})",
            field="columns",
        )
    return {
        role: np.asarray(table.column(column).to_numpy(zero_copy_only=False))
        for role, column in names.items()
    }


def _evaluate(task: str, columns: dict[str, np.ndarray], scorer: Scorer) -> PerformanceReport:
    rows = len(columns["target"])
    if rows == 0:
        raise InvalidInputError("no labelled rows to score", field="target")
    segments: dict[str, dict[str, float | None]] = {}
    if "segment" in columns:
        keys = columns["segment"].astype(str)
        for value in np.unique(keys):
            mask = keys == value
            part = {role: array[mask] for role, array in columns.items()}
            segments[str(value)] = {"rows": float(mask.sum()), **scorer(part)}
    return PerformanceReport(task, rows, scorer(columns), segments)


def classification_performance(
    data: object,
    *,
    target: str,
    prediction: str,
    probability: str | None = None,
    positive: Any = 1,
    segment: str | None = None,
) -> PerformanceReport:
    """Classification metrics overall and per value of `segment`.

    Args:
        data: a table with the label, the predicted label and optionally the probability.
        target: the label column.
        prediction: the predicted label column.
        probability: the column with the predicted probability of `positive`.
        positive: the positive label.
        segment: a column to break the metrics down by.

    Raises:
        InvalidInputError: a column is absent or the data is empty.
    """
    names = {"target": target, "prediction": prediction}
    if probability is not None:
        names["probability"] = probability
    if segment is not None:
        names["segment"] = segment
    scorer = _classification_scorer(positive, probability is not None)
    return _evaluate("classification", _read(data, names), scorer)


def regression_performance(
    data: object, *, target: str, prediction: str, segment: str | None = None
) -> PerformanceReport:
    """Regression metrics overall and per value of `segment`.

    Raises:
        InvalidInputError: a column is absent, the data is empty or holds non-finite values.
    """
    names = {"target": target, "prediction": prediction}
    if segment is not None:
        names["segment"] = segment
    return _evaluate("regression", _read(data, names), _regression_score)
