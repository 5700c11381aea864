"""`mloop experiments ...`: list, create, rename, delete and restore experiments."""

from __future__ import annotations

import dataclasses

import typer
from rich.table import Table

from mloop.cli.output import console, format_ms, print_json

app = typer.Typer(help="Create, list, rename and delete experiments.", no_args_is_help=True)


def _resolve(ref: str) -> str:
    """An experiment id from an id or a name (names win when both could match)."""
    from mloop.client import MloopClient

    store = MloopClient().store
    found = store.experiments.find_by_name(ref)
    if found is not None:
        return found.experiment_id
    return store.experiments.get(ref).experiment_id


@app.command("list")
def list_experiments(
    include_deleted: bool = typer.Option(False, "--all", help="Include deleted experiments."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """List experiments."""
    from mloop.client import MloopClient

    experiments = MloopClient().list_experiments(include_deleted=include_deleted)
    if as_json:
        print_json([dataclasses.asdict(e) for e in experiments])
        return
    table = Table("id", "name", "stage", "created (UTC)", "artifact location")
    for e in experiments:
        table.add_row(
            e.experiment_id, e.name, e.lifecycle_stage.value, format_ms(e.created_at_ms),
            e.artifact_location,
        )  # fmt: skip
    console.print(table)


@app.command("create")
def create(name: str = typer.Argument(..., help="Name of the new experiment.")) -> None:
    """Create an experiment."""
    from mloop.client import MloopClient

    experiment = MloopClient().create_experiment(name)
    console.print(f"created experiment [bold]{experiment.name}[/] (id {experiment.experiment_id})")


@app.command("rename")
def rename(
    experiment: str = typer.Argument(..., help="Id or name of the experiment."),
    new_name: str = typer.Argument(..., help="The new name."),
) -> None:
    """Rename an experiment."""
    from mloop.client import MloopClient

    renamed = MloopClient().rename_experiment(_resolve(experiment), new_name)
    console.print(f"experiment {renamed.experiment_id} is now [bold]{renamed.name}[/]")


@app.command("delete")
def delete(experiment: str = typer.Argument(..., help="Id or name of the experiment.")) -> None:
    """Soft-delete an experiment (restorable with `mloop experiments restore`)."""
    from mloop.client import MloopClient

    experiment_id = _resolve(experiment)
    MloopClient().delete_experiment(experiment_id)
    console.print(
        f"deleted experiment {experiment_id}; `mloop experiments restore {experiment_id}` undoes it"
    )


@app.command("restore")
def restore(experiment: str = typer.Argument(..., help="Id or name of the experiment.")) -> None:
    """Restore a deleted experiment."""
    from mloop.client import MloopClient

    experiment_id = _resolve(experiment)
    MloopClient().restore_experiment(experiment_id)
    console.print(f"restored experiment {experiment_id}")
