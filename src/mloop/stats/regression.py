"""Regression metrics: MAE, RMSE, R2 and MAPE (as scikit-learn computes them)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from mloop.errors import InvalidInputError
from mloop.stats.two_sample import FloatArray


def _pair(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    truth = np.asarray(y_true, dtype=np.float64).ravel()
    pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if truth.shape != pred.shape:
        raise InvalidInputError(
            f"targets and predictions differ in length ({truth.size} vs {pred.size})",
            field="y_pred",
        )
    if truth.size == 0:
        raise InvalidInputError("no rows to score; pass at least one target", field="y_true")
    if not (np.isfinite(truth).all() and np.isfinite(pred).all()):
        raise InvalidInputError(
            "targets and predictions must be finite; drop rows with NaN or infinity first",
            field="y_true",
        )
    return truth, pred


def mean_absolute_error(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Mean absolute error.

    Raises:
        InvalidInputError: lengths differ, inputs are empty or not finite.
    """
    truth, pred = _pair(y_true, y_pred)
    return float(np.mean(np.abs(truth - pred)))


def root_mean_squared_error(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Root mean squared error.

    Raises:
        InvalidInputError: lengths differ, inputs are empty or not finite.
    """
    truth, pred = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((truth - pred) ** 2)))


def r2_score(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Coefficient of determination, 1 - SS_res / SS_tot.

    A constant target gives 1.0 for a perfect prediction and 0.0 otherwise (scikit-learn's
    convention).

    Raises:
        InvalidInputError: lengths differ, inputs are empty or not finite.
    """
    truth, pred = _pair(y_true, y_pred)
    residual = float(np.sum((truth - pred) ** 2))
    total = float(np.sum((truth - truth.mean()) ** 2))
    if total == 0:
        return 1.0 if residual == 0 else 0.0
    return 1.0 - residual / total


def mean_absolute_percentage_error(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Mean absolute percentage error as a fraction (0.1 = 10%), as scikit-learn's.

    Targets of 0 are divided by machine epsilon instead, so they dominate the mean: prefer MAE
    when the target can be 0.

    Raises:
        InvalidInputError: lengths differ, inputs are empty or not finite.
    """
    truth, pred = _pair(y_true, y_pred)
    denominator = np.maximum(np.abs(truth), np.finfo(np.float64).eps)
    return float(np.mean(np.abs(truth - pred) / denominator))
