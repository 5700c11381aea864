"""Autolog overhead: a tiny scikit-learn fit with and without autolog, mloop vs MLflow.

Each tool runs in a fresh process on a fresh SQLite store: LogisticRegression on 100 rows x 10
features, fitted `--fits` times with autolog (each fit its own run), then `--fits` times inside
one active run, each autologged fit paired with a plain one (the unpatched method) right before
it. Prints median milliseconds per fit and the median paired overhead. MLflow runs when it is
importable (bench/.venv-mlflow); `--tools mloop` skips it.

    bench/.venv-mlflow/bin/python bench/autolog.py
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

CHILD = r"""
import json, statistics, sys, time, warnings
warnings.simplefilter("ignore")
tool, store, fits = sys.argv[1], sys.argv[2], int(sys.argv[3])
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
X, y = make_classification(n_samples=100, n_features=10, random_state=0)
plain_fit = LogisticRegression.fit  # the unpatched method, callable after autolog too

def paired(n):
    # Plain and autologged fits alternate, so both see the same machine load; the overhead is
    # the median of the paired differences.
    plain, logged = [], []
    for _ in range(n):
        t = time.perf_counter()
        plain_fit(LogisticRegression(), X, y)
        plain.append(time.perf_counter() - t)
        t = time.perf_counter()
        LogisticRegression().fit(X, y)
        logged.append(time.perf_counter() - t)
    diffs = [b - a for a, b in zip(plain, logged)]
    return [statistics.median(v) * 1000 for v in (plain, logged, diffs)]

if tool == "mloop":
    import mloop, mloop.sklearn
    mloop.set_tracking_uri(f"sqlite:///{store}/mloop.db", artifact_uri=f"{store}/artifacts")
    t = time.perf_counter(); mloop.sklearn.autolog(); setup = time.perf_counter() - t
    start, end = mloop.start_run, mloop.end_run
else:
    import mlflow, mlflow.sklearn
    mlflow.set_tracking_uri(f"sqlite:///{store}/mlflow.db")
    t = time.perf_counter(); mlflow.sklearn.autolog(log_models=False, silent=True)
    setup = time.perf_counter() - t
    start, end = mlflow.start_run, mlflow.end_run
paired(3)  # warm-up: store creation, environment capture, lazy imports
plain, own_run, own_overhead = paired(fits)
start()
_, in_run, in_overhead = paired(fits)
end()
print(json.dumps({"plain": plain, "own_run": own_run, "own_overhead": own_overhead,
                  "in_run": in_run, "in_overhead": in_overhead, "setup_s": setup}))
"""


def run_tool(tool: str, fits: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as store:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, tool, store, str(fits)],
            capture_output=True,
            text=True,
            check=True,
            cwd=store,
        )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fits", type=int, default=30)
    parser.add_argument("--tools", default="mloop,mlflow")
    args = parser.parse_args()
    tools = args.tools.split(",")
    if "mlflow" in tools:
        try:
            import mlflow  # noqa: F401
        except ImportError:
            print("mlflow is not importable here; run with bench/.venv-mlflow/bin/python")
            tools.remove("mlflow")
    rows = {tool: run_tool(tool, args.fits) for tool in tools}
    print(f"LogisticRegression, 100 rows x 10 features, median of {args.fits} fits (ms per fit)")
    print(
        f"{'tool':8} {'autolog()':>10} {'plain':>8} {'own run':>9} {'overhead':>9} "
        f"{'in a run':>9} {'overhead':>9}"
    )
    for tool, r in rows.items():
        print(
            f"{tool:8} {r['setup_s']:9.2f}s {r['plain']:8.2f} {r['own_run']:9.2f} "
            f"{r['own_overhead']:9.2f} {r['in_run']:9.2f} {r['in_overhead']:9.2f}"
        )
    if {"mloop", "mlflow"} <= set(rows):
        for key, label in (("own_overhead", "own run"), ("in_overhead", "in a run")):
            ours, theirs = rows["mloop"][key], rows["mlflow"][key]
            print(f"overhead ratio MLflow/mloop ({label}): {theirs / ours:.1f}x")


if __name__ == "__main__":
    main()
