"""Benchmark: data drift on 40 numeric + 10 categorical columns, mloop vs Evidently 0.7.23.

Run (one benchmark at a time; the machine has 2 shared cores):

    .venv/bin/python bench/drift.py --rows 10000 100000 1000000

Each run is its own subprocess (so peak memory is its own): mloop from `.venv`, Evidently
from `bench/.venv-evidently` (Evidently needs pandas < 3 and is never a mloop dependency; create
it with `python3.11 -m venv bench/.venv-evidently && bench/.venv-evidently/bin/pip install
evidently==0.7.23 'pandas<3'`). Both read the same Parquet files into pandas data frames, then:

- mloop: `detect_drift(reference, current)` on the full frames (default rule);
- mloop profile: `detect_drift(profile, current)` against a saved reference profile (building the
  profile is timed apart: it happens once per reference);
- Evidently: `Report([DataDriftPreset()]).run(current, reference)`.

Drift is injected into a known subset (13 columns, all above Evidently's 0.1 thresholds); 5 more
numeric columns carry a trivial shift (0.02 sd) that should not be flagged. Printed: seconds, peak
RSS of the process, extra memory over the loaded frames, precision and recall of the flagged
columns against the injected truth, and the speed ratios. mloop's figures are the fastest of
`--repeat` runs (default 3); Evidently runs once.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out"
MLOOP_PYTHON = ROOT.parent / ".venv" / "bin" / "python"
EVIDENTLY_PYTHON = ROOT / ".venv-evidently" / "bin" / "python"
NUMERIC = [f"num_{i:02d}" for i in range(40)]
CATEGORICAL = [f"cat_{i}" for i in range(10)]
DRIFTED = {*(f"num_{i:02d}" for i in range(10)), "cat_0", "cat_1", "cat_2"}


def make_frames(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ref: dict[str, Any] = {}
    cur: dict[str, Any] = {}
    for i, name in enumerate(NUMERIC):
        kind = i % 4
        shift = 0.3 if i < 8 else (0.02 if 10 <= i < 15 else 0.0)
        scale = 1.5 if i in (8, 9) else 1.0

        def draw(s: float, k: float, kind: int = kind) -> np.ndarray:
            if kind == 0:
                return rng.normal(s, k, rows)
            if kind == 1:
                return np.exp(rng.normal(s * 0.5, 0.5 * k, rows))  # lognormal
            if kind == 2:
                return rng.uniform(0, 1, rows) * k * np.sqrt(12) + s
            return np.round(rng.normal(100 + 20 * s, 20 * k, rows))  # integers

        ref[name], cur[name] = draw(0.0, 1.0), draw(shift, scale)
        if i % 5 == 4:  # some columns have 5% missing values on both sides
            for values in (ref[name], cur[name]):
                values[rng.random(rows) < 0.05] = np.nan
    for i, name in enumerate(CATEGORICAL):
        k = 6 + 2 * i
        labels = np.array([f"{name}_v{j}" for j in range(k)])
        base = np.full(k, 1 / k)
        moved = base.copy()
        if i < 3:
            moved[0] += 0.25
            moved /= moved.sum()
        ref[name] = labels[rng.choice(k, rows, p=base)]
        cur[name] = labels[rng.choice(k, rows, p=moved)]
    return pd.DataFrame(ref), pd.DataFrame(cur)


def data_files(rows: int) -> tuple[Path, Path]:
    OUT.mkdir(exist_ok=True)
    ref_path, cur_path = OUT / f"drift_{rows}_ref.parquet", OUT / f"drift_{rows}_cur.parquet"
    if not (ref_path.exists() and cur_path.exists()):
        ref, cur = make_frames(rows)
        ref.to_parquet(ref_path, index=False)
        cur.to_parquet(cur_path, index=False)
    return ref_path, cur_path


class PeakRss:
    """Samples this process's resident memory every 5 ms (what the run itself adds)."""

    def __init__(self) -> None:
        self.peak = self.now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def now() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now())
            time.sleep(0.005)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.now())


