from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from mloop.monitoring import detect_drift
from mloop.monitoring.report_html import render_html, write_html


def test_report_is_self_contained_and_sorted_by_severity(pair, tmp_path: Path) -> None:
    report = detect_drift(*pair)
    path = write_html(report, tmp_path / "report.html")
    html = path.read_text(encoding="utf-8")
    assert "<script" not in html
    assert not re.search(r'(src|href)="https?:', html)
    assert "Dataset drift detected" in html
    order = [m.group(1) for m in re.finditer(r'<a href="#col-\d+">([^<]+)</a>', html)]
    assert order == [c.name for c in report.columns]
    assert set(order[:3]) == {"num_shift", "num_scale", "cat_shift"}
    assert html.count("<svg") == len(report.columns)


def test_column_names_are_escaped() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"<b>x</b>": rng.normal(size=100)})
    html = render_html(detect_drift(frame, frame), title="<t>")
    assert "<b>x</b>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "<title>&lt;t&gt;</title>" in html


def test_report_size_does_not_grow_with_rows() -> None:
    rng = np.random.default_rng(1)
    small = pd.DataFrame({"x": rng.normal(size=1000)})
    large = pd.DataFrame({"x": rng.normal(size=200_000)})
    small_html = render_html(detect_drift(small, small))
    large_html = render_html(detect_drift(large, large))
    assert abs(len(large_html) - len(small_html)) < 2000
