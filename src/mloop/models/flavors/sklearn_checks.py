"""Bounds checks on the index arrays of a loaded scikit-learn model's tree structures.

skops loads `sklearn.tree._tree.Tree` and the histogram-boosting `TreePredictor` as data, but
scikit-learn then follows their node indices without bounds checks: a crafted file could make
`predict` read outside the arrays (a crash, or worse). These two types are on the curated
allow-list only because every loaded instance is checked here first: children point forward
inside the tree (so there are no cycles), split features exist, per-node arrays agree in length.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mloop.errors import InvalidModelPackageError

_MAX_DEPTH = 64


def check_trees(model: Any, path: str) -> int:
    """Check every tree structure inside a loaded estimator; returns how many were checked.

    Raises:
        InvalidModelPackageError: a tree's indices point outside it (the file was altered).
    """
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    from sklearn.tree._tree import Tree

    seen: set[int] = set()
    checked = 0
    pending: list[tuple[Any, int | None, int]] = [(model, None, 0)]
    while pending:
        obj, n_features, depth = pending.pop()
        if depth > _MAX_DEPTH or id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, Tree):
            _check_tree(obj, path)
            checked += 1
        elif isinstance(obj, TreePredictor):
            _check_predictor(obj, n_features, path)
            checked += 1
        else:
            width = getattr(obj, "n_features_in_", n_features) if _is_sklearn(obj) else n_features
            pending.extend((item, width, depth + 1) for item in _members(obj))
    return checked


def _is_sklearn(obj: Any) -> bool:
    return type(obj).__module__.startswith("sklearn") and hasattr(obj, "__dict__")


def _members(obj: Any) -> list[Any]:
    """What a tree might hide in: object arrays, lists, dicts, scikit-learn objects' fields."""
    if isinstance(obj, np.ndarray):
        return list(obj.ravel()) if obj.dtype == object else []
    if isinstance(obj, list | tuple):
        return list(obj)
    if isinstance(obj, dict):
        return list(obj.values())
    if _is_sklearn(obj):
        return list(vars(obj).values())
    return []


def _refuse(path: str, what: str) -> InvalidModelPackageError:
    return InvalidModelPackageError(
        path, f"{what}; the file was altered or damaged, so it is not loaded"
    )


def _check_tree(tree: Any, path: str) -> None:
    count = int(tree.node_count)
    left = np.asarray(tree.children_left)
    right = np.asarray(tree.children_right)
    feature = np.asarray(tree.feature)
    value = np.asarray(tree.value)
    lengths = {len(left), len(right), len(feature), len(tree.threshold), value.shape[0]}
    if lengths != {count}:
        raise _refuse(path, f"a decision tree's node arrays disagree on its {count} nodes")
    leaf = left == -1
    if np.any(leaf != (right == -1)):
        raise _refuse(path, "a decision tree has a node with one child")
    index = np.arange(count)
    inner = ~leaf
    for children in (left, right):
        if np.any((children[inner] <= index[inner]) | (children[inner] >= count)):
            raise _refuse(path, "a decision tree has a child index outside the tree")
    if np.any((feature[inner] < 0) | (feature[inner] >= int(tree.n_features))):
        raise _refuse(path, "a decision tree splits on a feature it does not have")


def _check_predictor(predictor: Any, n_features: int | None, path: str) -> None:
    nodes = predictor.nodes
    count = len(nodes)
    inner = ~nodes["is_leaf"].astype(bool)
    index = np.arange(count)
    for side in ("left", "right"):
        children = nodes[side].astype(np.int64)
        if np.any((children[inner] <= index[inner]) | (children[inner] >= count)):
            raise _refuse(path, "a boosted tree has a child index outside the tree")
    features = nodes["feature_idx"].astype(np.int64)[inner]
    if np.any(features < 0) or (n_features is not None and np.any(features >= n_features)):
        raise _refuse(path, "a boosted tree splits on a feature it does not have")
    categorical = inner & nodes["is_categorical"].astype(bool)
    bitsets = min(len(predictor.raw_left_cat_bitsets), len(predictor.binned_left_cat_bitsets))
    if np.any(nodes["bitset_idx"].astype(np.int64)[categorical] >= bitsets):
        raise _refuse(path, "a boosted tree points at a category set it does not have")
