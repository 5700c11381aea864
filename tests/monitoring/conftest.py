from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

DRIFTED = ("num_shift", "num_scale", "cat_shift")


def make_pair(n: int = 4000, *, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current frames with drift injected into DRIFTED only (known truth)."""
    rng = np.random.default_rng(seed)

    def frame(shift: bool) -> pd.DataFrame:
        cats = ["a", "b", "c", "d"]
        return pd.DataFrame(
            {
                "num_shift": rng.normal(0.5 if shift else 0.0, 1.0, n),
                "num_scale": rng.normal(0.0, 1.6 if shift else 1.0, n),
                "num_same": rng.normal(3.0, 2.0, n),
                "int_same": rng.integers(0, 100, n),
                "cat_shift": rng.choice(cats, n, p=[0.55, 0.15, 0.15, 0.15] if shift else None),
                "cat_same": rng.choice(cats, n),
                "flag_same": rng.integers(0, 2, n).astype(bool),
            }
        )

    return frame(False), frame(True)


@pytest.fixture
def pair() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_pair()
