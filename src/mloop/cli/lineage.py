"""`mloop lineage REF`: the runs that used a dataset version and the models built from them."""

from __future__ import annotations

import dataclasses

import typer
from rich import box
from rich.table import Table

from mloop.cli.output import console, format_ms, print_json


def lineage(
    reference: str = typer.Argument(
        ..., help="A dataset version: datasets:/NAME/3, NAME@alias, NAME/latest or a digest."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the lineage as JSON."),
) -> None:
    """List the runs that used a dataset version and the model versions those runs produced."""
    from mloop.client.datasets import lineage as find_lineage

    found = find_lineage(reference)
    if as_json:
        print_json(
            {
                "dataset": found.version.uri,
                "digest": found.version.digest,
                "runs": [dataclasses.asdict(r) for r in found.runs],
                "model_versions": [
                    {"name": m.name, "version": m.version, "run_id": m.run_id, "uri": m.uri}
                    for m in found.model_versions
                ],
            }
        )
        return
    console.print(f"[bold]{found.version.uri}[/]  {found.version.digest[:16]}", highlight=False)
    if not found.runs:
        console.print(
            f"no run used it yet; log it with mloop.log_input({found.version.uri!r}) inside a run",
            highlight=False,
        )
        return
    runs = Table("run", "name", "experiment", "status", "started", "context", box=box.SIMPLE_HEAD)
    for run in found.runs:
        runs.add_row(
            run.run_id,
            run.run_name,
            run.experiment_id,
            run.status,
            format_ms(run.start_time_ms),
            run.context,
        )
    console.print(runs)
    if found.model_versions:
        models = Table("model version", "from run", box=box.SIMPLE_HEAD)
        for model in found.model_versions:
            models.add_row(f"models:/{model.name}/{model.version}", model.run_id or "-")
        console.print(models)
