"""How errors reach the terminal: one table from the error tree to exit codes and messages."""

from __future__ import annotations

import os
import traceback
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from mloop.errors import (
    AlreadyExistsError,
    ConfigurationError,
    GatesFailedError,
    InvalidInputError,
    InvalidStateError,
    MloopError,
    NotFoundError,
    StorageError,
)

# First match wins, so subclasses come before their parents. Refused promotions get a code of
# their own (also `mloop models validate`'s when a gate fails), so CI can tell "the model is not
# good enough" from "the command was wrong".
GATES_FAILED_EXIT_CODE = 8
EXIT_CODES: tuple[tuple[type[MloopError], int], ...] = (
    (GatesFailedError, GATES_FAILED_EXIT_CODE),
    (InvalidInputError, 2),
    (NotFoundError, 3),
    (AlreadyExistsError, 4),
    (InvalidStateError, 5),
    (StorageError, 6),
    (ConfigurationError, 7),
    (MloopError, 1),
)

stderr = Console(stderr=True)


def exit_code_for(error: MloopError) -> int:
    """The process exit code for an mloop error."""
    return next(code for cls, code in EXIT_CODES if isinstance(error, cls))


def is_debug(ctx: Any) -> bool:
    """True when `--debug` was given (or MLOOP_DEBUG is set)."""
    root = ctx.find_root() if ctx is not None else None
    flag = bool(root.obj.get("debug")) if root is not None and isinstance(root.obj, dict) else False
    return flag or os.environ.get("MLOOP_DEBUG", "") not in ("", "0")


class MloopGroup(TyperGroup):
    """A command group that turns mloop errors into a one-line message and an exit code.

    The traceback is shown only with `--debug`.
    """

    def invoke(self, ctx: Any) -> Any:  # Any: typer vendors its own click Context type
        """Run the command, translating `MloopError` into an exit code."""
        try:
            return super().invoke(ctx)
        except MloopError as exc:
            if is_debug(ctx):
                stderr.print("".join(traceback.format_exception(exc)), markup=False)
            stderr.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
            for note in getattr(exc, "__notes__", ()):
                stderr.print(f"  {note}", markup=False, highlight=False)
            raise typer.Exit(exit_code_for(exc)) from None
