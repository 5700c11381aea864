"""`mloop data add|status|list|show|diff|alias`: versioning datasets and looking at them.

Thin commands over `mloop.data` (which takes the store) with rich tables and progress bars;
`--json` where scripts want the result. `register` puts them, and those of
`cli/dataset_transfer.py`, on the `data` app of `cli/data.py`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichBar
from rich.table import Table

from mloop.cli.output import console, format_ms, print_json
from mloop.errors import InvalidInputError

if TYPE_CHECKING:
    from mloop.data.snapshots import AddResult
    from mloop.entities.datasets import DatasetVersion
    from mloop.storage import Store

_REF_HELP = "A dataset version: NAME/3, NAME@alias, NAME/latest, datasets:/NAME/3 or a digest."


class _Bars:
    """Rich progress bars for the phases `mloop.data` reports (see `data/progress.py`)."""

    def __init__(self, bar: RichBar) -> None:
        self._bar = bar
        self._task: TaskID | None = None

    def start(self, phase: str, total: int) -> None:
        if self._task is not None:
            self._bar.update(self._task, visible=False)
        self._task = self._bar.add_task(phase, total=total) if total else None

    def advance(self, count: int) -> None:
        if self._task is not None:
            self._bar.advance(self._task, count)


@contextmanager
def progress_bars(*, quiet: bool = False) -> Iterator[_Bars]:
    """Transient rich bars, one per phase; nothing is drawn when `quiet` (e.g. with --json)."""
    bar = RichBar(
        TextColumn("{task.description:>13}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=quiet,
    )
    with bar:
        yield _Bars(bar)


def open_default_store() -> Store:
    """The store the settings name (`MLOOP_TRACKING_URI`, or `.mloop/`)."""
    from mloop.client.context import get_store

    return get_store()


def _tags(values: list[str]) -> dict[str, str]:
    pairs = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"--tag takes KEY=VALUE, got {item!r}", field="tag")
        pairs[key] = value
    return pairs


def _version_json(version: DatasetVersion) -> dict[str, Any]:
    data = dataclasses.asdict(version)
    data["kind"] = version.kind.value
    data["uri"] = version.uri
    return data


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"  # pragma: no cover - the loop always returns


def _report_add(result: AddResult, *, as_json: bool) -> None:
    version = result.version
    if as_json:
        print_json({**_version_json(version), "created": result.created, "hashed": result.hashed})
        return
    if result.created:
        console.print(
            f"[green]created[/] {version.uri}: {version.file_count} files, "
            f"{_size(version.total_size)} ({result.hashed} hashed, {result.stored} stored)",
            highlight=False,
        )
    else:
        console.print(f"[yellow]unchanged[/]: the content equals {version.uri}", highlight=False)


def add(
    path: Path = typer.Argument(..., help="A file or folder."),
    name: str = typer.Option(..., "--name", "-n", help="The dataset."),
    message: str = typer.Option("", "--message", "-m", help="What changed."),
    tag: list[str] = typer.Option([], "--tag", help="A dataset tag KEY=VALUE (repeatable)."),
    description: str | None = typer.Option(None, help="Set the dataset's description."),
    as_json: bool = typer.Option(False, "--json", help="Print the version as JSON."),
) -> None:
    """Version a file or folder: the next version of NAME, or "unchanged"."""
    from mloop.client.datasets import stat_cache
    from mloop.data.snapshots import add as add_path

    cache = stat_cache()
    try:
        with progress_bars(quiet=as_json) as bars:
            result = add_path(
                open_default_store(),
                path,
                name,
                cache=cache,
                message=message,
                tags=_tags(tag),
                description=description,
                progress=bars,
            )
    finally:
        cache.close()
    _report_add(result, as_json=as_json)


def status(
    path: Path = typer.Argument(..., help="The working file or folder."),
    name: str = typer.Option(..., "--name", "-n", help="The dataset to compare with."),
    as_json: bool = typer.Option(False, "--json", help="Print the changes as JSON."),
) -> None:
    """What changed in PATH since the latest version of NAME (added, removed, modified)."""
    from mloop.client.datasets import stat_cache
    from mloop.data.changes import status as compare

    cache = stat_cache()
    try:
        with progress_bars(quiet=as_json) as bars:
            changes = compare(open_default_store(), path, name, cache=cache, progress=bars)
    finally:
        cache.close()
    base = changes.version.uri if changes.version else f"{name} (no version yet)"
    if as_json:
        print_json(
            {
                "base": base,
                "added": changes.added,
                "removed": changes.removed,
                "modified": changes.modified,
                "unchanged": changes.unchanged,
            }
        )
        return
    for label, style, paths in (
        ("added", "green", changes.added),
        ("removed", "red", changes.removed),
        ("modified", "yellow", changes.modified),
    ):
        for item in paths:
            console.print(f"  [{style}]{label:>9}[/]  {item}", highlight=False)
    verdict = "clean" if changes.is_clean else "changed"
    console.print(
        f"{verdict} against {base}: {len(changes.added)} added, {len(changes.removed)} removed, "
        f"{len(changes.modified)} modified, {changes.unchanged} unchanged",
        highlight=False,
    )


def list_datasets(
    as_json: bool = typer.Option(False, "--json", help="Print the datasets as JSON."),
) -> None:
    """List datasets with their latest version and aliases."""
    datasets = open_default_store().datasets.list()
    if as_json:
        print_json([dataclasses.asdict(d) for d in datasets])
        return
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("name", "latest", "aliases", "created", "description"):
        table.add_column(column)
    for d in datasets:
        aliases = ", ".join(f"@{a}={v}" for a, v in d.aliases.items())
        table.add_row(
            d.name, str(d.latest_version), aliases, format_ms(d.created_time_ms), d.description
        )
    console.print(table if datasets else "no datasets yet; `mloop data add PATH --name NAME`")


def show(
    reference: str = typer.Argument(..., help="NAME (its versions) or " + _REF_HELP),
    files: bool = typer.Option(False, "--files", help="List the version's files."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Show a dataset's versions, or one version's manifest, schema and row count."""
    from mloop.data.refs import parse_ref, resolve

    store = open_default_store()
    parsed = parse_ref(reference)
    if parsed.name and parsed.version is None and parsed.alias is None and "/" not in reference:
        _show_dataset(store, parsed.name, as_json=as_json)
        return
    version = resolve(store, parsed)
    entries = store.datasets.list_files(version.name, version.version)
    if as_json:
        print_json({**_version_json(version), "files": [dataclasses.asdict(e) for e in entries]})
        return
    console.print(f"[bold]{version.uri}[/]  {version.kind.value}", highlight=False)
    console.print(
        f"  digest   {version.digest}\n  created  {format_ms(version.created_time_ms)}\n"
        f"  files    {version.file_count} ({_size(version.total_size)})\n"
        f"  message  {version.message or '-'}\n  source   {version.source or '-'}",
        highlight=False,
    )
    if version.row_count is not None:
        console.print(f"  rows     {version.row_count}", highlight=False)
    for column in version.columns:
        console.print(f"    {column.name}: {column.type}", highlight=False)
    if files:
        table = Table("path", "size", "digest", box=box.SIMPLE_HEAD)
        for e in entries:
            table.add_row(e.path, _size(e.size), e.digest[:16])
        console.print(table)


