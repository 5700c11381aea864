"""How long dataset operations report progress: a tiny protocol the CLI renders with rich."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives progress of a long operation, phase by phase."""

    def start(self, phase: str, total: int) -> None:
        """A phase begins ("hashing", "pushing" ...) with `total` items to do."""

    def advance(self, count: int) -> None:
        """`count` more items of the current phase are done."""


class NoProgress:
    """Progress that goes nowhere (the Python API's default)."""

    def start(self, phase: str, total: int) -> None:
        """Ignore the phase."""

    def advance(self, count: int) -> None:
        """Ignore the count."""
