"""`mloop audit ...`: read the append-only audit log and verify its hash chain."""

from __future__ import annotations

import dataclasses
import re

import typer
from rich import box
from rich.table import Table

from mloop.cli.output import console, format_ms, print_json
from mloop.entities import AuditEvent

app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)

_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_TARGET_HELP = (
    "Only events about this: a model (churn, with its versions), a version (churn/3), a run id, "
    "or TYPE:ID (model:churn, model_version:churn/3, run:<id>)."
)


def _matches(target: str) -> tuple[tuple[str, str] | None, str | None]:
    """The exact entity a target names, or (None, model name) for a model and its versions."""
    kind, sep, ident = target.partition(":")
    if sep and kind and ident and "/" not in kind:
        return (kind, ident), None
    if _RUN_ID.match(target):
        return ("run", target), None
    if "/" in target:
        return ("model_version", target), None
    return None, target


def _select(target: str | None, limit: int | None) -> list[AuditEvent]:
    from mloop.client.context import get_store

    audit = get_store().audit
    if target is None:
        return audit.list(limit=limit)
    entity, model = _matches(target)
    if entity is not None:
        return audit.list(entity=entity, limit=limit)
    # A model's history includes its versions' events ("churn/1", "churn/2" ...).
    events = [
        e
        for e in audit.list()
        if (e.entity_type == "model" and e.entity_id == model)
        or (e.entity_type == "model_version" and e.entity_id.rpartition("/")[0] == model)
    ]
    return events[:limit] if limit is not None else events


@app.command("log")
def log(
    target: str | None = typer.Option(None, "--target", "-t", help=_TARGET_HELP),
    limit: int | None = typer.Option(None, "--limit", "-n", help="At most this many events."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Show the audit log (oldest first): who did what to which object, and when."""
    events = _select(target, limit)
    if as_json:
        print_json([dataclasses.asdict(e) for e in events])
        return
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("#", "when (UTC)", "action"):
        table.add_column(column, no_wrap=True)
    for column in ("actor", "target", "details"):
        table.add_column(column, overflow="fold")
    for e in events:
        details = ", ".join(f"{k}={v}" for k, v in sorted(e.details.items()))
        table.add_row(
            str(e.seq),
            format_ms(e.at_ms),
            e.action,
            e.actor,
            f"{e.entity_type}:{e.entity_id}",
            details or "-",
        )
    table.caption = f"{len(events)} event(s)"
    console.print(table)


@app.command("verify")
def verify(
    expect_head: str | None = typer.Option(
        None,
        "--expect-head",
        help="A head hash printed by an earlier verify and kept elsewhere: fail (exit 1) when no "
        "event has it, i.e. when the newest events were removed since.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Recompute the hash chain; exit 1 naming the first event altered, removed or inserted.

    Prints the head (the newest event's hash): keep it outside the database (a ticket, a
    commit, a signed note) and pass it back with --expect-head to detect removed newest events.
    """
    from mloop.client.context import get_store

    result = get_store().audit.verify(expect_head=expect_head)
    if as_json:
        print_json(
            {
                "intact": result.is_intact,
                "checked": result.checked,
                "first_bad_seq": result.first_bad_seq,
                "reason": result.reason,
                "head": result.head,
                "head_seq": result.head_seq,
            }
        )
    elif result.is_intact:
        console.print(
            f"[green]intact[/]: {result.checked} event(s) checked; head #{result.head_seq} "
            f"{result.head or '(empty log)'}",
            highlight=False,
        )
    elif result.first_bad_seq is None:
        console.print(
            f"[bold red]truncated[/]: {result.reason}. The {result.checked} event(s) there are "
            f"intact up to head #{result.head_seq} {result.head or '(empty log)'}; restore the "
            "database from a backup and investigate who removed them",
            highlight=False,
        )
    else:
        console.print(
            f"[bold red]tampered[/]: event #{result.first_bad_seq} fails the check: "
            f"{result.reason}. The {result.checked} event(s) before it are intact; restore the "
            "database from a backup and investigate who changed it",
            highlight=False,
        )
    if not result.is_intact:
        raise typer.Exit(1)
