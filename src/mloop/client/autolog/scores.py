"""Classification and regression scores, vectorised, with sample weights, as scikit-learn has them.

scikit-learn's metric functions validate their input at length (about 2 ms each on 100 rows):
autolog computes the same numbers straight from NumPy, so logging a small fit costs far less than
the fit. Every score here is tested against its scikit-learn counterpart.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.intp]]


def label_indices(labels: Any, classes: Any) -> IntArray | None:
    """Each label's index in `classes`, or None when a label is not one of them."""
    values = np.asarray(labels)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values.ravel()
    known = np.asarray(classes)
    if values.ndim != 1 or known.ndim != 1 or len(known) == 0:
        return None
    try:
        order = np.argsort(known)
        position = np.searchsorted(known, values, sorter=order)
        found = order[np.minimum(position, len(known) - 1)]
        if not np.array_equal(known[found], values):
            return None
    except TypeError:  # labels of a type the classes do not compare with
        return None
    return found.astype(np.intp, copy=False)


def weights_for(count: int, sample_weight: Any) -> FloatArray:
    """The sample weights as floats, ones when there are none."""
    if sample_weight is None:
        return np.ones(count)
    return np.asarray(sample_weight, dtype=np.float64).reshape(count)


def classification_scores(
    truth: IntArray, predicted: IntArray, n_classes: int, weights: FloatArray
) -> dict[str, float]:
    """Accuracy and precision, recall and F1 (of class 1 when binary, else support-weighted).

    Ill-defined ratios (no predicted or no true sample of a class) count as 0.
    """
    cells = np.bincount(truth * n_classes + predicted, weights=weights, minlength=n_classes**2)
    matrix = np.asarray(cells, dtype=np.float64).reshape(n_classes, n_classes)
    hits = np.diag(matrix)
    actual = matrix.sum(axis=1)
    claimed = matrix.sum(axis=0)
    precision = _divide(hits, claimed)
    recall = _divide(hits, actual)
    f1 = _divide(2 * hits, actual + claimed)
    if n_classes == 2:
        chosen = (precision[1], recall[1], f1[1])
    else:
        share = _divide(actual, np.full_like(actual, actual.sum()))
        chosen = (precision @ share, recall @ share, f1 @ share)
    return {
        "training_accuracy_score": float(hits.sum() / matrix.sum()),
        "training_precision_score": float(chosen[0]),
        "training_recall_score": float(chosen[1]),
        "training_f1_score": float(chosen[2]),
    }


def log_loss(truth: IntArray, proba: FloatArray, weights: FloatArray) -> float:
    """Mean negative log-likelihood of the true class, probabilities clipped to [eps, 1 - eps]."""
    eps = np.finfo(proba.dtype).eps
    chosen = np.clip(proba[np.arange(len(truth)), truth], eps, 1 - eps)
    return float(-np.average(np.log(chosen), weights=weights))


def roc_auc(truth: IntArray, proba: FloatArray, weights: FloatArray) -> float | None:
    """ROC AUC: of class 1 when binary, else one-vs-rest weighted by class support.

    None when a class has no positive or no negative sample.
    """
    n_classes = proba.shape[1]
    if n_classes == 2:
        return _binary_auc(truth == 1, proba[:, 1], weights)
    scores = []
    for label in range(n_classes):
        area = _binary_auc(truth == label, proba[:, label], weights)
        if area is None:
            return None
        scores.append(area)
    support = np.bincount(truth, weights=weights, minlength=n_classes)
    return float(np.average(scores, weights=support))


def _binary_auc(positive: Any, score: FloatArray, weights: FloatArray) -> float | None:
    """Weighted Mann-Whitney statistic, ties counted half: the area under the ROC curve."""
    distinct, group = np.unique(score, return_inverse=True)
    pos = np.bincount(group, weights=weights * positive, minlength=len(distinct))
    neg = np.bincount(group, weights=weights * ~positive, minlength=len(distinct))
    total_pos, total_neg = pos.sum(), neg.sum()
    if total_pos <= 0 or total_neg <= 0:
        return None
    below = np.cumsum(neg) - neg
    return float(pos @ (below + neg / 2) / (total_pos * total_neg))


def regression_scores(truth: Any, predicted: Any, weights: FloatArray) -> dict[str, float]:
    """MSE, RMSE, MAE and R² (averaged uniformly over outputs when there are several)."""
    actual = np.asarray(truth, dtype=np.float64)
    guess = np.asarray(predicted, dtype=np.float64)
    if actual.ndim == 1:
        actual = actual[:, None]
    guess = guess.reshape(actual.shape)
    error = actual - guess
    mse = np.average(error**2, axis=0, weights=weights)
    mae = np.average(np.abs(error), axis=0, weights=weights)
    residual = (weights[:, None] * error**2).sum(axis=0)
    spread = (weights[:, None] * (actual - np.average(actual, axis=0, weights=weights)) ** 2).sum(
        axis=0
    )
    # As scikit-learn: a constant target scores 1 when predicted exactly, else 0.
    r2 = np.where(spread > 0, 1 - _divide(residual, spread), np.where(residual == 0, 1.0, 0.0))
    return {
        "training_mean_squared_error": float(mse.mean()),
        "training_root_mean_squared_error": float(np.sqrt(mse).mean()),
        "training_mean_absolute_error": float(mae.mean()),
        "training_r2_score": float(r2.mean()),
    }


def _divide(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    out = np.zeros_like(numerator, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out
