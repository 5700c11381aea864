from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from mloop.errors import InvalidInputError
from mloop.monitoring.performance import classification_performance, regression_performance


def test_classification_overall_and_per_segment() -> None:
    rng = np.random.default_rng(0)
    n = 1000
    y = rng.integers(0, 2, n)
    prob = np.clip(0.35 * y + rng.uniform(0, 0.65, n), 0, 1)
    frame = pd.DataFrame(
        {
            "y": y,
            "pred": (prob > 0.5).astype(int),
            "p": prob,
            "country": rng.choice(["fr", "de"], n),
        }
    )
    report = classification_performance(
        frame, target="y", prediction="pred", probability="p", segment="country"
    )
    assert report.rows == n
    assert report.metrics["roc_auc"] == pytest.approx(metrics.roc_auc_score(y, prob))
    assert report.metrics["f1"] == pytest.approx(metrics.f1_score(y, frame["pred"]))
    fr = frame[frame.country == "fr"]
    assert report.segments["fr"]["rows"] == len(fr)
    assert report.segments["fr"]["accuracy"] == pytest.approx(metrics.accuracy_score(fr.y, fr.pred))
    assert set(report.to_dict()) == {"task", "rows", "metrics", "segments"}


def test_undefined_auc_in_a_one_class_segment_is_none() -> None:
    frame = pd.DataFrame(
        {"y": [1, 1, 0, 1], "pred": [1, 0, 0, 1], "p": [0.9, 0.4, 0.2, 0.8], "s": list("aabb")}
    )
    report = classification_performance(
        frame, target="y", prediction="pred", probability="p", segment="s"
    )
    assert report.segments["a"]["roc_auc"] is None
    assert report.segments["b"]["roc_auc"] == 1.0


def test_regression_performance_matches_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(5, 2, 500)
    pred = y + rng.normal(0, 0.5, 500)
    report = regression_performance({"y": y, "pred": pred}, target="y", prediction="pred")
    assert report.metrics["rmse"] == pytest.approx(metrics.root_mean_squared_error(y, pred))
    assert report.metrics["r2"] == pytest.approx(metrics.r2_score(y, pred))


def test_missing_columns_are_named() -> None:
    with pytest.raises(InvalidInputError, match="label"):
        regression_performance({"y": [1.0]}, target="label", prediction="y")
