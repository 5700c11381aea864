"""The validation report as one self-contained HTML page: inline CSS and SVG, no scripts."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

from mloop.gates.report import ValidationReport

_WIDTH = 560


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _interval_svg(details: dict[str, Any]) -> Markup:
    """The bootstrap interval of the improvement as a bar, with the margin and zero marked."""
    low, high = float(details["low"]), float(details["high"])
    margin, point = float(details["margin"]), float(details["improvement"])
    span_low = min(low, margin, 0.0, point)
    span_high = max(high, margin, 0.0, point)
    pad = (span_high - span_low) * 0.1 or 0.01
    lo, hi = span_low - pad, span_high + pad

    def x(value: float) -> float:
        return 20 + (value - lo) / (hi - lo) * (_WIDTH - 40)

    colour = "#1d6b2f" if low >= margin else "#a61b1b"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="70" role="img">',
        f'<line x1="{x(0.0):.1f}" y1="8" x2="{x(0.0):.1f}" y2="48" stroke="#9aa5b1"/>',
        f'<text x="{x(0.0) + 3:.1f}" y="60">0</text>',
        f'<line x1="{x(margin):.1f}" y1="8" x2="{x(margin):.1f}" y2="48" stroke="#8d5b00" '
        'stroke-dasharray="4 3"/>',
        f'<text x="{x(margin) + 3:.1f}" y="18">margin {margin:+g}</text>',
        f'<rect x="{x(low):.1f}" y="24" width="{max(x(high) - x(low), 1):.1f}" height="10" '
        f'fill="{colour}" opacity="0.6"/>',
        f'<circle cx="{x(point):.1f}" cy="29" r="4" fill="{colour}"/>',
        f'<text x="{x(low):.1f}" y="46">{low:+.4f}</text>',
        f'<text x="{x(high):.1f}" y="46">{high:+.4f}</text>',
        "</svg>",
    ]
    return Markup("".join(parts))  # noqa: S704 - only numbers are interpolated


def _groups_svg(groups: list[dict[str, Any]]) -> Markup:
    """Selection rate (blue) and recall (grey) per group, as paired horizontal bars."""
    from markupsafe import escape

    row = 34
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" '
        f'height="{row * len(groups) + 24}" role="img">',
        '<text x="160" y="12">selection rate (blue) · recall (grey), 0 to 1</text>',
    ]
    for i, group in enumerate(groups):
        y = 20 + i * row
        parts.append(f'<text x="0" y="{y + 14}">{escape(str(group["group"])[:24])}</text>')
        for offset, key, colour in (
            (0, "selection_rate", "#2f80ed"),
            (13, "true_positive_rate", "#9aa5b1"),
        ):
            value = group.get(key)
            width = 0.0 if value is None else max(float(value), 0.0) * (_WIDTH - 200)
            parts.append(
                f'<rect x="160" y="{y + offset}" width="{width:.1f}" height="11" fill="{colour}">'
                f"<title>{key}: {_fmt(value)}</title></rect>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - the group label is escaped above


def render_html(report: ValidationReport, *, title: str | None = None) -> str:
    """The report as one self-contained HTML page (user text is escaped).

    Args:
        report: a validation report.
        title: the page title (default: "Validation of NAME/VERSION").

    Returns:
        The HTML text.
    """
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("mloop.gates", "templates"),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
    )
    template = environment.get_template("validation.html.j2")
    data = report.to_dict()
    created = datetime.fromtimestamp(report.created_at_ms / 1000, tz=UTC)
    return template.render(
        report=data,
        title=title or f"Validation of {report.model}/{report.version}",
        created=created.strftime("%Y-%m-%d %H:%M:%S"),
        failing=sum(1 for g in report.gates if not g.passed),
        policy_text=json.dumps(data["policy"], indent=2),
        fmt=_fmt,
        interval_svg=_interval_svg,
        groups_svg=_groups_svg,
    )
