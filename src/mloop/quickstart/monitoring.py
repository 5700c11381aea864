"""Quickstart stage 6, monitoring: drift between training data and new data.

The HTML report is written beside the store and logged to a run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

import mloop

if TYPE_CHECKING:
    from mloop.monitoring import DriftReport
    from mloop.quickstart import QuickstartContext

SHIFTED_COLUMNS = ("mean radius", "mean texture", "worst area")


def _shifted(frame: Any, seed: int = 0) -> Any:
    """New data whose population moved: larger tumours and noisier texture readings."""
    import numpy as np

    rng = np.random.default_rng(seed)
    moved = frame.copy()
    moved["mean radius"] = moved["mean radius"] * 1.25
    moved["mean texture"] = moved["mean texture"] + rng.normal(4.0, 2.0, len(moved))
    moved["worst area"] = moved["worst area"] * 1.4
    return moved


def run(ctx: QuickstartContext) -> None:
    """Compare the test split (no drift) and a shifted copy (drift) with the training data."""
    from mloop.monitoring import detect_drift, write_html

    train, test, features = ctx.shared["train"], ctx.shared["test"], ctx.shared["features"]
    ctx.console.rule("[bold]6 · monitoring")
    steady = detect_drift(train[features], test[features])
    moved_data = _shifted(test[features])
    moved = detect_drift(train[features], moved_data)
    report_path = write_html(moved, Path(ctx.output_dir) / "drift.html", title="quickstart drift")
    with mloop.start_run(run_name="drift-check") as run:
        mloop.set_tag("quickstart", "true")
        mloop.log_metrics(
            {
                "drifted_columns": moved.dataset.drifted_columns,
                "drift_share": moved.dataset.share,
                "test_split_drifted_columns": steady.dataset.drifted_columns,
            }
        )
        mloop.log_artifact(report_path, "reports")
    ctx.console.print(f"test split vs training data:   {_verdict(steady)}")
    ctx.console.print(f"shifted data vs training data: {_verdict(moved)}")
    ctx.console.print(_columns(moved))
    ctx.console.print(
        f"report: {report_path} (also logged to run {run.run_id[:8]} as reports/drift.html)"
    )
    ctx.shared["drift"] = moved


def _verdict(report: DriftReport) -> str:
    d = report.dataset
    word = "[red]drift[/]" if report.is_drift else "[green]no drift[/]"
    return f"{word} ({d.drifted_columns} of {d.tested_columns} columns)"


def _columns(report: DriftReport) -> Table:
    table = Table("column", "verdict", "test", "p (adjusted)", "effect", title="most drifted")
    for column in report.columns[:5]:
        drifted = column.status.value == "drift"
        table.add_row(
            column.name,
            "[red]drift[/]" if drifted else column.status.value.replace("_", " "),
            column.test or "-",
            "-" if column.adjusted_p_value is None else f"{column.adjusted_p_value:.2g}",
            "-" if column.effect_size is None else f"{column.effect} {column.effect_size:.3f}",
        )
    return table
