"""A command group that imports a sub-command's module only when that sub-command runs.

`mloop server` should not pay for importing the registry, monitoring and data commands (and
what they import) before the server starts. The group knows each sub-command by a static entry:
its name, its one-line help (what `mloop --help` lists) and a loader that imports the module and
returns the real click command. A test checks every entry against the real command.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from mloop.cli.errors import MloopGroup


@dataclass(frozen=True)
class LazyCommand:
    """One sub-command of a lazy group.

    Args:
        name: the sub-command's name on the command line.
        summary: the first paragraph of its help, listed by the group's `--help`.
        register: puts the real command (or sub-app) on the given Typer app, importing it.
    """

    name: str
    summary: str
    register: Callable[[typer.Typer], None]

    def load(self) -> Any:  # Any: typer vendors its own click Command type
        """The real click command, built from a one-entry Typer app."""
        holder = typer.Typer()
        self.register(holder)
        group: TyperGroup = typer.main.get_group(holder)
        return group.commands[self.name]


class LazyGroup(MloopGroup):
    """An `MloopGroup` whose sub-commands come from a table of `LazyCommand` entries.

    Listing the commands (`--help`) shows each entry's summary without importing it; running
    a command imports only that command's module.
    """

    entries: tuple[LazyCommand, ...] = ()

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        """Commands in table order, then any registered eagerly."""
        names = [entry.name for entry in self.entries]
        return names + [name for name in super().list_commands(ctx) if name not in names]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """The command named `cmd_name`: imported on first use, or a summary while listing."""
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        entry = next((e for e in self.entries if e.name == cmd_name), None)
        if entry is None:
            return None
        if self._listing:
            return TyperCommand(name=entry.name, help=entry.summary)
        command = entry.load()
        self.commands[cmd_name] = command
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """The group's help, listing the table's summaries without importing the commands."""
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False
