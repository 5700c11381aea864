"""The data-quality summary of a table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mloop.data.quality import profile_quality


def test_quality_per_column():
    frame = pd.DataFrame(
        {
            "i": [3, 1, 3, 3, None],
            "f": [0.5, np.nan, 0.5, -0.0, 0.0],
            "s": ["b", "a", "b", None, "c"],
            "b": [True, False, True, True, True],
            "t": pd.to_datetime(pd.Series(["2024-01-02", "2024-01-01", None, None, None])),
            "o": [[1], [2], None, None, None],
        }
    )
    report = profile_quality(frame, top_values=2)
    assert report.row_count == 5
    i = report.column("i")
    assert (i.type, i.missing_count, i.missing_rate, i.distinct_count) == ("float", 1, 0.2, 2)
    assert (i.min, i.max, i.mean) == (1.0, 3.0, 2.5)
    assert [(v.value, v.count) for v in i.top_values] == [(3.0, 3), (1.0, 1)]
    f = report.column("f")
    assert f.distinct_count == 2  # -0.0 and 0.0 are one value
    assert [(v.value, v.count) for v in f.top_values] == [(0.0, 2), (0.5, 2)]
    s = report.column("s")
    assert (s.distinct_count, s.min, s.mean) == (3, None, None)
    assert s.top_values[0].value == "b"
    assert report.column("b").mean == 0.8
    t = report.column("t")
    assert (t.min, t.max) == ("2024-01-01T00:00:00", "2024-01-02T00:00:00")
    o = report.column("o")
    assert (o.type, o.distinct_count, o.top_values) == ("other", None, ())
    assert report.to_dict()["columns"][0]["top_values"] == [
        {"value": 3.0, "count": 3},
        {"value": 1.0, "count": 1},
    ]
    with pytest.raises(KeyError):
        report.column("absent")


def test_empty_table_has_zero_rates():
    report = profile_quality(pd.DataFrame({"x": pd.Series([], dtype=float)}))
    x = report.column("x")
    assert (x.missing_rate, x.distinct_count, x.top_values, x.min) == (0.0, 0, (), None)