def _show_dataset(store: Store, name: str, *, as_json: bool) -> None:
    dataset = store.datasets.get(name)
    versions = store.datasets.list_versions(name)
    if as_json:
        print_json(
            {**dataclasses.asdict(dataset), "versions": [_version_json(v) for v in versions]}
        )
        return
    by_version: dict[int, list[str]] = {}
    for alias, number in dataset.aliases.items():
        by_version.setdefault(number, []).append(f"@{alias}")
    table = Table(box=box.SIMPLE_HEAD, title=f"dataset {name}")
    for column in ("version", "kind", "files", "size", "rows", "created", "aliases", "message"):
        table.add_column(column)
    for v in versions:
        table.add_row(
            str(v.version),
            v.kind.value,
            str(v.file_count),
            _size(v.total_size),
            "-" if v.row_count is None else str(v.row_count),
            format_ms(v.created_time_ms),
            " ".join(by_version.get(v.version, [])),
            v.message,
        )
    console.print(table)


def diff(
    old: str = typer.Argument(..., help="The first version (" + _REF_HELP + ")"),
    new: str = typer.Argument(..., help="The second version."),
    as_json: bool = typer.Option(False, "--json", help="Print the difference as JSON."),
) -> None:
    """Files added, removed and changed between two versions; for tables, schema and rows."""
    from mloop.data.manifests import diff_versions
    from mloop.data.refs import resolve

    store = open_default_store()
    a, b = resolve(store, old), resolve(store, new)
    result = diff_versions(
        a,
        store.datasets.list_files(a.name, a.version),
        b,
        store.datasets.list_files(b.name, b.version),
    )
    if as_json:
        data = dataclasses.asdict(result)
        data["old"], data["new"] = a.uri, b.uri
        print_json(data)
        return
    console.print(f"{a.uri} -> {b.uri}", highlight=False)
    for label, style, paths in (
        ("added", "green", result.added),
        ("removed", "red", result.removed),
        ("changed", "yellow", result.changed),
    ):
        for item in paths:
            console.print(f"  [{style}]{label:>8}[/]  {item}", highlight=False)
    for column in result.columns_added:
        console.print(f"  [green]+ column[/] {column.name}: {column.type}", highlight=False)
    for column in result.columns_removed:
        console.print(f"  [red]- column[/] {column.name}: {column.type}", highlight=False)
    for change in result.columns_changed:
        console.print(
            f"  [yellow]~ column[/] {change.name}: {change.old_type} -> {change.new_type}",
            highlight=False,
        )
    if result.row_count_change is not None:
        console.print(
            f"  rows {a.row_count} -> {b.row_count} ({result.row_count_change:+d})",
            highlight=False,
        )
    console.print(
        "no difference"
        if result.is_empty
        else f"{len(result.added)} added, {len(result.removed)} removed, {len(result.changed)} "
        f"changed, {result.unchanged} unchanged",
        highlight=False,
    )


