"""`mloop predict MODEL INPUT OUTPUT`: batch inference over a Parquet or CSV file.

A thin shell over `mloop.client.predict.predict_file`: the bar goes to stderr (and only to a
terminal), so stdout holds just the summary, or JSON with `--json`.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from mloop.cli.output import console, print_json


class _RowBar:
    """Renders `predict_file`'s progress (rows) on a rich bar; an unknown total pulses."""

    def __init__(self, bar: Progress) -> None:
        self._bar = bar
        self._task: TaskID | None = None

    def start(self, phase: str, total: int) -> None:
        self._task = self._bar.add_task(phase, total=total or None)

    def advance(self, count: int) -> None:
        if self._task is not None:
            self._bar.advance(self._task, count)


def predict(
    model: str = typer.Argument(
        ..., help="models:/NAME@ALIAS, models:/NAME/3, runs:/<run_id>/model or a package folder."
    ),
    input_path: Path = typer.Argument(..., help="Rows to predict: *.parquet, *.pq or *.csv."),
    output_path: Path = typer.Argument(..., help="Where predictions go; the extension picks."),
    keep_columns: list[str] = typer.Option(
        [],
        "--keep-columns",
        "-k",
        help="Input columns to copy next to the predictions (comma-separated or repeated; "
        "'*' for all).",
    ),
    method: str | None = typer.Option(
        None, "--method", help="predict or predict_proba (default: what the signature serves)."
    ),
    workers: int | None = typer.Option(
        None,
        "--workers",
        "-w",
        min=1,
        help="Processes predicting in parallel (default: one per core when the work pays "
        "for starting them).",
    ),
    chunk_rows: int = typer.Option(65_536, "--chunk-rows", min=1, help="Rows per chunk."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUTPUT if it exists."),
    trusted: bool = typer.Option(
        False, "--trusted", help="Allow loading a pickled model (runs code from the file)."
    ),
    no_onnx: bool = typer.Option(
        False, "--no-onnx", help="Run the native model even when a verified ONNX export exists."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Predict every row of a Parquet or CSV file with a model and write the predictions.

    The file streams through in chunks (memory stays bounded), checked against the model's
    signature first; the output keeps the input's row order.
    """
    from mloop.client.predict import predict_file

    keep = [name.strip() for item in keep_columns for name in item.split(",") if name.strip()]
    screen = Console(stderr=True)
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=screen,
        transient=True,
        disable=as_json or not screen.is_terminal,  # a pipe or log file gets no bar remnants
    )
    with bar:
        result = predict_file(
            model,
            input_path,
            output_path,
            keep_columns=keep,
            method=method,
            workers=workers,
            chunk_rows=chunk_rows,
            overwrite=overwrite,
            trusted=trusted,
            prefer_onnx=not no_onnx,
            progress=_RowBar(bar),
        )
    if as_json:
        print_json(
            {
                "output": str(result.output),
                "rows": result.rows,
                "chunks": result.chunks,
                "workers": result.workers,
                "backend": result.backend,
                "method": result.method,
                "columns": result.columns,
                "seconds": round(result.seconds, 3),
            }
        )
        return
    rate = result.rows / result.seconds if result.seconds > 0 else 0.0
    console.print(
        f"wrote {result.rows:,} predictions to {result.output} in {result.seconds:.2f}s "
        f"({rate:,.0f} rows/s, {result.workers} worker(s), {result.backend})",
        highlight=False,
        soft_wrap=True,  # one line for logs and scripts, whatever the width
    )
