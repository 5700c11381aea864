"""Models the inference tests serve (importable by child processes, for pickled pyfunc models)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np


class SlowModel:
    """Answers `x * 2` after sleeping `delay_s` per call: for overload and drain tests."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s

    def predict(self, data: Any) -> Any:
        time.sleep(self.delay_s)
        return np.asarray(data["x"], dtype=np.float64) * 2


class FussyModel:
    """Raises on negative input, as a model with an undocumented precondition might."""

    def predict(self, data: Any) -> Any:
        values = np.asarray(data["x"], dtype=np.float64)
        if (values < 0).any():
            raise ValueError("x must not be negative")
        return values * 2
