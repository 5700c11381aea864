"""The store's clock: integer milliseconds since the epoch, as MLflow counts time."""

from __future__ import annotations

import time


def now_ms() -> int:
    """The current time in milliseconds since the epoch."""
    return time.time_ns() // 1_000_000
