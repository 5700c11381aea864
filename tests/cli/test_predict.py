"""`mloop predict` on a registered model's alias, against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mloop.cli.main import app

pytestmark = pytest.mark.usefixtures("cli_env")

FEATURES = ["tenure", "charges", "calls"]


def _champion() -> None:
    """Train a model, register it as churn/1 and point the champion alias at it."""
    from sklearn.linear_model import LogisticRegression

    import mloop
    import mloop.client

    rng = np.random.default_rng(0)
    train = pd.DataFrame(rng.normal(size=(200, 3)), columns=FEATURES)
    model = LogisticRegression().fit(train, (train.tenure - train.calls > 0).astype(int))
    with mloop.start_run():
        mloop.log_model(model, "model", input_example=train.head(10), registered_model_name="churn")
    mloop.client.set_model_alias("churn", "champion", 1)


def _rows(count: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(count, 3)), columns=FEATURES)
    frame.insert(0, "customer", [f"c{i}" for i in range(count)])
    return frame


def test_predict_an_alias_to_parquet_with_json_summary(cli: CliRunner, tmp_path: Path) -> None:
    import mloop

    _champion()
    frame = _rows(1_000)
    frame.to_parquet(tmp_path / "customers.parquet")

    result = cli.invoke(
        app,
        [
            "predict",
            "models:/churn@champion",
            str(tmp_path / "customers.parquet"),
            str(tmp_path / "scores.parquet"),
            "--keep-columns",
            "customer",
            "--chunk-rows",
            "300",
            "--json",
        ],
    )

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # nothing but JSON on stdout: no bar, no text
    assert summary["rows"] == 1_000
    assert summary["chunks"] == 4
    assert summary["columns"] == ["customer", "prediction"]
    out = pd.read_parquet(tmp_path / "scores.parquet")
    expected = mloop.load_model("models:/churn@champion").predict(frame[FEATURES])
    assert out["customer"].tolist() == frame["customer"].tolist()
    np.testing.assert_array_equal(out["prediction"].to_numpy(), expected)


def test_missing_column_exits_2_naming_it(cli: CliRunner, tmp_path: Path) -> None:
    _champion()
    _rows(5).drop(columns=["charges"]).to_csv(tmp_path / "in.csv", index=False)

    result = cli.invoke(
        app, ["predict", "models:/churn@champion", str(tmp_path / "in.csv"), "out.csv"]
    )

    assert result.exit_code == 2
    assert "'charges' is missing from the input file" in result.output
    assert not Path("out.csv").exists()


def test_the_console_script_off_a_terminal_prints_clean_json_and_text(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    """Run as users do: piped, no bar leaks into stdout or stderr; on a terminal, only stderr."""
    _champion()
    _rows(2_000).to_csv(tmp_path / "in.csv", index=False)
    env = {**os.environ, **cli_env}
    command = [sys.executable, "-m", "mloop.cli", "predict", "models:/churn@champion"]

    as_json = subprocess.run(
        [*command, str(tmp_path / "in.csv"), str(tmp_path / "a.csv"), "-k", "customer", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    as_text = subprocess.run(
        [*command, str(tmp_path / "in.csv"), str(tmp_path / "b.parquet"), "--chunk-rows", "500"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )

    on_a_terminal = subprocess.run(  # rich treats stderr as a terminal with TTY_COMPATIBLE=1
        [*command, str(tmp_path / "in.csv"), str(tmp_path / "c.csv"), "--chunk-rows", "500"],
        capture_output=True,
        text=True,
        env={**env, "TTY_COMPATIBLE": "1"},
        check=False,
        timeout=120,
    )

    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["rows"] == 2_000
    assert as_json.stderr == ""
    assert as_text.returncode == 0, as_text.stderr
    assert as_text.stdout.startswith("wrote 2,000 predictions to ")
    assert as_text.stderr == ""
    assert on_a_terminal.returncode == 0, on_a_terminal.stderr
    assert "predicting" in on_a_terminal.stderr  # the bar, drawn where it belongs
    assert on_a_terminal.stdout.startswith("wrote 2,000 predictions to ")
    assert pd.read_csv(tmp_path / "a.csv")["customer"].tolist() == _rows(2_000)["customer"].tolist()
    assert len(pd.read_parquet(tmp_path / "b.parquet")) == 2_000
