"""`mloop data schema infer` and `mloop data validate`, driven through the real CLI app."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mloop.cli.data import app
from mloop.cli.errors import stderr
from mloop.cli.output import console
from mloop.data import load_schema


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    # A wide console so table cells and messages are not wrapped mid-word.
    monkeypatch.setattr(console, "width", 250)
    monkeypatch.setattr(stderr, "width", 250)
    return CliRunner()


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    frame = pd.DataFrame(
        {
            "id": range(100),
            "amount": [float(i % 10) for i in range(100)],
            "plan": ["basic", "pro"] * 50,
        }
    )
    path = tmp_path / "reference.parquet"
    frame.to_parquet(path)
    return path


def _infer(runner: CliRunner, reference: Path, output: Path) -> None:
    result = runner.invoke(app, ["schema", "infer", str(reference), "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert f"wrote {output}" in result.output.replace("\n", "")


def test_infer_writes_an_editable_schema(runner: CliRunner, reference: Path, tmp_path: Path):
    output = tmp_path / "schema.yaml"
    _infer(runner, reference, output)
    schema = load_schema(output)
    assert schema.column_names == ["id", "amount", "plan"]
    assert schema.column("id").unique
    as_json = tmp_path / "schema.json"
    _infer(runner, reference, as_json)
    assert json.loads(as_json.read_text())["version"] == 1


def test_valid_data_exits_zero(runner: CliRunner, reference: Path, tmp_path: Path):
    schema = tmp_path / "schema.yaml"
    _infer(runner, reference, schema)
    result = runner.invoke(app, ["validate", str(reference), "--schema", str(schema)])
    assert result.exit_code == 0, result.output
    assert "valid: 0 errors, 0 warnings in 100 rows" in result.output


def test_errors_exit_one_and_are_tabled_and_written_as_json(
    runner: CliRunner, reference: Path, tmp_path: Path
):
    schema = tmp_path / "schema.yaml"
    _infer(runner, reference, schema)
    current = tmp_path / "current.csv"
    frame = pd.read_parquet(reference)
    frame.loc[5, "id"] = 4  # duplicate: error
    frame.loc[7, "plan"] = "gold"  # unknown category: warning
    frame.to_csv(current, index=False)
    out = tmp_path / "result.json"
    result = runner.invoke(
        app, ["validate", str(current), "-s", str(schema), "--json", str(out), "--show-quality"]
    )
    assert result.exit_code == 1, result.output
    assert "Violations" in result.output
    assert "unique" in result.output
    assert "allowed_values" in result.output
    assert "Data quality" in result.output
    assert "invalid: 1 error, 1 warning" in result.output
    document = json.loads(out.read_text())
    assert document["error_count"] == 1
    assert document["violations"][0]["examples"][0] == {"row": 4, "value": 4}


def test_warnings_fail_only_with_fail_on_warning_and_json_to_stdout(
    runner: CliRunner, reference: Path, tmp_path: Path
):
    schema = tmp_path / "schema.yaml"
    _infer(runner, reference, schema)
    current = tmp_path / "current.parquet"
    frame = pd.read_parquet(reference)
    frame.loc[0, "amount"] = 99.0  # above the inferred range: warning
    frame.to_parquet(current)
    args = ["validate", str(current), "-s", str(schema)]
    assert runner.invoke(app, args).exit_code == 0
    assert runner.invoke(app, [*args, "--fail-on-warning"]).exit_code == 1
    printed = runner.invoke(app, [*args, "--json", "-"])
    assert json.loads(printed.output)["warning_count"] == 1


def test_bad_inputs_exit_two_with_a_message(runner: CliRunner, reference: Path, tmp_path: Path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\ncolumns:\n  id: {type: integr}\n")
    result = runner.invoke(app, ["validate", str(reference), "-s", str(broken)])
    assert result.exit_code == 2
    assert "line 3" in result.output
    assert "columns.id.type" in result.output
    missing = runner.invoke(app, ["validate", str(tmp_path / "nope.csv"), "-s", str(broken)])
    assert missing.exit_code == 2
    assert "does not exist" in missing.output
