from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mloop.errors import InvalidInputError, MissingExtraError
from mloop.monitoring import DriftOptions, build_profile, detect_drift
from mloop.monitoring.multivariate import domain_classifier, pca_reconstruction


def _frames(n: int = 2000, *, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A correlation that flips sign: each column alone is unchanged."""
    rng = np.random.default_rng(seed)

    def frame(sign: float) -> pd.DataFrame:
        x = rng.normal(size=n)
        return pd.DataFrame(
            {"x": x, "y": sign * x + rng.normal(0, 0.3, n), "c": rng.choice(["a", "b"], n)}
        )

    return frame(1.0), frame(-1.0), frame(1.0)


def test_a_flipped_correlation_escapes_per_column_tests_but_not_pca() -> None:
    ref, flipped, same = _frames()
    assert not detect_drift(ref, flipped).dataset.is_drift
    result = pca_reconstruction(ref, flipped)
    assert result.is_drift
    assert result.score > 3
    assert result.columns == ("x", "y")
    assert not pca_reconstruction(ref, same).is_drift


def test_domain_classifier_separates_flipped_correlation() -> None:
    ref, flipped, same = _frames(n=600)
    drifted = domain_classifier(ref, flipped, max_rows=600, permutations=50)
    assert drifted.is_drift
    assert drifted.score > 0.9
    assert drifted.p_value == pytest.approx(1 / 51)
    calm = domain_classifier(ref, same, max_rows=600, permutations=50)
    assert calm.score < 0.6


def test_multivariate_needs_usable_columns() -> None:
    with pytest.raises(InvalidInputError, match="at least 2 numeric"):
        pca_reconstruction(pd.DataFrame({"c": ["a", "b"]}), pd.DataFrame({"c": ["a", "b"]}))
    one = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    with pytest.raises(InvalidInputError, match="at least 2 numeric"):
        pca_reconstruction(one, one)
    with pytest.raises(InvalidInputError, match="at least one"):
        pca_reconstruction(pd.DataFrame({"a": [1.0]}), pd.DataFrame({"b": [1.0]}))


def test_multivariate_results_join_the_drift_report() -> None:
    ref, flipped, _ = _frames()
    report = detect_drift(ref, flipped, options=DriftOptions(multivariate=("pca_reconstruction",)))
    assert not report.dataset.is_drift
    assert report.is_drift
    assert report.to_dict()["multivariate"][0]["method"] == "pca_reconstruction"
    with pytest.raises(InvalidInputError, match="not a profile"):
        detect_drift(
            build_profile(ref), flipped, options=DriftOptions(multivariate=("pca_reconstruction",))
        )
    with pytest.raises(InvalidInputError, match="unknown multivariate"):
        DriftOptions(multivariate=("umap",))


def test_domain_classifier_without_scikit_learn_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "sklearn.ensemble", None)
    ref, flipped, _ = _frames(n=100)
    with pytest.raises(MissingExtraError) as info:
        domain_classifier(ref, flipped)
    assert info.value.extra == "sklearn"
    assert "mloop[sklearn]" in info.value.message
