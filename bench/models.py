"""Model loading and single-row prediction: mloop vs `mlflow.pyfunc.load_model`, side by side.

Both tools log and register the same two scikit-learn models (RandomForest with `--trees` trees
and LogisticRegression, fitted on `--rows` x 20 synthetic rows, same seeds) into fresh SQLite
stores; then, for each tool and model, `--repeat` fresh processes each measure:

- import: `import mloop` / `import mlflow`;
- load + first predict: `load_model("models:/NAME/1")` and one single-row prediction;
- single-row predict: the median of `--iterations` one-row predictions on the loaded model
  (MLflow: a one-row pandas data frame through `pyfunc.predict`; mloop: a dict of one row, the
  serving-shaped input, on the verified ONNX export, and also a one-row data frame on the
  native scikit-learn model for reference).

mloop runs in this checkout's `.venv`, MLflow in `bench/.venv-mlflow` (see bench/README.md);
medians over repeats are printed with the ratios MLflow / mloop.

    .venv/bin/python bench/models.py [--repeat 3] [--iterations 2000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MLOOP_PYTHON = ROOT / ".venv" / "bin" / "python"
MLFLOW_PYTHON = ROOT / "bench" / ".venv-mlflow" / "bin" / "python"
MODELS = ("rf", "lr")

FIT = r"""
import warnings
warnings.simplefilter("ignore")
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

def fitted(rows, trees):
    X, y = make_classification(n_samples=rows, n_features=20, n_informative=10, random_state=0)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(20)])
    return frame, {
        "rf": RandomForestClassifier(trees, random_state=0, n_jobs=1).fit(frame, y),
        "lr": LogisticRegression(max_iter=1000).fit(frame, y),
    }
"""

SETUP_MLOOP = (
    FIT
    + r"""
import sys, mloop
store, rows, trees = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
mloop.set_tracking_uri(f"sqlite:///{store}/mloop.db", artifact_uri=f"{store}/artifacts")
frame, models = fitted(rows, trees)
for name, model in models.items():
    with mloop.start_run():
        info = mloop.log_model(model, "model", input_example=frame.head(5),
                               registered_model_name=name)
        assert info.package.onnx.verified, info.package.onnx.reason
"""
)

SETUP_MLFLOW = (
    FIT
    + r"""
import sys, mlflow, mlflow.sklearn
store, rows, trees = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
mlflow.set_tracking_uri(f"sqlite:///{store}/mlflow.db")
mlflow.set_experiment("bench")
frame, models = fitted(rows, trees)
for name, model in models.items():
    with mlflow.start_run():
        # MLflow 3.17 saves scikit-learn models with skops and asks for the tree type to be
        # trusted explicitly (mloop trusts it after checking every tree's indices).
        mlflow.sklearn.log_model(model, name="model", input_example=frame.head(5),
                                 registered_model_name=name,
                                 skops_trusted_types=["sklearn.tree._tree.Tree"])
"""
)

MEASURE = r"""
import json, statistics, sys, time, warnings
warnings.simplefilter("ignore")
tool, store, name, iterations = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
start = time.perf_counter()
if tool == "mloop":
    import mloop
    mloop.set_tracking_uri(f"sqlite:///{store}/mloop.db", artifact_uri=f"{store}/artifacts")
else:
    import mlflow, mlflow.pyfunc
    mlflow.set_tracking_uri(f"sqlite:///{store}/mlflow.db")
imported = time.perf_counter()
row = {f"f{i}": 0.1 * i - 1.0 for i in range(20)}
if tool == "mloop":
    model = mloop.load_model(f"models:/{name}/1")
    first = model.predict(row)
else:
    import pandas as pd
    model = mlflow.pyfunc.load_model(f"models:/{name}/1")
    first = model.predict(pd.DataFrame([row]))
loaded = time.perf_counter()

def latency(predict, data):
    for _ in range(min(200, iterations)):
        predict(data)
    times = []
    for _ in range(iterations):
        t = time.perf_counter()
        predict(data)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e6

import pandas as pd
frame = pd.DataFrame([row])
result = {"import_s": imported - start, "load_first_s": loaded - imported}
if tool == "mloop":
    result["backend"] = model.backend
    result["predict_us"] = latency(model.predict, row)
    native = mloop.load_model(f"models:/{name}/1", prefer_onnx=False)
    result["native_frame_us"] = latency(native.predict, frame)
else:
    result["predict_us"] = latency(model.predict, frame)
print(json.dumps(result))
"""


def _run(python: Path, code: str, *args: str, cwd: str) -> str:
    done = subprocess.run(
        [str(python), "-c", code, *args], capture_output=True, text=True, cwd=cwd, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{python} failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--tools", default="mloop,mlflow")
    parser.add_argument("--json", help="write the raw results here")
    args = parser.parse_args()
    tools = args.tools.split(",")
    pythons = {"mloop": MLOOP_PYTHON, "mlflow": MLFLOW_PYTHON}
    setups = {"mloop": SETUP_MLOOP, "mlflow": SETUP_MLFLOW}
    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    with tempfile.TemporaryDirectory(prefix="mloop-bench-models-") as folder:
        for tool in tools:
            store = Path(folder) / tool
            store.mkdir()
            _run(
                pythons[tool],
                setups[tool],
                str(store),
                str(args.rows),
                str(args.trees),
                cwd=str(store),
            )
            results[tool] = {}
            for name in MODELS:
                runs = []
                for _ in range(args.repeat):
                    line = _run(
                        pythons[tool],
                        MEASURE,
                        tool,
                        str(store),
                        name,
                        str(args.iterations),
                        cwd=str(store),
                    )
                    runs.append(json.loads(line))
                results[tool][name] = runs
                print(f"{tool} {name}: {runs}", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    _report(results, tools)


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def _report(results: dict[str, dict[str, list[dict[str, float]]]], tools: list[str]) -> None:
    print(
        "| model | measure | "
        + " | ".join(tools)
        + (" | MLflow / mloop |" if len(tools) > 1 else " |")
    )
    print("|---|---|" + "---|" * len(tools) + ("---|" if len(tools) > 1 else ""))
    rows = [
        ("import (s)", "import_s", "{:.3f}"),
        ("load + first predict (s)", "load_first_s", "{:.3f}"),
        ("single-row predict (µs)", "predict_us", "{:.1f}"),
    ]
    for name in MODELS:
        for label, key, fmt in rows:
            values = [_median(results[t][name], key) for t in tools]
            cells = " | ".join(fmt.format(v) for v in values)
            ratio = f" | {values[1] / values[0]:.1f}x" if len(tools) > 1 and values[0] else ""
            print(f"| {name} | {label} | {cells}{ratio} |")
        if "mloop" in results:
            native = _median(results["mloop"][name], "native_frame_us")
            print(f"| {name} | mloop native sklearn, 1-row frame (µs) | {native:.1f} | | |")


if __name__ == "__main__":
    main()
