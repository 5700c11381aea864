"""`mloop import-mlflow --from URI`: copy an MLflow tracking store into the current mloop store."""

from __future__ import annotations

import dataclasses
import os

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mloop.cli.output import console, print_json

MAX_WARNINGS_SHOWN = 20


def import_mlflow(
    from_uri: str = typer.Option(
        ...,
        "--from",
        help=(
            "The MLflow store: its database (sqlite:///mlflow.db, postgresql://...) or its "
            "tracking server (http://host:5000; credentials from MLFLOW_TRACKING_TOKEN or "
            "MLFLOW_TRACKING_USERNAME/PASSWORD)."
        ),
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Copy MLflow experiments, runs, metrics, artifacts and models into this mloop store.

    Safe to run again: only what is new since the last import is copied.
    """
    from mloop.client import MloopClient
    from mloop.client.mlflow_import import MlflowImporter
    from mloop.storage.mlflow_source import open_mlflow_source

    token = os.environ.get("MLFLOW_TRACKING_TOKEN") or None
    user = os.environ.get("MLFLOW_TRACKING_USERNAME")
    password = os.environ.get("MLFLOW_TRACKING_PASSWORD")
    basic = (user, password) if user and password is not None else None
    source = open_mlflow_source(from_uri, token=token, basic_auth=basic)
    try:
        with Progress(
            TextColumn("importing runs"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=as_json,
        ) as bar:
            task = bar.add_task("runs", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            summary = MlflowImporter(MloopClient().store, source, progress=advance).run()
    finally:
        source.close()
    if as_json:
        print_json(dataclasses.asdict(summary))
        return
    s = summary
    table = Table(f"imported from {source.uri}", "new")
    table.add_row("experiments", f"{s.experiments_created} ({s.experiments_matched} matched)")
    runs = f"{s.runs_created} ({s.runs_updated} updated, {s.runs_unchanged} unchanged)"
    table.add_row("runs", runs)
    for label, value in (
        ("params", summary.params),
        ("tags", summary.tags),
        ("metric points", summary.metric_points),
        ("dataset inputs", summary.inputs),
        ("artifact files", summary.artifact_files),
        ("registered models", summary.models_created),
        ("model versions", summary.versions_created),
        ("aliases set", summary.aliases_set),
    ):
        table.add_row(label, str(value))
    console.print(table)
    for warning in summary.warnings[:MAX_WARNINGS_SHOWN]:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    hidden = len(summary.warnings) - MAX_WARNINGS_SHOWN
    if hidden > 0:
        console.print(f"[yellow]... and {hidden} more warnings (--json lists them all)[/]")
