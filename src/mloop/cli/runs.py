"""`mloop runs ...`: list, show, delete and restore runs."""

from __future__ import annotations

import dataclasses
import math
import re
from typing import TYPE_CHECKING, Any

import typer
from rich import box
from rich.table import Table

from mloop.cli.output import console, format_duration, format_ms, print_json
from mloop.entities import Run
from mloop.errors import InvalidInputError

if TYPE_CHECKING:
    from mloop.client import MloopClient

app = typer.Typer(help="List, inspect, compare, delete and restore runs.", no_args_is_help=True)
# A prefix is hex only, so it can be placed in a filter without quoting problems.
_PREFIX = re.compile(r"^[0-9a-f]{4,31}$")

SHORT_ID = 8
_STATUS_STYLE = {"FINISHED": "green", "FAILED": "red", "KILLED": "yellow", "RUNNING": "cyan"}


def _pairs(values: list[str], option: str) -> dict[str, str]:
    pairs = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"{option} takes KEY=VALUE, got {item!r}", field=option)
        pairs[key] = value
    return pairs


def resolve_run_id(client: MloopClient, ref: str) -> str:
    """A full run id from a full id or a unique prefix of at least 4 hex characters.

    Raises:
        InvalidInputError: the prefix is malformed or matches several runs.
        RunNotFoundError: nothing matches.
    """
    from mloop.errors import RunNotFoundError

    if len(ref) == 32 or not _PREFIX.match(ref):
        return ref  # full ids (and malformed text) are checked by the store
    found = client.search_runs(
        None,
        filter_string=f"attributes.run_id LIKE '{ref}%'",
        include_deleted=True,
        max_results=2,
    )
    if not found:
        raise RunNotFoundError(ref)
    if len(found) > 1:
        raise InvalidInputError(
            f"run id prefix {ref!r} matches several runs; give more characters", field="run_id"
        )
    return found[0].run_id


def _format_value(value: float, digits: int = 6) -> str:
    return f"{value:.{digits}g}" if math.isfinite(value) else str(value)


