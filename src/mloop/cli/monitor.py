"""`mloop monitor ...`: drift between a reference and a current table."""

from __future__ import annotations

import typer

app = typer.Typer(help="Detect drift between reference and current data.", no_args_is_help=True)
