"""`mloop quickstart`: the whole loop on bundled data, one module per lifecycle stage.

Each stage module has `run(ctx)` and adds what later stages need to `ctx.shared`; stages run in
the order of `STAGES`, so a new stage is a new module and one line here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

STAGES = (
    "mloop.quickstart.data",
    "mloop.quickstart.tracking",
    "mloop.quickstart.registry",
    "mloop.quickstart.validation",
    "mloop.quickstart.serving",
    "mloop.quickstart.monitoring",
)


@dataclass
class QuickstartContext:
    """What the stages share.

    Attributes:
        console: where stages print.
        output_dir: folder for files the stages write (schema, reports).
        experiment_name: the experiment the quickstart logs to.
        shared: values stages hand to later stages (data splits, the best run ...).
    """

    console: Console
    output_dir: Path
    experiment_name: str = "quickstart"
    shared: dict[str, Any] = field(default_factory=dict)


def run_quickstart(console: Console, *, output_dir: Path) -> QuickstartContext:
    """Run every stage in order on the default store; returns the final context."""
    output_dir.mkdir(parents=True, exist_ok=True)
    ctx = QuickstartContext(console=console, output_dir=output_dir)
    for name in STAGES:
        importlib.import_module(name).run(ctx)
    return ctx
