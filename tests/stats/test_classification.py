from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics

from mloop.errors import InvalidInputError
from mloop.stats import (
    accuracy,
    expected_calibration_error,
    log_loss,
    precision_recall_f1,
    roc_auc,
)


@pytest.fixture
def binary() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 300)
    prob = np.clip(0.3 * y + rng.uniform(0, 0.7, 300), 0, 1)
    prob[:10] = 0.5  # ties
    return y, (prob > 0.5).astype(int), prob


def test_binary_metrics_match_scikit_learn(binary) -> None:
    y, pred, prob = binary
    assert accuracy(y, pred) == pytest.approx(metrics.accuracy_score(y, pred))
    precision, recall, f1 = precision_recall_f1(y, pred)
    assert precision == pytest.approx(metrics.precision_score(y, pred))
    assert recall == pytest.approx(metrics.recall_score(y, pred))
    assert f1 == pytest.approx(metrics.f1_score(y, pred))
    assert roc_auc(y, prob) == pytest.approx(metrics.roc_auc_score(y, prob))
    assert log_loss(y, prob) == pytest.approx(metrics.log_loss(y, prob))


@pytest.mark.parametrize("average", ["macro", "weighted"])
def test_multiclass_averages_match_scikit_learn(average) -> None:
    rng = np.random.default_rng(5)
    y, pred = rng.choice(["a", "b", "c"], 200), rng.choice(["a", "b", "c", "d"], 200)
    expected = metrics.precision_recall_fscore_support(y, pred, average=average, zero_division=0)[
        :3
    ]
    assert precision_recall_f1(y, pred, average=average) == pytest.approx(expected)


def test_string_positive_label() -> None:
    y, pred = ["yes", "no", "yes", "yes"], ["yes", "yes", "no", "yes"]
    assert precision_recall_f1(y, pred, positive="yes") == pytest.approx((2 / 3, 2 / 3, 2 / 3))


def test_calibration_error_by_hand() -> None:
    # bin [0.2, 0.3): mean prob 0.2, positives 1/2; bin [0.9, 1]: mean prob 0.9, positives 1/2
    ece = expected_calibration_error([1, 0, 1, 0], [0.2, 0.2, 0.9, 0.9])
    assert ece == pytest.approx(0.5 * 0.3 + 0.5 * 0.4)
    assert expected_calibration_error([1, 0], [1.0, 0.0]) == 0.0


def test_metrics_reject_bad_input() -> None:
    with pytest.raises(InvalidInputError, match="differ in length"):
        accuracy([1, 0], [1])
    with pytest.raises(InvalidInputError, match="both classes"):
        roc_auc([1, 1], [0.3, 0.4])
    with pytest.raises(InvalidInputError, match=r"\[0, 1\]"):
        log_loss([1, 0], [1.2, 0.1])
    with pytest.raises(InvalidInputError, match="no rows"):
        accuracy([], [])
