"""Metrics of a fitted scikit-learn estimator on its own training data.

Each metric is computed on its own: one that does not apply (log loss of labels the model never
saw, ROC AUC of a single class, multi-output targets ...) is left out, never an error. Predictions
are made once and shared by the metrics that need them.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable
from typing import Any

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
    # Metric functions warn about ill-defined cases (no predicted samples of a class ...): those
    # are facts about the data, not something the user asked to be told about by autolog.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if targets is not None and is_classifier(estimator):
            metrics.update(_classifier_metrics(estimator, features, targets, sample_weight))
        elif targets is not None and is_regressor(estimator):
            metrics.update(_regressor_metrics(estimator, features, targets, sample_weight))
        elif _is_clusterer(estimator):
            _put(metrics, "training_silhouette_score", lambda: _silhouette(estimator, features))
        _put(
            metrics,
            "training_score",
            lambda: _training_score(estimator, features, targets, sample_weight),
        )
    return metrics


def _put(metrics: dict[str, float], name: str, compute: Callable[[], float | None]) -> None:
    try:
        value = compute()
    except Exception:  # noqa: BLE001 - a metric that does not apply is left out
        return
    if value is not None:
        metrics[name] = float(value)


def _classifier_metrics(
    estimator: Any, features: Any, targets: Any, sample_weight: Any
) -> dict[str, float]:
    from sklearn import metrics as sk

    metrics: dict[str, float] = {}
    try:
        predicted = estimator.predict(features)
    except Exception:  # noqa: BLE001 - e.g. a search fitted with refit=False cannot predict
        return metrics
    classes = getattr(estimator, "classes_", None)
    binary = classes is not None and getattr(classes, "ndim", 1) == 1 and len(classes) == 2
    pos_label = classes[1] if classes is not None and binary else 1
    weights = {"sample_weight": sample_weight}
    _put(
        metrics,
        "training_accuracy_score",
        lambda: sk.accuracy_score(targets, predicted, **weights),
    )
    try:
        precision, recall, f1, _ = sk.precision_recall_fscore_support(
            targets,
            predicted,
            average="binary" if binary else "weighted",
            pos_label=pos_label,
            zero_division=0,
            **weights,
        )
        metrics.update(
            training_precision_score=float(precision),
            training_recall_score=float(recall),
            training_f1_score=float(f1),
        )
    except Exception:  # noqa: BLE001, S110 - e.g. multi-output targets
        pass
    if classes is not None and hasattr(estimator, "predict_proba"):
        metrics.update(_probability_metrics(estimator, features, targets, classes, weights))
    return metrics


def _probability_metrics(
    estimator: Any, features: Any, targets: Any, classes: Any, weights: dict[str, Any]
) -> dict[str, float]:
    import numpy as np
    from sklearn import metrics as sk

    metrics: dict[str, float] = {}
    try:
        proba = estimator.predict_proba(features)
    except Exception:  # noqa: BLE001 - available but not for this fit (e.g. SVC without probability)
        return metrics
    _put(
        metrics,
        "training_log_loss",
        lambda: sk.log_loss(targets, proba, labels=classes, **weights),
    )
    if len(classes) == 2:
        positive = np.asarray(targets) == classes[1]
        _put(
            metrics, "training_roc_auc", lambda: sk.roc_auc_score(positive, proba[:, 1], **weights)
        )
    else:
        _put(
            metrics,
            "training_roc_auc",
            lambda: sk.roc_auc_score(
                targets, proba, multi_class="ovr", average="weighted", labels=classes, **weights
            ),
        )
    return metrics


def _regressor_metrics(
    estimator: Any, features: Any, targets: Any, sample_weight: Any
) -> dict[str, float]:
    from sklearn import metrics as sk

    try:
        predicted = estimator.predict(features)
        mse = float(sk.mean_squared_error(targets, predicted, sample_weight=sample_weight))
    except Exception:  # noqa: BLE001 - the regressor cannot predict here
        return {}
    metrics = {
        "training_mean_squared_error": mse,
        "training_root_mean_squared_error": math.sqrt(mse),
    }
    _put(
        metrics,
        "training_mean_absolute_error",
        lambda: sk.mean_absolute_error(targets, predicted, sample_weight=sample_weight),
    )
    _put(
        metrics,
        "training_r2_score",
        lambda: sk.r2_score(targets, predicted, sample_weight=sample_weight),
    )
    return metrics


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
    estimator: Any, features: Any, targets: Any, sample_weight: Any
) -> float | None:
    score = getattr(estimator, "score", None)
    if score is None:
        return None
    if sample_weight is None:
        return float(score(features, targets))
    # An unweighted score of a weighted fit would mislead: weight it or leave it out.
    if "sample_weight" not in inspect.signature(score).parameters:
        return None
    return float(score(features, targets, sample_weight=sample_weight))