@app.command("list")
def list_runs(
    experiment: list[str] = typer.Option(
        [], "--experiment", "-e", help="Experiment name (repeatable); default: all experiments."
    ),
    param: list[str] = typer.Option([], "--param", help="Only runs with this param: KEY=VALUE."),
    tag: list[str] = typer.Option([], "--tag", help="Only runs with this tag: KEY=VALUE."),
    status: str | None = typer.Option(None, help="Only runs with this status, e.g. FINISHED."),
    filter_string: str | None = typer.Option(
        None,
        "--filter",
        "-f",
        help="Search filter, e.g. \"metrics.acc > 0.9 AND params.model = 'rf'\" (docs/search.md).",
    ),
    order_by: list[str] = typer.Option(
        [], "--order-by", "-o", help="Order, e.g. 'metrics.acc DESC' (repeatable)."
    ),
    max_results: int = typer.Option(100, "--max", help="Page size."),
    page_token: str | None = typer.Option(None, "--page-token", help="Continue a listing."),
    include_deleted: bool = typer.Option(False, "--all", help="Include deleted runs."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """List runs matching a filter (newest first by default), with their metrics."""
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
        filter_string=filter_string,
        order_by=order_by,
        params=_pairs(param, "--param"),
        tags=_pairs(tag, "--tag"),
        status=status.upper() if status else None,
        include_deleted=include_deleted,
        max_results=max_results,
        page_token=page_token,
    )
    if as_json:
        print_json(
            {
                "runs": [dataclasses.asdict(r) for r in runs],
                "next_page_token": runs.next_page_token,
            }
        )
        return
    console.print(_runs_table(runs, names))
    if runs.next_page_token:
        console.print(f"more runs: add --page-token {runs.next_page_token}", highlight=False)


def _runs_table(runs: list[Run], experiment_names: dict[str, str]) -> Table:
    show_experiment = len({r.experiment_id for r in runs}) > 1
    # As many metric columns as fit beside the fixed ones (about 9 characters each).
    room = max(1, (console.width - (70 if show_experiment else 58)) // 9)
    metric_keys = sorted({k for r in runs for k in r.metrics if not k.startswith("system/")})
    metric_keys = metric_keys[:room]
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("run id", no_wrap=True)
    table.add_column("name", min_width=12, overflow="fold")
    if show_experiment:
        table.add_column("experiment")
    table.add_column("status", no_wrap=True, min_width=8)
    table.add_column("started (UTC)", no_wrap=True)
    table.add_column("took", no_wrap=True)
    for key in metric_keys:
        table.add_column(key, justify="right", no_wrap=True, min_width=6, overflow="ellipsis")
    for r in runs:
        style = _STATUS_STYLE.get(r.status.value, "")
        cells = [r.run_id[:SHORT_ID], r.run_name]
        if show_experiment:
            cells.append(experiment_names.get(r.experiment_id, r.experiment_id))
        cells += [
            f"[{style}]{r.status.value}[/]" if style else r.status.value,
            format_ms(r.start_time_ms, short=True),
            format_duration(r.start_time_ms, r.end_time_ms),
            *(_format_value(r.metrics[k], 4) if k in r.metrics else "" for k in metric_keys),
        ]
        table.add_row(*cells)
    table.caption = f"{len(runs)} run(s) · run ids are shown by their first {SHORT_ID} characters"
    return table


@app.command("show")
def show(
    run_id: str = typer.Argument(..., help="The run id, or its first characters (at least 4)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Show a run: its params, latest metrics, tags and inputs."""
    from mloop.client import MloopClient

    client = MloopClient()
    run = client.get_run(resolve_run_id(client, run_id))
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
    if run.inputs:
        table = Table(
            "dataset", "digest", "context", "source", title="inputs", title_justify="left"
        )
        for item in run.inputs:
            table.add_row(item.name, item.digest, item.context or "-", item.source or "-")
        console.print(table)


@app.command("delete")
def delete(run_id: str = typer.Argument(..., help="The run id or a unique prefix.")) -> None:
    """Soft-delete a run (restorable with `mloop runs restore`)."""
    from mloop.client import MloopClient

    client = MloopClient()
    run_id = resolve_run_id(client, run_id)
    client.delete_run(run_id)
    console.print(f"deleted run {run_id}; `mloop runs restore {run_id}` undoes it")


@app.command("restore")
def restore(run_id: str = typer.Argument(..., help="The run id or a unique prefix.")) -> None:
    """Restore a deleted run."""
    from mloop.client import MloopClient

    client = MloopClient()
    run_id = resolve_run_id(client, run_id)
    client.restore_run(run_id)
    console.print(f"restored run {run_id}")


@app.command("compare")
def compare(
    run_ids: list[str] = typer.Argument(..., help="Two or more run ids (or unique prefixes)."),
    only_differences: bool = typer.Option(
        False, "--diff", help="Show only the params and metrics that differ."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Compare runs side by side: params and latest metrics, differences highlighted."""
    from mloop.client import MloopClient

    if len(run_ids) < 2:
        raise InvalidInputError("compare takes at least two runs", field="run_ids")
    client = MloopClient()
    runs = [client.get_run(resolve_run_id(client, ref)) for ref in run_ids]
    if as_json:
        print_json(
            {
                "runs": [r.run_id for r in runs],
                "params": _side_by_side([r.params for r in runs]),
                "metrics": _side_by_side([r.metrics for r in runs]),
            }
        )
        return
    table = Table(box=box.SIMPLE_HEAD, title="params and latest metrics")
    table.add_column("", no_wrap=True)
    for r in runs:
        table.add_column(f"{r.run_name}\n{r.run_id[:SHORT_ID]}", justify="right")
    _add_section(table, "params", [r.params for r in runs], only_differences=only_differences)
    metrics = [{k: _format_value(v) for k, v in r.metrics.items()} for r in runs]
    _add_section(table, "metrics", metrics, only_differences=only_differences, best=runs)
    console.print(table)
    console.print("[yellow]yellow[/]: values differ · [bold green]green[/]: best of a metric")


def _side_by_side(values: list[dict[str, Any]]) -> dict[str, list[Any]]:
    keys = sorted({k for v in values for k in v})
    return {k: [v.get(k) for v in values] for k in keys}


def _add_section(
    table: Table,
    title: str,
    values: list[dict[str, str]],
    *,
    only_differences: bool,
    best: list[Run] | None = None,
) -> None:
    rows = _side_by_side(values)
    shown = {k: v for k, v in rows.items() if not only_differences or len(set(v)) > 1}
    if not shown:
        return
    table.add_row(f"[bold]{title}[/]", *([""] * len(values)))
    for key, cells in shown.items():
        differs = len(set(cells)) > 1
        winner = _best_index(key, best) if best is not None and differs else None
        rendered = []
        for index, cell in enumerate(cells):
            text = "-" if cell is None else str(cell)
            if index == winner:
                text = f"[bold green]{text}[/]"
            elif differs:
                text = f"[yellow]{text}[/]"
            rendered.append(text)
        table.add_row(f"  {key}", *rendered)


def _best_index(key: str, runs: list[Run]) -> int | None:
    """The run with the best value of a metric: lowest for losses and errors, else highest."""
    values = [r.metrics.get(key) for r in runs]
    finite = [(v, i) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if not finite:
        return None
    lower_is_better = any(word in key.lower() for word in ("loss", "error", "mse", "mae", "rmse"))
    return (min(finite) if lower_is_better else max(finite))[1]
