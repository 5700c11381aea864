"""`mloop runs ...` against a real store filled through the client."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from mloop.cli.main import app
from mloop.client import MloopClient
from mloop.entities import Metric, Param, RunInput, RunStatus


def _make_runs() -> tuple[str, str]:
    client = MloopClient()
    experiment = client.create_experiment("cli-runs")
    first = client.create_run(experiment.experiment_id, run_name="first")
    client.log_batch(
        first.run_id,
        metrics=[Metric("acc", 0.9, 1000, 0), Metric("loss", float("nan"), 1000, 0)],
        params=[Param("lr", "0.1")],
    )
    client.set_terminated(first.run_id, RunStatus.FINISHED)
    second = client.create_run(experiment.experiment_id, run_name="second", start_time_ms=10**12)
    client.log_batch(second.run_id, params=[Param("lr", "0.2")])
    client.set_terminated(second.run_id, RunStatus.FAILED)
    return first.run_id, second.run_id


def _listed(cli: CliRunner, *args: str) -> list[dict[str, Any]]:
    result = cli.invoke(app, ["runs", "list", "--json", *args])
    assert result.exit_code == 0, result.output
    listed: list[dict[str, Any]] = json.loads(result.output)["runs"]
    return listed


def test_list_filters_by_experiment_param_and_status(cli: CliRunner, cli_env):
    first, second = _make_runs()
    assert {r["run_id"] for r in _listed(cli, "-e", "cli-runs")} == {first, second}
    assert [r["run_id"] for r in _listed(cli, "--param", "lr=0.1")] == [first]
    assert [r["run_id"] for r in _listed(cli, "--status", "failed")] == [second]
    assert _listed(cli, "-e", "Default") == []


def test_json_output_is_strict_json_with_nan_as_a_string(cli: CliRunner, cli_env):
    first, _ = _make_runs()
    result = cli.invoke(app, ["runs", "show", first, "--json"])
    assert result.exit_code == 0
    assert "NaN," not in result.output  # bare NaN is not JSON
    shown = json.loads(result.output)
    assert shown["metrics"] == {"acc": 0.9, "loss": "NaN"}
    assert shown["params"] == {"lr": "0.1"}


def test_show_renders_params_and_metrics(cli: CliRunner, cli_env):
    first, _ = _make_runs()
    result = cli.invoke(app, ["runs", "show", first])
    assert result.exit_code == 0
    assert "first" in result.output
    assert "lr" in result.output
    assert "acc" in result.output


def test_table_output_shows_status_and_metric_columns(cli: CliRunner, cli_env):
    _make_runs()
    result = cli.invoke(app, ["runs", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "FINISHED" in result.output
    assert "FAILED" in result.output
    assert "2 run(s)" in result.output


def test_delete_and_restore_change_visibility_and_are_audited(cli: CliRunner, cli_env):
    first, second = _make_runs()
    assert cli.invoke(app, ["runs", "delete", first]).exit_code == 0
    assert [r["run_id"] for r in _listed(cli, "-e", "cli-runs")] == [second]
    assert len(_listed(cli, "-e", "cli-runs", "--all")) == 2
    assert cli.invoke(app, ["runs", "restore", first]).exit_code == 0
    assert len(_listed(cli, "-e", "cli-runs")) == 2
    actions = [e.action for e in MloopClient().store.audit.list(entity=("run", first))]
    assert actions == ["run.delete", "run.restore"]


def test_bad_filters_are_invalid_input(cli: CliRunner, cli_env):
    _make_runs()
    assert cli.invoke(app, ["runs", "list", "--param", "novalue"]).exit_code == 2
    bad_status = cli.invoke(app, ["runs", "list", "--status", "DONE"])
    assert bad_status.exit_code == 2
    assert "unknown status" in bad_status.output


def test_show_of_a_missing_run_exits_3(cli: CliRunner, cli_env):
    result = cli.invoke(app, ["runs", "show", "f" * 32])
    assert result.exit_code == 3


def test_compare_shows_params_and_metrics_side_by_side(cli: CliRunner, cli_env):
    first, second = _make_runs()
    result = cli.invoke(app, ["runs", "compare", first[:8], second, "--json"])
    assert result.exit_code == 0, result.output
    compared = json.loads(result.output)
    assert compared["runs"] == [first, second]
    assert compared["params"] == {"lr": ["0.1", "0.2"]}
    assert compared["metrics"] == {"acc": [0.9, None], "loss": ["NaN", None]}


def test_compare_highlights_differences_and_can_hide_equal_values(cli: CliRunner, cli_env):
    first, second = _make_runs()
    client = MloopClient()
    client.log_batch(first, params=[Param("seed", "1")])
    client.log_batch(second, params=[Param("seed", "1")])
    full = cli.invoke(app, ["runs", "compare", first, second], env={"COLUMNS": "160"})
    assert full.exit_code == 0, full.output
    assert "seed" in full.output
    assert "lr" in full.output
    diff = cli.invoke(app, ["runs", "compare", first, second, "--diff"], env={"COLUMNS": "160"})
    assert "lr" in diff.output
    assert "seed" not in diff.output


def test_compare_needs_two_runs_and_resolves_prefixes(cli: CliRunner, cli_env):
    first, _ = _make_runs()
    assert cli.invoke(app, ["runs", "compare", first]).exit_code == 2
    missing = cli.invoke(app, ["runs", "compare", first, "abcd1234"])
    assert missing.exit_code == 3


def test_show_lists_the_datasets_a_run_consumed(cli: CliRunner, cli_env):
    first, _ = _make_runs()
    MloopClient().log_inputs(first, [RunInput("customers", "d1g3st", "s3://x", "training")])
    result = cli.invoke(app, ["runs", "show", first], env={"COLUMNS": "160"})
    assert result.exit_code == 0
    assert "customers" in result.output
    assert "d1g3st" in result.output
    assert "training" in result.output