def alias(
    reference: str = typer.Argument(..., help="The version, e.g. NAME/3."),
    name: str = typer.Argument(..., help="The alias, e.g. prod."),
    delete: bool = typer.Option(False, "--delete", help="Remove the alias instead."),
) -> None:
    """Point an alias at a version (datasets:/NAME@ALIAS then names it), or remove it."""
    from mloop.data.refs import parse_ref, resolve

    store = open_default_store()
    if delete:
        dataset = parse_ref(reference).name or reference
        store.datasets.delete_alias(dataset, name)
        console.print(f"removed alias @{name} of {dataset}", highlight=False)
        return
    version = resolve(store, reference)
    store.datasets.set_alias(version.name, name, version.version)
    console.print(f"datasets:/{version.name}@{name} -> {version.uri}", highlight=False)


def register(app: typer.Typer) -> None:
    """Put the dataset commands on the `data` app."""
    from mloop.cli import dataset_transfer

    app.command("add")(add)
    app.command("status")(status)
    app.command("list")(list_datasets)
    app.command("show")(show)
    app.command("diff")(diff)
    app.command("alias")(alias)
    app.command("push")(dataset_transfer.push)
    app.command("pull")(dataset_transfer.pull)
    app.command("get")(dataset_transfer.get)
    app.command("import-dvc")(dataset_transfer.import_dvc)
