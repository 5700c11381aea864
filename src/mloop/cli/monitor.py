"""`mloop monitor ...`: drift between a reference and a current table."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mloop.cli.output import console
from mloop.errors import InvalidInputError

if TYPE_CHECKING:
    from mloop.monitoring import DriftReport

app = typer.Typer(help="Detect drift between reference and current data.", no_args_is_help=True)

DRIFT_EXIT_CODE = 10
"""Exit code of `mloop monitor drift` when the dataset drifted (errors use 1-7)."""

STREAM_SKETCH = 65_536
"""Sketch size for `--stream`: a KS error of about 1/65,536 in rank."""

_STATUS_STYLE = {
    "drift": "bold red",
    "no_drift": "green",
    "insufficient_data": "yellow",
    "unsupported": "dim",
}


def _pairs(values: list[str], option: str) -> dict[str, str]:
    pairs = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise InvalidInputError(f"{option} takes COLUMN=VALUE, got {item!r}", field=option)
        pairs[key] = value
    return pairs


def _thresholds(values: list[str]) -> dict[str, float]:
    result = {}
    for key, value in _pairs(values, "--threshold").items():
        try:
            result[key] = float(value)
        except ValueError as exc:
            raise InvalidInputError(
                f"--threshold {key}={value}: the threshold must be a number", field="--threshold"
            ) from exc
    return result


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.3g}"


def _summary_table(report: DriftReport, *, limit: int) -> Table:
    table = Table("column", "verdict", "test (p adjusted)", "effect / threshold", "missing %")
    table.columns[0].no_wrap = True
    for column in report.columns[:limit]:
        style = _STATUS_STYLE[column.status.value]
        verdict = column.status.value.replace("_", " ")
        if column.has_rate_drift:
            verdict += " + rate"
            style = style if column.is_drift else "bold yellow"
        test = f"{column.test} {_fmt(column.adjusted_p_value)}" if column.test else ""
        effect = ""
        if column.effect:
            effect = f"{column.effect} {_fmt(column.effect_size)} / {_fmt(column.threshold)}"
        missing = ""
        if column.missing is not None:
            ref, cur = column.missing.reference_rate, column.missing.current_rate
            missing = f"{ref * 100:.1f} → {cur * 100:.1f}"
        table.add_row(column.name, f"[{style}]{verdict}[/]", test, effect, missing)
    if len(report.columns) > limit:
        table.caption = f"{len(report.columns) - limit} more columns in --json / --html"
    return table


def _print_verdict(report: DriftReport) -> None:
    dataset = report.dataset
    head = "[bold red]dataset drift[/]" if report.is_drift else "[bold green]no dataset drift[/]"
    console.print(
        f"{head}: {dataset.drifted_columns} of {dataset.tested_columns} tested columns drifted "
        f"({dataset.share:.0%}), {dataset.rate_drifted_columns} with a missing/infinite rate "
        f"change; rule {dataset.rule}, mode {report.mode}",
        highlight=False,
    )
    for result in report.multivariate:
        verdict = "drift" if result.is_drift else "no drift"
        console.print(
            f"{result.method}: score {result.score:.3g} (threshold {result.threshold:.3g}): "
            f"{verdict}",
            highlight=False,
        )


@app.command("drift")
def drift(
    reference: Path = typer.Argument(
        ..., help="Reference data (Parquet, CSV, Arrow) or, with --profile, a saved profile."
    ),
    current: Path = typer.Argument(..., help="Current data (Parquet, CSV or Arrow file)."),
    profile: bool = typer.Option(
        False, "--profile", help="REFERENCE is a profile from `mloop monitor profile`."
    ),
    html: Path | None = typer.Option(None, "--html", help="Write a self-contained HTML report."),
    json_path: Path | None = typer.Option(None, "--json", help="Write the JSON report here."),
    mode: str = typer.Option("default", help="'default' (mloop's rule) or 'evidently'."),
    alpha: float = typer.Option(0.05, help="False discovery rate (p-value level in evidently)."),
    rule: str | None = typer.Option(None, help="Dataset rule: 'fdr' or 'share'."),
    drift_share: float = typer.Option(0.5, help="Share of drifted columns for --rule share."),
    method: list[str] = typer.Option([], help="Per-column method: COLUMN=ks|psi|... (repeat)."),
    threshold: list[str] = typer.Option([], help="Per-column threshold: COLUMN=0.2 (repeat)."),
    column: list[str] = typer.Option([], "--column", "-c", help="Only these columns (repeat)."),
    multivariate: list[str] = typer.Option(
        [], help="Add domain_classifier and/or pca_reconstruction (repeat)."
    ),
    limit: int = typer.Option(50, help="Show at most this many columns in the table."),
    stream: bool = typer.Option(
        False,
        "--stream",
        help="Read a Parquet CURRENT in batches into a 65,536-point sketch (bounded memory).",
    ),
) -> None:
    """Compare CURRENT with REFERENCE; exit code 10 when the dataset drifted."""
    from mloop.monitoring import DriftOptions, ReferenceProfile, build_profile, detect_drift
    from mloop.monitoring.report_html import write_html

    options = DriftOptions(
        mode=mode,  # type: ignore[arg-type]  # checked by DriftOptions
        alpha=alpha,
        dataset_rule=rule,  # type: ignore[arg-type]
        drift_share=drift_share,
        methods=_pairs(method, "--method"),
        thresholds=_thresholds(threshold),
        columns=tuple(column) or None,
        multivariate=tuple(multivariate),
    )
    source: object = ReferenceProfile.load(reference) if profile else reference
    target: object = build_profile(current, sketch_size=STREAM_SKETCH) if stream else current
    report = detect_drift(source, target, options=options)
    console.print(_summary_table(report, limit=limit))
    _print_verdict(report)
    if json_path is not None:
        json_path.write_text(report.to_json(), encoding="utf-8")
        console.print(f"JSON report: {json_path}", highlight=False)
    if html is not None:
        write_html(report, html, title=f"Drift: {current.name} vs {reference.name}")
        console.print(f"HTML report: {html}", highlight=False)
    if report.is_drift:
        raise typer.Exit(DRIFT_EXIT_CODE)


@app.command("profile")
def profile(
    reference: Path = typer.Argument(..., help="Reference data (Parquet, CSV or Arrow file)."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the profile JSON."),
    sketch_size: int = typer.Option(2048, help="Quantile points per numeric column."),
    batch_rows: int = typer.Option(262_144, help="Rows per batch when streaming Parquet."),
) -> None:
    """Summarise REFERENCE once into a small profile that `drift --profile` scores against."""
    from mloop.monitoring import build_profile

    if sketch_size < 16 or batch_rows < 1:
        raise InvalidInputError(
            "--sketch-size must be at least 16 and --batch-rows at least 1", field="--sketch-size"
        )
    result = build_profile(reference, sketch_size=sketch_size, batch_rows=batch_rows)
    result.save(output)
    console.print(
        f"profile of {result.rows} rows × {len(result.columns)} columns written to {output} "
        f"({output.stat().st_size / 1024:.0f} KiB)",
        highlight=False,
    )


@app.command("render")
def render(
    report_json: Path = typer.Argument(..., help="A JSON report from `drift --json`."),
    html: Path = typer.Option(..., "--html", help="Where to write the HTML report."),
) -> None:
    """Render a saved JSON drift report as HTML (nothing is recomputed)."""
    import json

    from mloop.monitoring import DriftReport
    from mloop.monitoring.report_html import write_html

    try:
        data = json.loads(report_json.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInputError(
            f"cannot read the JSON report {str(report_json)!r}: {exc}", field="report"
        ) from exc
    write_html(DriftReport.from_dict(data), html, title=f"Drift report: {report_json.name}")
    console.print(f"HTML report: {html}", highlight=False)
