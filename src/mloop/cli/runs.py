"""`mloop runs ...`: list, show, delete and restore runs."""

from __future__ import annotations

import dataclasses
import math

import typer
from rich.table import Table

from mloop.cli.output import console, format_duration, format_ms, print_json
from mloop.entities import Run
from mloop.errors import InvalidInputError

app = typer.Typer(help="List, inspect, delete and restore runs.", no_args_is_help=True)

_STATUS_STYLE = {"FINISHED": "green", "FAILED": "red", "KILLED": "yellow", "RUNNING": "cyan"}


def _pairs(values: list[str], option: str) -> dict[str, str]:
    pairs = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"{option} takes KEY=VALUE, got {item!r}", field=option)
        pairs[key] = value
    return pairs


def _format_value(value: float) -> str:
    return f"{value:.6g}" if math.isfinite(value) else str(value)


@app.command("list")
def list_runs(
    experiment: list[str] = typer.Option(
        [], "--experiment", "-e", help="Experiment name (repeatable); default: all experiments."
    ),
    param: list[str] = typer.Option([], "--param", help="Only runs with this param: KEY=VALUE."),
    tag: list[str] = typer.Option([], "--tag", help="Only runs with this tag: KEY=VALUE."),
    status: str | None = typer.Option(None, help="Only runs with this status, e.g. FINISHED."),
    max_results: int = typer.Option(100, "--max", help="At most this many runs."),
    include_deleted: bool = typer.Option(False, "--all", help="Include deleted runs."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """List runs, newest first, with their metrics."""
    from mloop.client import MloopClient
    from mloop.entities import RunStatus

    client = MloopClient()
    names = {e.experiment_id: e.name for e in client.list_experiments(include_deleted=True)}
    ids = [client.get_experiment_by_name(n).experiment_id for n in experiment] or list(names)
    if status is not None and status.upper() not in RunStatus.__members__:
        raise InvalidInputError(
            f"unknown status {status!r}; use one of {', '.join(RunStatus.__members__)}",
            field="status",
        )
    runs = client.search_runs(
        ids,
        params=_pairs(param, "--param"),
        tags=_pairs(tag, "--tag"),
        status=status.upper() if status else None,
        include_deleted=include_deleted,
        max_results=max_results,
    )
    if as_json:
        print_json([dataclasses.asdict(r) for r in runs])
        return
    console.print(_runs_table(runs, names))


def _runs_table(runs: list[Run], experiment_names: dict[str, str]) -> Table:
    metric_keys = sorted({k for r in runs for k in r.metrics if not k.startswith("system/")})[:4]
    table = Table("name", "experiment", "status", "started (UTC)", "duration")
    table.add_column("run id", no_wrap=True)
    for key in metric_keys:
        table.add_column(key, justify="right")
    for r in runs:
        style = _STATUS_STYLE.get(r.status.value, "")
        table.add_row(
            r.run_name,
            experiment_names.get(r.experiment_id, r.experiment_id),
            f"[{style}]{r.status.value}[/]" if style else r.status.value,
            format_ms(r.start_time_ms),
            format_duration(r.start_time_ms, r.end_time_ms),
            r.run_id,
            *(_format_value(r.metrics[k]) if k in r.metrics else "" for k in metric_keys),
        )
    table.caption = f"{len(runs)} run(s)"
    return table


@app.command("show")
def show(
    run_id: str = typer.Argument(..., help="The run id (32 hex characters)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Show a run: its params, latest metrics, tags and inputs."""
    from mloop.client import MloopClient

    run = MloopClient().get_run(run_id)
    if as_json:
        print_json(dataclasses.asdict(run))
        return
    header = Table.grid(padding=(0, 2))
    header.add_row("run", f"[bold]{run.run_name}[/] ({run.run_id})")
    header.add_row("experiment", run.experiment_id)
    header.add_row("status", run.status.value)
    header.add_row("started (UTC)", format_ms(run.start_time_ms))
    header.add_row("duration", format_duration(run.start_time_ms, run.end_time_ms))
    header.add_row("artifacts", run.artifact_uri)
    if run.parent_run_id:
        header.add_row("parent run", run.parent_run_id)
    if run.lifecycle_stage.value != "active":
        header.add_row("deleted", "yes (`mloop runs restore` brings it back)")
    console.print(header)
    for title, values in (
        ("params", run.params),
        ("metrics (latest)", {k: _format_value(v) for k, v in run.metrics.items()}),
        ("tags", run.tags),
    ):
        if values:
            table = Table("key", "value", title=title, title_justify="left")
            for key in sorted(values):
                table.add_row(key, values[key])
            console.print(table)


@app.command("delete")
def delete(run_id: str = typer.Argument(..., help="The run id.")) -> None:
    """Soft-delete a run (restorable with `mloop runs restore`)."""
    from mloop.client import MloopClient

    MloopClient().delete_run(run_id)
    console.print(f"deleted run {run_id}; `mloop runs restore {run_id}` undoes it")


@app.command("restore")
def restore(run_id: str = typer.Argument(..., help="The run id.")) -> None:
    """Restore a deleted run."""
    from mloop.client import MloopClient

    MloopClient().restore_run(run_id)
    console.print(f"restored run {run_id}")
