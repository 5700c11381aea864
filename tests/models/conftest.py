"""Small fitted models and data shared by the model-package tests (fitted once per session)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest


@dataclass(frozen=True)
class Fitted:
    """A fitted model with the frame it was trained on."""

    model: Any
    frame: pd.DataFrame


def _classification(rows: int = 300) -> tuple[pd.DataFrame, np.ndarray]:
    from sklearn.datasets import make_classification

    features, labels = make_classification(
        rows, 4, n_informative=3, n_redundant=0, n_classes=3, random_state=0
    )
    return pd.DataFrame(features, columns=["a", "b", "c", "d"]), labels


@pytest.fixture(scope="session")
def random_forest() -> Fitted:
    from sklearn.ensemble import RandomForestClassifier

    frame, labels = _classification()
    return Fitted(RandomForestClassifier(25, random_state=0).fit(frame, labels), frame)


@pytest.fixture(scope="session")
def logistic() -> Fitted:
    from sklearn.linear_model import LogisticRegression

    frame, labels = _classification()
    return Fitted(LogisticRegression(max_iter=500).fit(frame, labels), frame)


@pytest.fixture(scope="session")
def scaled_pipeline() -> Fitted:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame, labels = _classification()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    return Fitted(model.fit(frame, labels), frame)


@pytest.fixture(scope="session")
def regressor() -> Fitted:
    from sklearn.datasets import make_regression
    from sklearn.linear_model import Ridge

    features, target = make_regression(200, 3, noise=0.5, random_state=0)
    frame = pd.DataFrame(features, columns=["x", "y", "z"])
    return Fitted(Ridge().fit(frame, target), frame)
