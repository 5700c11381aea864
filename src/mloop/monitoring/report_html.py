"""Self-contained HTML drift reports: inline CSS and SVG, no scripts, no network.

Rendering only lays out what the `DriftReport` already holds (binned charts, scores,
verdicts); it never recomputes a statistic, so a report of a billion rows renders as fast as
one of a thousand.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from markupsafe import Markup, escape

from mloop.monitoring.results import Chart, ColumnDrift, ColumnStatus, DriftReport

_WIDTH, _HEIGHT, _BOTTOM = 640, 160, 40


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    if not math.isfinite(value):
        return str(value)
    return f"{value:.3g}"


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _badge(column: ColumnDrift) -> str:
    if column.status is ColumnStatus.DRIFT:
        return "drift"
    if column.has_rate_drift:
        return "warn"
    return "ok" if column.status is ColumnStatus.NO_DRIFT else "muted"


def _svg(chart: Chart) -> Markup:
    """Paired bars per bin: reference grey, current blue, heights as shares."""
    bins = len(chart.labels)
    top = max([*chart.reference, *chart.current, 1e-12])
    slot = _WIDTH / max(bins, 1)
    bar = max(slot / 2 - 1, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" '
        f'height="{_HEIGHT + _BOTTOM}" role="img">'
    ]
    for i, (label, ref, cur) in enumerate(
        zip(chart.labels, chart.reference, chart.current, strict=True)
    ):
        x = i * slot
        for offset, share, colour in ((0.0, ref, "#9aa5b1"), (bar, cur, "#2f80ed")):
            height = _HEIGHT * share / top
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{_HEIGHT - height:.1f}" width="{bar:.1f}" '
                f'height="{height:.1f}" fill="{colour}"><title>{escape(label)}: '
                f"{share * 100:.2f}%</title></rect>"
            )
        if bins <= 12 or i % max(bins // 10, 1) == 0:
            # histograms name a bin by its left edge; the tooltip has the full range
            text = f"{chart.edges[i]:.3g}" if chart.edges else label
            short = escape(text if len(text) <= 14 else text[:13] + "…")
            parts.append(
                f'<text x="{x:.1f}" y="{_HEIGHT + 14}" transform="rotate(20 {x:.1f} '
                f'{_HEIGHT + 14})">{short}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated label is escaped above


def render_html(report: DriftReport, *, title: str = "mloop drift report") -> str:
    """The report as one self-contained HTML page (user text is escaped).

    Args:
        report: a computed drift report.
        title: the page title.

    Returns:
        The HTML text.
    """
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("mloop.monitoring", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    template = environment.get_template("drift.html.j2")
    return template.render(report=report, title=title, fmt=_fmt, pct=_pct, badge=_badge, svg=_svg)


def write_html(
    report: DriftReport, path: str | os.PathLike[str], *, title: str = "mloop drift report"
) -> Path:
    """Render the report and write it to `path` (UTF-8).

    Returns:
        The path written.
    """
    target = Path(path)
    target.write_text(render_html(report, title=title), encoding="utf-8")
    return target
