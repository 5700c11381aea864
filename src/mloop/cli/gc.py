"""`mloop gc`: purge runs deleted long ago and the blobs nothing references any more."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mloop.cli.output import console, print_json
from mloop.errors import ConfigurationError

if TYPE_CHECKING:
    from mloop.storage.sql.gc import GcReport

_SHOWN = 20


def gc(
    retention_days: float = typer.Option(
        30.0,
        "--retention-days",
        min=0,
        help="Purge runs soft-deleted more than this many days ago.",
    ),
    grace_hours: float = typer.Option(
        24.0,
        "--grace-hours",
        min=0,
        help="Keep unreferenced blobs younger than this (writers may be about to use them).",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="List what would be removed; change nothing."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Permanently delete old deleted runs, then blobs no run, dataset or model references."""
    from mloop.client.context import get_store
    from mloop.storage.sql.gc import collect_garbage
    from mloop.storage.sql.store import SqlStore
    from mloop.tracking.environment import current_user

    store = get_store()
    if not isinstance(store, SqlStore):
        raise ConfigurationError(
            "mloop gc works on the database and blob store directly, not through a server; run "
            "it with MLOOP_TRACKING_URI set to the database (sqlite:///... or postgresql://...) "
            "and MLOOP_ARTIFACT_URI to the artifact root"
        )
    with console.status("collecting garbage...", spinner="dots"):
        report = collect_garbage(
            store.engine,
            store.artifacts.blobs,
            retention_days=retention_days,
            grace_hours=grace_hours,
            dry_run=dry_run,
            actor=current_user(),
        )
    if as_json:
        print_json(dataclasses.asdict(report))
        return
    _render(report)


def _render(report: GcReport) -> None:
    verb = "would remove" if report.dry_run else "removed"
    table = Table(show_header=False, box=None)
    table.add_row(
        "runs purged" if not report.dry_run else "runs to purge", str(len(report.purged_runs))
    )
    table.add_row(
        "blobs deleted" if not report.dry_run else "blobs to delete",
        f"{len(report.deleted_blobs)} ({_size(report.freed_bytes)})",
    )
    table.add_row("blobs still referenced", str(report.referenced_blobs))
    table.add_row("unreferenced, within the grace period", str(report.young_blobs))
    if not report.dry_run:
        table.add_row("leftovers of dead writers", str(report.stale_objects))
        table.add_row("old per-run artifact folders", str(report.legacy_folders))
    console.print(table)
    if report.kept_runs:
        console.print(
            f"kept {len(report.kept_runs)} deleted run(s) that registered model versions come "
            "from; delete those versions first to purge them"
        )
    for title, items in (("runs", report.purged_runs), ("blobs", report.deleted_blobs)):
        for item in items[:_SHOWN]:
            console.print(f"  {verb} {title[:-1]} {item}")
        if len(items) > _SHOWN:
            console.print(f"  ... and {len(items) - _SHOWN} more {title} (--json lists all)")
    if report.dry_run:
        console.print("dry run: nothing was changed")


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover - the loop returns at GiB
