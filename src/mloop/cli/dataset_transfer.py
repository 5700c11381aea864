"""`mloop data push|pull|get|import-dvc`: moving a dataset's bytes in and out of the store."""

from __future__ import annotations

from pathlib import Path

import typer
from rich import box
from rich.table import Table

from mloop.cli.datasets import open_default_store, progress_bars
from mloop.cli.output import console, print_json


def _transfer(direction: str, reference: str, remote: str, workers: int | None) -> None:
    from mloop.data.transfer import pull as pull_blobs
    from mloop.data.transfer import push as push_blobs

    move = push_blobs if direction == "push" else pull_blobs
    with progress_bars() as bars:
        result = move(open_default_store(), reference, remote, workers=workers, progress=bars)
    versions = ", ".join(str(v.version) for v in result.versions)
    verb = "pushed" if direction == "push" else "pulled"
    console.print(
        f"{verb} {result.copied} of {result.blobs} blobs ({result.blobs - result.copied} were "
        f"there already) for versions {versions} of {result.versions[0].name}"
        if result.versions
        else f"nothing to {direction}: {reference} has no versions",
        highlight=False,
    )


_REMOTE = typer.Option(..., "--remote", "-r", help="A folder or s3://BUCKET/PREFIX.")
_WORKERS = typer.Option(None, help="Parallel transfers (default: 4 per CPU, at most 32).")


def push(
    reference: str = typer.Argument(..., help="NAME (every version) or one version."),
    remote: str = _REMOTE,
    workers: int | None = _WORKERS,
) -> None:
    """Copy a dataset's blobs to a remote store; only what is missing there travels."""
    _transfer("push", reference, remote, workers)


def pull(
    reference: str = typer.Argument(..., help="NAME (every version) or one version."),
    remote: str = _REMOTE,
    workers: int | None = _WORKERS,
) -> None:
    """Copy a dataset's blobs from a remote store; only what is missing here travels."""
    _transfer("pull", reference, remote, workers)


def get(
    reference: str = typer.Argument(..., help="The version, e.g. NAME/3 or NAME@prod."),
    dest: Path = typer.Argument(
        ..., help="Where to write it (a folder; a file for file versions)."
    ),
    copy: bool = typer.Option(
        False, "--copy", help="Write copies instead of read-only hard links."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace files that exist."),
) -> None:
    """Materialise a version: read-only hard links where the file system allows, else copies."""
    from mloop.data.transfer import get as materialise

    with progress_bars() as bars:
        result = materialise(
            open_default_store(),
            reference,
            dest,
            link=not copy,
            overwrite=overwrite,
            progress=bars,
        )
    console.print(
        f"wrote {result.version.uri} to {result.path}: {result.linked} linked (read-only), "
        f"{result.copied} copied",
        highlight=False,
    )


def import_dvc(
    repo: Path = typer.Argument(..., help="The root of a DVC repository (holding .dvc/)."),
    prefix: str = typer.Option("", help="Put before every dataset name."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Register the data a DVC repository tracks (.dvc files, dvc.lock) as dataset versions."""
    from mloop.data.dvc_import import import_dvc as run_import

    with progress_bars(quiet=as_json) as bars:
        result = run_import(open_default_store(), repo, prefix=prefix, progress=bars)
    if as_json:
        print_json(
            {
                "imported": [
                    {"path": o.path, "dataset": r.version.uri, "created": r.created}
                    for _, o, r in result.imported
                ],
                "skipped": [{"path": p, "reason": why} for p, why in result.skipped],
            }
        )
        return
    table = Table("DVC path", "dataset version", "", box=box.SIMPLE_HEAD)
    for _, output, added in result.imported:
        state = "[green]created[/]" if added.created else "[yellow]unchanged[/]"
        table.add_row(output.path, added.version.uri, state)
    for path, why in result.skipped:
        table.add_row(path, f"[red]skipped[/]: {why}", "")
    console.print(table)
