"""Classification metrics: accuracy, precision, recall, F1, ROC AUC, log loss, calibration error.

Binary metrics take a `positive` label; precision, recall and F1 on more than two classes take
`average="macro"` or `"weighted"`. Results match scikit-learn's on the same inputs (with
`zero_division=0`).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

from mloop.errors import InvalidInputError
from mloop.stats.two_sample import FloatArray

Average = Literal["binary", "macro", "weighted"]


def _pair(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> tuple[npt.NDArray[Any], ...]:
    truth = np.asarray(y_true).ravel()
    pred = np.asarray(y_pred).ravel()
    if truth.shape != pred.shape:
        raise InvalidInputError(
            f"labels and predictions differ in length ({truth.size} vs {pred.size})",
            field="y_pred",
        )
    if truth.size == 0:
        raise InvalidInputError("no rows to score; pass at least one label", field="y_true")
    return truth, pred


def accuracy(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Share of predictions equal to the label.

    Raises:
        InvalidInputError: the inputs differ in length or are empty.
    """
    truth, pred = _pair(y_true, y_pred)
    return float(np.mean(truth == pred))


def _ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.where(denominator > 0, numerator / safe, 0.0)


def _per_class(truth: npt.NDArray[Any], pred: npt.NDArray[Any], labels: npt.NDArray[Any]) -> Any:
    # one vectorised pass: rows = classes, columns = samples
    is_true = truth[None, :] == labels[:, None]
    is_pred = pred[None, :] == labels[:, None]
    tp = (is_true & is_pred).sum(axis=1).astype(np.float64)
    return tp, is_pred.sum(axis=1).astype(np.float64), is_true.sum(axis=1).astype(np.float64)


def precision_recall_f1(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    average: Average = "binary",
    positive: Any = 1,
) -> tuple[float, float, float]:
    """Precision, recall and F1 (0 where a denominator is 0, as scikit-learn `zero_division=0`).

    Args:
        y_true: true labels.
        y_pred: predicted labels.
        average: "binary" scores the `positive` label; "macro" averages classes equally;
            "weighted" weights them by their support.
        positive: the positive label for `average="binary"`.

    Returns:
        (precision, recall, f1).

    Raises:
        InvalidInputError: the inputs differ in length or are empty.
    """
    truth, pred = _pair(y_true, y_pred)
    labels = (
        np.array([positive]) if average == "binary" else np.unique(np.concatenate([truth, pred]))
    )
    tp, predicted, actual = _per_class(truth, pred, labels)
    precision = _ratio(tp, predicted)
    recall = _ratio(tp, actual)
    f1 = _ratio(2 * precision * recall, precision + recall)
    weights = actual if average == "weighted" else np.ones(labels.size)
    if weights.sum() == 0:
        return 0.0, 0.0, 0.0
    return tuple(float(np.average(m, weights=weights)) for m in (precision, recall, f1))  # type: ignore[return-value]


def roc_auc(y_true: npt.ArrayLike, y_score: npt.ArrayLike, *, positive: Any = 1) -> float:
    """Area under the ROC curve of a binary score (Mann-Whitney U with tie correction).

    Args:
        y_true: true labels.
        y_score: scores, larger meaning more likely `positive`.
        positive: the positive label.

    Returns:
        The AUC.

    Raises:
        InvalidInputError: lengths differ, or only one class is present.
    """
    truth, score = _pair(y_true, y_score)
    is_pos = truth == positive
    n_pos = int(is_pos.sum())
    n_neg = is_pos.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise InvalidInputError(
            "ROC AUC needs both classes in y_true; this sample has only one", field="y_true"
        )
    ranks = sps.rankdata(score.astype(np.float64))
    u = ranks[is_pos].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def log_loss(
    y_true: npt.ArrayLike, y_prob: npt.ArrayLike, *, positive: Any = 1, eps: float = 1e-15
) -> float:
    """Mean negative log-likelihood of binary labels under predicted probabilities.

    Args:
        y_true: true labels.
        y_prob: predicted probability of `positive`.
        positive: the positive label.
        eps: probabilities are clipped to [eps, 1 - eps].

    Returns:
        The log loss (natural log).

    Raises:
        InvalidInputError: lengths differ or a probability is outside [0, 1].
    """
    truth, prob = _pair(y_true, y_prob)
    p = _probabilities(prob)
    p = np.clip(p, eps, 1 - eps)
    y = (truth == positive).astype(np.float64)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _probabilities(values: npt.NDArray[Any]) -> FloatArray:
    p = values.astype(np.float64)
    if not np.all((p >= 0) & (p <= 1)):
        raise InvalidInputError("probabilities must lie in [0, 1]", field="y_prob")
    return p


def expected_calibration_error(
    y_true: npt.ArrayLike, y_prob: npt.ArrayLike, *, positive: Any = 1, bins: int = 10
) -> float:
    """Expected calibration error of binary probabilities over equal-width bins.

    ECE = sum over bins of (bin share) * |mean predicted probability - observed positive rate|.

    Args:
        y_true: true labels.
        y_prob: predicted probability of `positive`.
        positive: the positive label.
        bins: number of equal-width probability bins on [0, 1].

    Returns:
        The ECE (0 is perfectly calibrated).

    Raises:
        InvalidInputError: lengths differ or a probability is outside [0, 1].
    """
    truth, prob = _pair(y_true, y_prob)
    p = _probabilities(prob)
    y = (truth == positive).astype(np.float64)
    index = np.minimum((p * bins).astype(np.int64), bins - 1)
    counts = np.bincount(index, minlength=bins).astype(np.float64)
    prob_sums = np.bincount(index, weights=p, minlength=bins).astype(np.float64)
    pos_sums = np.bincount(index, weights=y, minlength=bins).astype(np.float64)
    gaps = np.abs(_ratio(prob_sums, counts) - _ratio(pos_sums, counts))
    return float(np.sum(gaps * counts) / p.size)
