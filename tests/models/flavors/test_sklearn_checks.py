"""Bounds checks on tree structures: altered indices are found before any prediction."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

from mloop.errors import InvalidModelPackageError
from mloop.models.flavors.sklearn_checks import _check_tree, check_trees


@pytest.fixture
def boosted() -> HistGradientBoostingClassifier:
    features, labels = make_classification(200, 4, random_state=0)
    features[:, 0] = np.arange(200) % 4
    model = HistGradientBoostingClassifier(max_iter=3, categorical_features=[0])
    return model.fit(features, labels)


def test_every_tree_of_an_ensemble_is_checked(boosted: HistGradientBoostingClassifier) -> None:
    features, labels = make_classification(100, 4, random_state=0)
    forest = RandomForestClassifier(7, random_state=0).fit(features, labels)
    assert check_trees(forest, "p") == 7
    assert check_trees(boosted, "p") == 3


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("left", 10**4, "child index outside"),
        ("right", 0, "child index outside"),
        ("feature_idx", 7, "feature it does not have"),
    ],
)
def test_altered_boosted_trees_are_refused(
    boosted: HistGradientBoostingClassifier, field: str, value: int, message: str
) -> None:
    nodes = boosted._predictors[0][0].nodes
    inner = int(np.flatnonzero(nodes["is_leaf"] == 0)[0])
    nodes[field][inner] = value
    with pytest.raises(InvalidModelPackageError, match=message):
        check_trees(boosted, "p")


def test_a_categorical_split_needs_its_category_set(
    boosted: HistGradientBoostingClassifier,
) -> None:
    for predictors in boosted._predictors:
        nodes = predictors[0].nodes
        categorical = np.flatnonzero((nodes["is_leaf"] == 0) & (nodes["is_categorical"] == 1))
        if categorical.size:
            nodes["bitset_idx"][categorical[0]] = 10**3
            break
    else:
        pytest.fail("no categorical split to alter")
    with pytest.raises(InvalidModelPackageError, match="category set"):
        check_trees(boosted, "p")


def _tree(**change: object) -> SimpleNamespace:
    fields: dict[str, object] = {
        "node_count": 3,
        "children_left": np.array([1, -1, -1]),
        "children_right": np.array([2, -1, -1]),
        "feature": np.array([0, -2, -2]),
        "threshold": np.zeros(3),
        "value": np.zeros((3, 1, 2)),
        "n_features": 1,
    }
    fields.update(change)
    return SimpleNamespace(**fields)


def test_tree_arrays_must_agree() -> None:
    _check_tree(_tree(), "p")
    with pytest.raises(InvalidModelPackageError, match="disagree on its 4 nodes"):
        _check_tree(_tree(node_count=4), "p")
    with pytest.raises(InvalidModelPackageError, match="one child"):
        _check_tree(_tree(children_right=np.array([-1, -1, -1])), "p")
