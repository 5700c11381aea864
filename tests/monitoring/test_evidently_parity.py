"""mloop's `mode="evidently"` against scores recorded from Evidently 0.7.23 (see
bench/evidently_parity.py; Evidently itself is never a test dependency)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mloop.monitoring import DriftOptions, detect_drift

FIXTURES = Path(__file__).parent / "fixtures"
RECORD = json.loads((FIXTURES / "evidently_parity.json").read_text())
METHODS = {
    "K-S p_value": "ks",
    "chi-square p_value": "chisquare",
    "Z-test p_value": "z",
    "Wasserstein distance (normed)": "wasserstein",
    "Jensen-Shannon distance": "jensenshannon",
}


@pytest.mark.parametrize("case", ["small", "large"])
def test_evidently_mode_reproduces_recorded_scores(case: str) -> None:
    reference = pd.read_parquet(FIXTURES / f"evidently_{case}_reference.parquet")
    current = pd.read_parquet(FIXTURES / f"evidently_{case}_current.parquet")
    expected = RECORD["cases"][case]
    report = detect_drift(reference, current, options=DriftOptions(mode="evidently"))
    for name, recorded in expected["columns"].items():
        column = report.column(name)
        assert (column.test or column.effect) == METHODS[recorded["method"]], name
        assert column.score == pytest.approx(recorded["score"], rel=1e-6, abs=1e-12), name
        threshold = column.alpha if column.test else column.threshold
        assert threshold == recorded["threshold"], name
    assert report.dataset.drifted_columns == expected["dataset"]["count"]
    assert report.dataset.share == pytest.approx(expected["dataset"]["share"])
    assert report.dataset.is_drift == (expected["dataset"]["share"] >= 0.5)
