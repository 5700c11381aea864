from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics

from mloop.errors import InvalidInputError
from mloop.stats import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    r2_score,
    root_mean_squared_error,
)


def test_regression_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(6)
    y = rng.normal(10, 3, 200)
    pred = y + rng.normal(0, 1, 200)
    assert mean_absolute_error(y, pred) == pytest.approx(metrics.mean_absolute_error(y, pred))
    assert root_mean_squared_error(y, pred) == pytest.approx(
        metrics.root_mean_squared_error(y, pred)
    )
    assert r2_score(y, pred) == pytest.approx(metrics.r2_score(y, pred))
    assert mean_absolute_percentage_error(y, pred) == pytest.approx(
        metrics.mean_absolute_percentage_error(y, pred)
    )


def test_r2_of_a_constant_target() -> None:
    assert r2_score([2, 2], [2, 2]) == 1.0
    assert r2_score([2, 2], [1, 2]) == 0.0


def test_regression_rejects_non_finite_values() -> None:
    with pytest.raises(InvalidInputError, match="finite"):
        mean_absolute_error([1.0, np.nan], [1.0, 2.0])
