from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mloop.cli.monitor import DRIFT_EXIT_CODE, app


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    rng = np.random.default_rng(0)
    n = 3000

    def frame(shift: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "age": rng.normal(40 + shift, 10, n),
                "income": rng.lognormal(10, 1, n),
                "city": rng.choice(["paris", "lyon", "nice"], n),
            }
        )

    ref, same, shifted = frame(0), frame(0), frame(8)
    paths = tmp_path / "ref.parquet", tmp_path / "same.parquet", tmp_path / "shifted.csv"
    ref.to_parquet(paths[0])
    same.to_parquet(paths[1])
    shifted.to_csv(paths[2], index=False)
    return paths


def test_drift_exits_non_zero_and_writes_reports(files, tmp_path: Path) -> None:
    ref, _, shifted = files
    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    result = CliRunner().invoke(
        app, ["drift", str(ref), str(shifted), "--json", str(out_json), "--html", str(out_html)]
    )
    assert result.exit_code == DRIFT_EXIT_CODE, result.output
    assert "dataset drift" in result.output
    assert "age" in result.output
    data = json.loads(out_json.read_text())
    assert data["is_drift"] is True
    assert data["columns"][0]["name"] == "age"
    assert "<svg" in out_html.read_text()


def test_no_drift_exits_zero(files) -> None:
    ref, same, _ = files
    result = CliRunner().invoke(app, ["drift", str(ref), str(same)])
    assert result.exit_code == 0, result.output
    assert "no dataset drift" in result.output


def test_profile_then_drift_against_the_profile(files, tmp_path: Path) -> None:
    ref, same, shifted = files
    profile = tmp_path / "profile.json"
    made = CliRunner().invoke(app, ["profile", str(ref), "-o", str(profile)])
    assert made.exit_code == 0, made.output
    assert "3000 rows" in made.output
    assert json.loads(profile.read_text())["schema"] == "mloop.profile/v1"
    drifted = CliRunner().invoke(app, ["drift", str(profile), str(shifted), "--profile"])
    assert drifted.exit_code == DRIFT_EXIT_CODE, drifted.output
    calm = CliRunner().invoke(app, ["drift", str(profile), str(same), "--profile"])
    assert calm.exit_code == 0, calm.output


def test_options_reach_the_engine(files, tmp_path: Path) -> None:
    ref, _, shifted = files
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        app,
        [
            "drift",
            str(ref),
            str(shifted),
            "--mode",
            "evidently",
            "--method",
            "age=psi",
            "--threshold",
            "age=5",
            "-c",
            "age",
            "-c",
            "city",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["mode"] == "evidently"
    age = next(c for c in data["columns"] if c["name"] == "age")
    assert (age["effect"], age["threshold"], age["is_drift"]) == ("psi", 5.0, False)
    assert {c["name"] for c in data["columns"]} == {"age", "city"}


def test_bad_input_is_a_clear_error_through_the_main_command(files, tmp_path: Path) -> None:
    from mloop.cli.main import app as main_app

    ref, _, shifted = files
    missing = CliRunner().invoke(main_app, ["monitor", "drift", str(ref), str(tmp_path / "x.csv")])
    assert missing.exit_code == 2
    assert "does not exist" in " ".join(missing.output.split())
    bad = CliRunner().invoke(
        main_app, ["monitor", "drift", str(ref), str(shifted), "--method", "age=nope"]
    )
    assert bad.exit_code == 2
    assert "unknown drift method 'nope'" in " ".join(bad.output.split())
    pairs = CliRunner().invoke(
        main_app, ["monitor", "drift", str(ref), str(shifted), "--threshold", "age"]
    )
    assert pairs.exit_code == 2


def test_stream_reads_current_in_batches(files) -> None:
    ref, same, _ = files
    shifted = same.with_name("shifted2.parquet")
    frame = pd.read_parquet(same)
    frame["age"] += 8
    frame.to_parquet(shifted)
    assert CliRunner().invoke(app, ["drift", str(ref), str(same), "--stream"]).exit_code == 0
    drifted = CliRunner().invoke(app, ["drift", str(ref), str(shifted), "--stream"])
    assert drifted.exit_code == DRIFT_EXIT_CODE, drifted.output


def test_render_a_saved_json_report(files, tmp_path: Path) -> None:
    ref, _, shifted = files
    out_json, out_html = tmp_path / "r.json", tmp_path / "again.html"
    CliRunner().invoke(app, ["drift", str(ref), str(shifted), "--json", str(out_json)])
    result = CliRunner().invoke(app, ["render", str(out_json), "--html", str(out_html)])
    assert result.exit_code == 0, result.output
    assert "Dataset drift detected" in out_html.read_text()
    from mloop.cli.main import app as main_app

    bad = CliRunner().invoke(main_app, ["monitor", "render", str(ref), "--html", str(out_html)])
    assert bad.exit_code == 2
    assert "cannot read the JSON report" in " ".join(bad.output.split())
