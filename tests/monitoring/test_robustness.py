"""Arbitrary small, messy tables never crash the drift engine nor make it warn."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mloop.monitoring import ColumnStatus, DriftOptions, detect_drift, render_html

messy_floats = st.lists(
    st.sampled_from([0.0, 1.0, 2.5, -3.0, 1e9, np.nan, np.inf, -np.inf]), min_size=0, max_size=30
)
messy_text = st.lists(st.sampled_from(["a", "b", "c", None]), min_size=0, max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    messy_floats, messy_floats, messy_text, messy_text, st.sampled_from(["default", "evidently"])
)
def test_messy_columns_give_a_report(ref_x, cur_x, ref_s, cur_s, mode) -> None:
    ref = pd.DataFrame({"x": pd.Series(ref_x, dtype="float64")})
    cur = pd.DataFrame({"x": pd.Series(cur_x, dtype="float64")})
    ref["s"] = pd.Series((ref_s + [None] * len(ref_x))[: len(ref_x)], dtype="object")
    cur["s"] = pd.Series((cur_s + [None] * len(cur_x))[: len(cur_x)], dtype="object")
    report = detect_drift(ref, cur, options=DriftOptions(mode=mode, min_count=1))
    assert {c.name for c in report.columns} == {"x", "s"}
    for column in report.columns:
        assert column.status in set(ColumnStatus)
    json.loads(report.to_json())
    assert "<svg" in render_html(report) or not any(c.chart for c in report.columns)
