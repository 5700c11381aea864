"""Record Evidently's default drift scores on small generated data, once, as a test fixture.

Run in the Evidently environment (never a mloop dependency):

    bench/.venv-evidently/bin/python bench/evidently_parity.py

It writes tests/monitoring/fixtures/evidently_<case>_{reference,current}.parquet and
tests/monitoring/fixtures/evidently_parity.json; tests/monitoring/test_evidently_parity.py
replays the same data through mloop's `mode="evidently"` and compares.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "monitoring" / "fixtures"
NUMERIC = ["num_same", "num_shift", "num_nan", "num_few", "num_binary", "num_int"]
CATEGORICAL = ["cat_same", "cat_shift", "cat_binary"]


def frame(rng: np.random.Generator, n: int, *, drift: bool) -> pd.DataFrame:
    shift = 1.0 if drift else 0.0
    num_nan = rng.normal(0.15 * shift, 1, n)
    num_nan[rng.random(n) < (0.3 if drift else 0.05)] = np.nan
    return pd.DataFrame(
        {
            "num_same": rng.normal(0, 1, n).round(4),
            "num_shift": rng.normal(0.4 * shift, 1, n).round(4),
            "num_nan": num_nan.round(4),
            "num_few": rng.integers(0, 4, n).astype(float),
            "num_binary": (rng.random(n) < 0.3 + 0.1 * shift).astype(float),
            "num_int": rng.integers(0, 50 + int(10 * shift), n).astype(float),
            "cat_same": rng.choice(["a", "b", "c", "d"], n),
            "cat_shift": rng.choice(["a", "b", "c"], n, p=[0.6, 0.2, 0.2] if drift else None),
            "cat_binary": rng.choice(["yes", "no"], n, p=[0.5, 0.5]),
        }
    )


def evidently_scores(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, object]:
    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    columns, dataset = {}, {}
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config["type"].endswith("ValueDrift"):
            columns[config["column"]] = {
                "method": config["method"],
                "threshold": config["threshold"],
                "score": metric["value"],
            }
        elif config["type"].endswith("DriftedColumnsCount"):
            dataset = {"count": metric["value"]["count"], "share": metric["value"]["share"]}
    return {"columns": columns, "dataset": dataset}


def main() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20260701)
    cases = {}
    # <= 1000 reference rows: KS / chi-square / Z; > 1000: Wasserstein / Jensen-Shannon
    for case, n_ref, n_cur in (("small", 600, 700), ("large", 1500, 1200)):
        reference = frame(rng, n_ref, drift=False)
        current = frame(rng, n_cur, drift=True)
        reference.to_parquet(FIXTURES / f"evidently_{case}_reference.parquet", index=False)
        current.to_parquet(FIXTURES / f"evidently_{case}_current.parquet", index=False)
        cases[case] = evidently_scores(reference, current)
    import evidently

    record = {"evidently_version": evidently.__version__, "cases": cases}
    (FIXTURES / "evidently_parity.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
