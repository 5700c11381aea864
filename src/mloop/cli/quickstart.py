"""`mloop quickstart`: run the whole loop on bundled data with the default local store."""

from __future__ import annotations

from mloop.cli.output import console


def quickstart() -> None:
    """Run the lifecycle on data bundled with scikit-learn and show where everything went."""
    from mloop.client.context import settings
    from mloop.quickstart import run_quickstart

    resolved = settings()
    console.print(f"[bold]mloop quickstart[/] · store {resolved.tracking_uri}")
    run_quickstart(console, output_dir=resolved.home / "quickstart")
    console.rule()
    console.print(f"metadata:  {resolved.tracking_uri}")
    console.print(f"artifacts: {resolved.artifact_uri}")
    console.print(f"schema and drift report: {resolved.home / 'quickstart'}")
    console.print("next: `mloop runs list`, `mloop experiments list`")