def worker(tool: str, ref_path: str, cur_path: str) -> dict[str, Any]:
    ref, cur = pd.read_parquet(ref_path), pd.read_parquet(cur_path)
    input_bytes = int(ref.memory_usage(deep=True).sum() + cur.memory_usage(deep=True).sum())
    extra: dict[str, Any] = {}
    if tool == "mloop-profile":
        from mloop.monitoring import ReferenceProfile, build_profile

        start = time.perf_counter()
        profile_path = Path(ref_path).with_suffix(".profile.json")
        build_profile(ref).save(profile_path)
        extra["profile_build_s"] = time.perf_counter() - start
        extra["profile_bytes"] = profile_path.stat().st_size
        del ref
    # import both tools before timing: the figures are steady-state run times
    if tool == "evidently":
        import evidently.presets  # noqa: F401
    else:
        from mloop.monitoring import ReferenceProfile, detect_drift
    baseline = PeakRss.now()
    with PeakRss() as rss:
        start = time.perf_counter()
        if tool == "mloop":
            report = detect_drift(ref, cur)
            flagged = [c.name for c in report.columns if c.is_drift]
        elif tool == "mloop-profile":
            report = detect_drift(ReferenceProfile.load(profile_path), cur)
            flagged = [c.name for c in report.columns if c.is_drift]
        else:
            flagged = run_evidently(ref, cur)
        seconds = time.perf_counter() - start
    return {
        "tool": tool,
        "seconds": seconds,
        "flagged": flagged,
        "input_bytes": input_bytes,
        "extra_bytes": rss.peak - baseline,
        "peak_rss": rss.peak,
        **extra,
    }


def run_evidently(ref: pd.DataFrame, cur: pd.DataFrame) -> list[str]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(cur, data_definition=definition),
        Dataset.from_pandas(ref, data_definition=definition),
    )
    flagged = []
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config["type"].endswith("ValueDrift"):
            value, threshold = metric["value"], config["threshold"]
            is_p_value = "p_value" in config["method"]
            if (value < threshold) if is_p_value else (value >= threshold):
                flagged.append(config["column"])
    return flagged


def precision_recall(flagged: list[str]) -> tuple[float, float]:
    hits = len(DRIFTED & set(flagged))
    return (hits / len(flagged) if flagged else 1.0), hits / len(DRIFTED)


def run_tool(tool: str, rows: int) -> dict[str, Any]:
    python = EVIDENTLY_PYTHON if tool == "evidently" else MLOOP_PYTHON
    ref_path, cur_path = data_files(rows)
    command = [str(python), __file__, "--worker", tool, str(ref_path), str(cur_path)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--skip-evidently", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=3, help="mloop runs per size (the fastest is shown)"
    )
    parser.add_argument("--worker", nargs=3, metavar=("TOOL", "REF", "CUR"))
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    tools = ["mloop", "mloop-profile"] + ([] if args.skip_evidently else ["evidently"])
    mib = 1024 * 1024
    print(
        f"{'rows':>9} {'tool':<14} {'seconds':>9} {'peak MiB':>9} {'extra MiB':>9} "
        f"{'input MiB':>9} {'extra/input':>11} {'precision':>9} {'recall':>6}"
    )
    for rows in args.rows:
        results = {}
        for tool in tools:
            # Evidently runs once (minutes at 1M rows); mloop's fastest of --repeat runs, since
            # the shared machine's load only ever adds time
            runs = [run_tool(tool, rows) for _ in range(1 if tool == "evidently" else args.repeat)]
            results[tool] = min(runs, key=lambda r: r["seconds"])
        for tool, r in results.items():
            precision, recall = precision_recall(r["flagged"])
            print(
                f"{rows:>9} {tool:<14} {r['seconds']:>9.3f} {r['peak_rss'] / mib:>9.0f} "
                f"{r['extra_bytes'] / mib:>9.0f} {r['input_bytes'] / mib:>9.0f} "
                f"{r['extra_bytes'] / r['input_bytes']:>11.2f} {precision:>9.2f} {recall:>6.2f}"
            )
            if "profile_build_s" in r:
                print(
                    f"{'':>9} {'':<14} profile built once in {r['profile_build_s']:.3f} s, "
                    f"{r['profile_bytes'] / 1024:.0f} KiB"
                )
        if "evidently" in results:
            base = results["evidently"]["seconds"]
            print(
                f"{rows:>9} speed-up vs Evidently: full data "
                f"{base / results['mloop']['seconds']:.1f}x, against a profile "
                f"{base / results['mloop-profile']['seconds']:.1f}x"
            )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
