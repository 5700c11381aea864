"""Shared rendering for commands: one console, timestamps, JSON output."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from rich.console import Console

console = Console()


def format_ms(timestamp_ms: int | None, *, short: bool = False) -> str:
    """A millisecond timestamp as UTC text ("11-27 14:03" when short), or "-"."""
    if timestamp_ms is None:
        return "-"
    moment = datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
    return moment.strftime("%m-%d %H:%M" if short else "%Y-%m-%d %H:%M:%S")


def format_duration(start_ms: int, end_ms: int | None) -> str:
    """How long a run took (or has been running), e.g. "1m 12s"."""
    if end_ms is None:
        return "running"
    seconds = max(0, end_ms - start_ms) / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m {rest:02d}s" if minutes < 60 else f"{minutes // 60}h {minutes % 60:02d}m"


def print_json(data: Any) -> None:
    """Print strict JSON for scripts, without colour.

    NaN and infinities become the strings "NaN", "Infinity" and "-Infinity": bare NaN is not JSON.
    """
    print(json.dumps(_finite(data), indent=2, default=str))  # noqa: T201 - CLI output


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
