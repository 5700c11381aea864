"""`mloop experiments ...` against a real store."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from mloop.cli.main import app


def _names(cli: CliRunner, *args: str) -> dict[str, str]:
    result = cli.invoke(app, ["experiments", "list", "--json", *args])
    assert result.exit_code == 0, result.output
    return {e["name"]: e["lifecycle_stage"] for e in json.loads(result.output)}


def test_create_rename_delete_restore_round_trip(cli: CliRunner, cli_env):
    assert _names(cli) == {"Default": "active"}
    created = cli.invoke(app, ["experiments", "create", "churn"])
    assert created.exit_code == 0
    assert "created experiment churn" in created.output
    renamed = cli.invoke(app, ["experiments", "rename", "churn", "churn-v2"])
    assert renamed.exit_code == 0, renamed.output
    assert _names(cli) == {"Default": "active", "churn-v2": "active"}
    deleted = cli.invoke(app, ["experiments", "delete", "churn-v2"])
    assert deleted.exit_code == 0
    assert "restore" in deleted.output
    assert "churn-v2" not in _names(cli)
    assert _names(cli, "--all")["churn-v2"] == "deleted"
    restored = cli.invoke(app, ["experiments", "restore", "churn-v2"])
    assert restored.exit_code == 0
    assert _names(cli)["churn-v2"] == "active"


def test_creating_a_taken_name_fails_with_exit_code_4(cli: CliRunner, cli_env):
    assert cli.invoke(app, ["experiments", "create", "dup"]).exit_code == 0
    again = cli.invoke(app, ["experiments", "create", "dup"])
    assert again.exit_code == 4
    assert "already exists" in again.output
    assert list(_names(cli)) == ["Default", "dup"]


def test_unknown_experiment_is_not_found(cli: CliRunner, cli_env):
    result = cli.invoke(app, ["experiments", "delete", "nope"])
    assert result.exit_code == 2  # neither a name nor a numeric id
    result = cli.invoke(app, ["experiments", "delete", "12345"])
    assert result.exit_code == 3
    assert "does not exist" in result.output


def test_table_output_lists_experiments(cli: CliRunner, cli_env):
    cli.invoke(app, ["experiments", "create", "visible"])
    result = cli.invoke(app, ["experiments", "list"])
    assert result.exit_code == 0
    assert "visible" in result.output
    assert "Default" in result.output
