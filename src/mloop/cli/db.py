"""`mloop db ...`: schema migrations of the metadata store."""

from __future__ import annotations

import typer

from mloop.cli.output import console

app = typer.Typer(help="Manage the metadata database.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(
    uri: str | None = typer.Option(
        None, "--uri", help="Database URI (default: MLOOP_TRACKING_URI or the local store)."
    ),
) -> None:
    """Migrate the metadata store to this version's schema (safe to run again)."""
    from mloop.settings import Settings
    from mloop.storage import open_store

    settings = Settings.from_env()
    target = uri or settings.tracking_uri
    if uri is None and settings.is_embedded:
        settings.home.mkdir(parents=True, exist_ok=True)
    store = open_store(target, artifact_root=settings.artifact_uri, create=False)
    try:
        before, after = store.upgrade()
    finally:
        store.close()
    if before == after:
        console.print(f"the store is up to date (revision {after})")
    else:
        console.print(f"upgraded the store from revision {before or 'empty'} to {after}")
