"""Binned chart data for reports, computed once from column summaries (never from raw rows)."""

from __future__ import annotations

import itertools

import numpy as np

from mloop.monitoring.results import Chart
from mloop.monitoring.summaries import CategoricalSummary, NumericSummary, Summary

HISTOGRAM_BINS = 20
TOP_CATEGORIES = 20
_OTHER = "(other)"


def chart_for(reference: Summary, current: Summary) -> Chart | None:
    """Reference and current distributions binned alike, or None when there is nothing to draw.

    Numeric columns get a 20-bin histogram over the 0.1-99.9% range of both (values beyond it
    land in the end bins); categorical and few-valued numeric columns get bars of their 20 most
    frequent values with the rest summed as "(other)".
    """
    if isinstance(reference, NumericSummary) and isinstance(current, NumericSummary):
        if reference.sketch is None or current.sketch is None:
            return None
        ref_size, cur_size = reference.distinct_size, current.distinct_size
        if ref_size is not None and cur_size is not None and ref_size + cur_size <= TOP_CATEGORIES:
            ref_counts, cur_counts = reference.distinct(), current.distinct()
            if ref_counts is not None and cur_counts is not None:
                return _bars(ref_counts, cur_counts, numeric=True)
        return _histogram(reference, current)
    if isinstance(reference, CategoricalSummary) and isinstance(current, CategoricalSummary):
        if not reference.count or not current.count:
            return None
        return _bars(reference.distinct(), current.distinct(), numeric=False)
    return None


def _shares(counts: np.ndarray) -> tuple[float, ...]:
    total = counts.sum()
    return tuple((counts / total).tolist()) if total > 0 else tuple(0.0 for _ in counts)


def _histogram(reference: NumericSummary, current: NumericSummary) -> Chart:
    ref_sketch, cur_sketch = reference.sketch, current.sketch
    if ref_sketch is None or cur_sketch is None:
        raise ValueError("histogram needs both sketches")  # callers check first
    low = float(min(ref_sketch.quantiles(0.001), cur_sketch.quantiles(0.001)))
    high = float(max(ref_sketch.quantiles(0.999), cur_sketch.quantiles(0.999)))
    if high <= low:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, HISTOGRAM_BINS + 1)
    counting = edges.copy()
    counting[0], counting[-1] = -np.inf, np.inf
    labels = tuple(f"{a:.4g} – {b:.4g}" for a, b in itertools.pairwise(edges))
    return Chart(
        "histogram",
        labels,
        _shares(ref_sketch.histogram(counting)),
        _shares(cur_sketch.histogram(counting)),
        tuple(edges.tolist()),
    )


def _bars(reference: dict[str, float], current: dict[str, float], *, numeric: bool) -> Chart:
    ref_total = sum(reference.values()) or 1.0
    cur_total = sum(current.values()) or 1.0
    keys = list(reference.keys() | current.keys())
    if numeric:
        keys.sort(key=float)
    else:
        keys.sort(key=lambda k: -(reference.get(k, 0) / ref_total + current.get(k, 0) / cur_total))
    shown = keys[:TOP_CATEGORIES]
    ref = np.array([reference.get(k, 0.0) for k in shown]) / ref_total
    cur = np.array([current.get(k, 0.0) for k in shown]) / cur_total
    labels = [_label(k) for k in shown]
    if len(keys) > TOP_CATEGORIES:
        labels.append(_OTHER)
        ref = np.append(ref, 1.0 - ref.sum())
        cur = np.append(cur, 1.0 - cur.sum())
    return Chart("bars", tuple(labels), tuple(ref.tolist()), tuple(cur.tolist()))


def _label(key: str) -> str:
    return _OTHER if key.startswith("\x00") else key
