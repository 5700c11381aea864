"""Benchmark: schema inference and validation of 1M rows x 50 columns, mloop vs pandera.

Run:
    .venv/bin/python bench/validation.py [--rows 1000000] [--repeat 3]

The anchor (pandera) is timed only when it is importable, i.e. when this script is run with the
benchmark venv: `bench/.venv-validation/bin/python bench/validation.py` (that venv has mloop
installed from the working tree plus pandera; pandera is never a dependency of mloop).

The data: 20 float, 20 integer and 10 low-cardinality text columns, with 2% missing values in
the floats. The schema is inferred from the data itself, then one cross-column check is added;
the "current" table carries a few injected violations so every rule type has work to do.
Both tools check the same rules: type, nullability, ranges, allowed values, max missing rate
(mloop) and the cross-column check.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from mloop.data import ExpressionCheck, Schema, infer_schema, validate
from mloop.data.checks import AllowedValuesRule, RangeRule


def make_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {}
    for i in range(20):
        values = rng.normal(100 + i, 10, rows)
        values[rng.random(rows) < 0.02] = np.nan
        data[f"f{i}"] = values
    for i in range(20):
        data[f"i{i}"] = rng.integers(0, 1000, rows)
    categories = np.array(["alpha", "beta", "gamma", "delta", "epsilon", "zeta"])
    for i in range(10):
        data[f"s{i}"] = categories[rng.integers(0, len(categories), rows)]
    return pd.DataFrame(data)


def inject_violations(frame: pd.DataFrame) -> pd.DataFrame:
    current = frame.copy()
    current.loc[::1000, "f0"] = 1e9  # out of range
    current.loc[::2000, "s0"] = "omega"  # unknown category
    current.loc[::5000, "i0"] = -1  # out of range
    return current


def timed(function: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def pandera_schema(schema: Schema) -> Any:
    import pandera.pandas as pandera

    columns = {}
    for column in schema.columns:
        checks = []
        for rule in column.checks:
            if isinstance(rule, RangeRule):
                checks.append(pandera.Check.in_range(rule.min, rule.max))
            elif isinstance(rule, AllowedValuesRule):
                checks.append(pandera.Check.isin(list(rule.values)))
        dtype = {"float": float, "integer": "int64", "string": str}[column.type.value]
        columns[column.name] = pandera.Column(dtype, checks=checks, nullable=column.nullable)
    frame_check = pandera.Check(lambda df: df["i1"] + df["i2"] >= 0, name="i1 + i2 >= 0")
    return pandera.DataFrameSchema(columns, checks=[frame_check])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    reference = make_frame(args.rows)
    current = inject_violations(reference)
    arrow = pa.Table.from_pandas(current, preserve_index=False)
    megabytes = current.memory_usage(deep=True).sum() / 2**20
    print(f"data: {args.rows:,} rows x {current.shape[1]} columns, {megabytes:,.0f} MiB in pandas")

    seconds, schema = timed(lambda: infer_schema(reference), args.repeat)
    print(f"mloop infer_schema (pandas)                  {seconds:7.2f} s")
    schema = dataclasses.replace(schema, checks=(ExpressionCheck("i1 + i2 >= 0"),))

    cases = [
        ("mloop validate (pandas, with quality report)", lambda: validate(current, schema)),
        (
            "mloop validate (pandas, no quality report)",
            lambda: validate(current, schema, quality=False),
        ),
        (
            "mloop validate (arrow, no quality report)",
            lambda: validate(arrow, schema, quality=False),
        ),
    ]
    figures = {}
    for name, function in cases:
        seconds, result = timed(function, args.repeat)
        figures[name] = seconds
        print(f"{name:44s} {seconds:7.2f} s   {result.summary()}")

    try:
        import pandera.errors
    except ImportError:
        print("pandera not installed: run with bench/.venv-validation/bin/python for the anchor")
        return
    anchor = pandera_schema(schema)

    def run_pandera() -> int:
        try:
            anchor.validate(current, lazy=True)
        except pandera.errors.SchemaErrors as exc:
            return len(exc.failure_cases)
        return 0

    seconds, failures = timed(run_pandera, args.repeat)
    print(
        f"{'pandera validate (pandas, lazy=True)':44s} {seconds:7.2f} s   {failures} failure cases"
    )
    ours = figures["mloop validate (pandas, no quality report)"]
    print(f"ratio pandera / mloop (same rules, pandas input): {seconds / ours:.1f}x")


if __name__ == "__main__":
    main()
