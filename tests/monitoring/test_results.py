from __future__ import annotations

import json

from mloop.monitoring import detect_drift

COLUMN_KEYS = {
    "name",
    "kind",
    "status",
    "is_drift",
    "score",
    "test",
    "p_value",
    "adjusted_p_value",
    "statistic",
    "alpha",
    "effect",
    "effect_size",
    "threshold",
    "reference_count",
    "current_count",
    "missing",
    "infinite",
    "chart",
    "note",
}


def test_json_form_is_stable(pair) -> None:
    data = json.loads(detect_drift(*pair).to_json())
    assert data["schema"] == "mloop.drift/v1"
    assert set(data) == {
        "schema",
        "mode",
        "reference_rows",
        "current_rows",
        "is_drift",
        "dataset",
        "columns",
        "multivariate",
    }
    assert set(data["dataset"]) == {
        "is_drift",
        "rule",
        "drifted_columns",
        "rate_drifted_columns",
        "tested_columns",
        "share",
        "drift_share",
    }
    for column in data["columns"]:
        assert set(column) == COLUMN_KEYS
    num = next(c for c in data["columns"] if c["name"] == "num_shift")
    assert num["status"] == "drift"
    assert num["score"] == num["effect_size"]
    assert num["chart"]["kind"] == "histogram"
    assert len(num["chart"]["labels"]) == 20
    assert abs(sum(num["chart"]["reference"]) - 1) < 1e-9
    cat = next(c for c in data["columns"] if c["name"] == "cat_same")
    assert cat["chart"]["kind"] == "bars"
    assert set(cat["chart"]["labels"]) == {"a", "b", "c", "d"}


def test_a_report_read_back_from_json_renders_the_same_page(pair) -> None:
    import numpy as np
    import pandas as pd
    import pytest

    from mloop.errors import InvalidInputError
    from mloop.monitoring import DriftReport, render_html

    ref, cur = pair
    cur = cur.copy()
    cur.loc[:99, "num_same"] = np.inf
    cur["empty"] = pd.Series([None] * len(cur), dtype="float64")
    ref = ref.assign(empty=np.nan)
    report = detect_drift(ref, cur)
    again = DriftReport.from_dict(json.loads(report.to_json()))
    assert again.to_dict() == report.to_dict()
    assert render_html(again) == render_html(report)
    with pytest.raises(InvalidInputError, match="not an mloop drift report"):
        DriftReport.from_dict({"schema": "x"})
    with pytest.raises(InvalidInputError, match="malformed"):
        DriftReport.from_dict({"schema": "mloop.drift/v1", "mode": "default"})
