"""The vectorised scores agree with scikit-learn's metric functions, with and without weights."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as sk

from mloop.client.autolog import scores


@pytest.fixture(autouse=True)
def fluent() -> None:
    """These tests need no store: override the package's store fixture."""


def indices(labels, classes) -> list[int]:
    found = scores.label_indices(labels, classes)
    assert found is not None
    return list(found)


@pytest.fixture(params=[None, "weights"], ids=["unweighted", "weighted"])
def weight(request: pytest.FixtureRequest) -> np.ndarray | None:
    rng = np.random.default_rng(1)
    return None if request.param is None else rng.uniform(0.1, 3.0, 300)


@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_classification_scores_match_scikit_learn(n_classes, weight):
    rng = np.random.default_rng(n_classes)
    classes = np.array([f"class-{i}" for i in range(n_classes)])
    truth = rng.integers(0, n_classes, 300)
    predicted = np.where(rng.random(300) < 0.7, truth, rng.integers(0, n_classes, 300))
    predicted[predicted == n_classes - 1] = 0  # a class never predicted: precision 0
    found = scores.classification_scores(
        np.array(indices(classes[truth], classes)),
        np.array(indices(classes[predicted], classes)),
        n_classes,
        scores.weights_for(300, weight),
    )
    average = "binary" if n_classes == 2 else "weighted"
    options = {"average": average, "zero_division": 0, "sample_weight": weight}
    if n_classes == 2:
        options["pos_label"] = classes[1]
    y, p = classes[truth], classes[predicted]
    assert found["training_accuracy_score"] == pytest.approx(
        sk.accuracy_score(y, p, sample_weight=weight)
    )
    assert found["training_precision_score"] == pytest.approx(sk.precision_score(y, p, **options))
    assert found["training_recall_score"] == pytest.approx(sk.recall_score(y, p, **options))
    assert found["training_f1_score"] == pytest.approx(sk.f1_score(y, p, **options))


@pytest.mark.parametrize("n_classes", [2, 4])
def test_log_loss_and_roc_auc_match_scikit_learn(n_classes, weight):
    rng = np.random.default_rng(7)
    truth = rng.integers(0, n_classes, 300)
    raw = rng.random((300, n_classes)) + np.eye(n_classes)[truth]
    raw[:20] = 1.0  # ties
    raw[20, truth[20]] = 0.0  # a zero probability of the true class: clipped
    proba = raw / raw.sum(axis=1, keepdims=True)
    w = scores.weights_for(300, weight)

    assert scores.log_loss(truth, proba, w) == pytest.approx(
        sk.log_loss(truth, proba, sample_weight=weight, labels=list(range(n_classes)))
    )
    if n_classes == 2:
        expected = sk.roc_auc_score(truth, proba[:, 1], sample_weight=weight)
    else:
        expected = sk.roc_auc_score(
            truth, proba, multi_class="ovr", average="weighted", sample_weight=weight
        )
    assert scores.roc_auc(truth, proba, w) == pytest.approx(expected)


def test_roc_auc_of_a_single_class_is_none():
    truth = np.zeros(10, dtype=np.intp)
    proba = np.column_stack([np.full(10, 0.6), np.full(10, 0.4)])
    assert scores.roc_auc(truth, proba, np.ones(10)) is None


@pytest.mark.parametrize("outputs", [1, 3])
def test_regression_scores_match_scikit_learn(outputs, weight):
    rng = np.random.default_rng(3)
    truth = rng.normal(size=(300, outputs)).squeeze()
    predicted = truth + rng.normal(scale=0.3, size=truth.shape)
    found = scores.regression_scores(truth, predicted, scores.weights_for(300, weight))
    assert found["training_mean_squared_error"] == pytest.approx(
        sk.mean_squared_error(truth, predicted, sample_weight=weight)
    )
    assert found["training_root_mean_squared_error"] == pytest.approx(
        sk.root_mean_squared_error(truth, predicted, sample_weight=weight)
    )
    assert found["training_mean_absolute_error"] == pytest.approx(
        sk.mean_absolute_error(truth, predicted, sample_weight=weight)
    )
    assert found["training_r2_score"] == pytest.approx(
        sk.r2_score(truth, predicted, sample_weight=weight)
    )


def test_r2_of_a_constant_target_follows_scikit_learn():
    truth = np.full(5, 2.0)
    ones = np.ones(5)
    assert scores.regression_scores(truth, truth, ones)["training_r2_score"] == 1.0
    assert scores.regression_scores(truth, truth + 1, ones)["training_r2_score"] == 0.0


def test_label_indices_refuses_unknown_labels_and_multi_output():
    classes = np.array(["a", "b"])
    assert indices(["b", "a", "b"], classes) == [1, 0, 1]
    assert indices(np.array([[1], [0]]), np.array([0, 1])) == [1, 0]
    assert scores.label_indices(["a", "c"], classes) is None
    assert scores.label_indices(np.zeros((3, 2)), np.array([0.0, 1.0])) is None
    assert scores.label_indices([1, 2], classes) is None
    assert indices([3, 1], np.array([3, 1])) == [0, 1]  # unsorted classes
