"""`mloop data ...`: data schemas and validation."""

from __future__ import annotations

import typer

app = typer.Typer(help="Infer data schemas and validate data against them.", no_args_is_help=True)
