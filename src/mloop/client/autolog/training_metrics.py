"""Metrics of a fitted scikit-learn estimator on its own training data.

Each metric is computed on its own: one that does not apply (log loss of a model without
probabilities, ROC AUC of a single class, multi-output labels ...) is left out, never an error.
Predictions are made once and shared; the scores themselves come from `scores`, vectorised.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any

from mloop.client.autolog import scores

# Silhouette is quadratic in the number of samples: above this it is skipped, not sampled.
MAX_SILHOUETTE_SAMPLES = 5000


def training_metrics(
    estimator: Any, features: Any, targets: Any, sample_weight: Any
) -> dict[str, float]:
    """`training_*` metrics of a fitted estimator, by its kind (classifier, regressor, clusterer).

    Args:
        estimator: the fitted estimator.
        features: the X it was fitted on.
        targets: the y it was fitted on, or None.
        sample_weight: the sample weights it was fitted with, or None.

    Returns:
        Metric names and values; only the metrics that could be computed.
    """
    from sklearn.base import is_classifier, is_regressor

    metrics: dict[str, float] = {}
    # Predicting on odd data may warn (feature names, ill-defined cases): facts about the
    # user's data that autolog was not asked to report.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if targets is not None and is_classifier(estimator):
            _put(
                metrics,
                "",
                lambda: _classifier_metrics(estimator, features, targets, sample_weight),
            )
        elif targets is not None and is_regressor(estimator):
            _put(
                metrics, "", lambda: _regressor_metrics(estimator, features, targets, sample_weight)
            )
        elif _is_clusterer(estimator):
            _put(metrics, "training_silhouette_score", lambda: _silhouette(estimator, features))
        _put(
            metrics,
            "training_score",
            lambda: _training_score(estimator, features, targets, sample_weight, metrics),
        )
    return metrics


def _put(metrics: dict[str, float], name: str, compute: Callable[[], Any]) -> None:
    """Add `compute()` as `name`, or merge the dict it returns when `name` is empty."""
    try:
        value = compute()
    except Exception:  # noqa: BLE001 - a metric that does not apply is left out
        return
    if isinstance(value, dict):
        metrics.update(value)
    elif value is not None:
        metrics[name] = float(value)


def _classifier_metrics(
    estimator: Any, features: Any, targets: Any, sample_weight: Any
) -> dict[str, float]:
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        return {}
    truth = scores.label_indices(targets, classes)
    if truth is None:  # multi-output or labels the model does not know
        return {}
    predicted = scores.label_indices(estimator.predict(features), classes)
    if predicted is None:
        return {}
    weights = scores.weights_for(len(truth), sample_weight)
    metrics = scores.classification_scores(truth, predicted, len(classes), weights)
    if hasattr(estimator, "predict_proba"):
        _put(metrics, "", lambda: _probability_metrics(estimator, features, truth, weights))
    return metrics


def _probability_metrics(
    estimator: Any, features: Any, truth: scores.IntArray, weights: scores.FloatArray
) -> dict[str, float]:
    import numpy as np

    proba = np.asarray(estimator.predict_proba(features), dtype=np.float64)
    metrics = {"training_log_loss": scores.log_loss(truth, proba, weights)}
    area = scores.roc_auc(truth, proba, weights)
    if area is not None:
        metrics["training_roc_auc"] = area
    return metrics


def _regressor_metrics(
    estimator: Any, features: Any, targets: Any, sample_weight: Any
) -> dict[str, float]:
    predicted = estimator.predict(features)
    weights = scores.weights_for(len(predicted), sample_weight)
    return scores.regression_scores(targets, predicted, weights)


def _is_clusterer(estimator: Any) -> bool:
    from sklearn import base

    check = getattr(base, "is_clusterer", None)  # scikit-learn >= 1.6
    if check is not None:
        return bool(check(estimator))
    return isinstance(estimator, base.ClusterMixin)


def _silhouette(estimator: Any, features: Any) -> float | None:
    import numpy as np
    from sklearn.metrics import silhouette_score

    labels = getattr(estimator, "labels_", None)
    if labels is None:
        labels = estimator.predict(features)
    count = len(labels)
    distinct = len(np.unique(labels))
    if count > MAX_SILHOUETTE_SAMPLES or not 2 <= distinct <= count - 1:
        return None
    return float(silhouette_score(features, labels))


def _training_score(
    estimator: Any, features: Any, targets: Any, sample_weight: Any, known: dict[str, float]
) -> float | None:
    from sklearn.base import ClassifierMixin, RegressorMixin

    score = getattr(type(estimator), "score", None)
    if score is None:
        return None
    # The mixins' score is accuracy or R², both computed already (with the same weights).
    if score is ClassifierMixin.score and "training_accuracy_score" in known:
        return known["training_accuracy_score"]
    if score is RegressorMixin.score and "training_r2_score" in known:
        return known["training_r2_score"]
    if sample_weight is None:
        return float(estimator.score(features, targets))
    # An unweighted score of a weighted fit would mislead: weight it or leave it out.
    if "sample_weight" not in inspect.signature(estimator.score).parameters:
        return None
    return float(estimator.score(features, targets, sample_weight=sample_weight))
