"""`mloop serve` argument errors: one line naming the problem and an exit code, no traceback."""

from __future__ import annotations

from typer.testing import CliRunner

from mloop.cli.main import app


def test_serve_needs_exactly_one_of_a_reference_and_a_deployment(
    cli: CliRunner, cli_env: dict[str, str]
) -> None:
    neither = cli.invoke(app, ["serve"])
    assert neither.exit_code == 2
    assert "give a model reference" in neither.output
    both = cli.invoke(app, ["serve", "models:/churn@champion", "--deployment", "churn-api"])
    assert both.exit_code == 2
    assert "Traceback" not in both.output


def test_serving_what_does_not_exist_fails_with_not_found(
    cli: CliRunner, cli_env: dict[str, str]
) -> None:
    missing = cli.invoke(app, ["serve", "--deployment", "nope", "--port", "0"])
    assert missing.exit_code == 3
    assert "nope" in missing.output
    for workers in ("1", "2"):
        model = cli.invoke(app, ["serve", "models:/nope@x", "--port", "0", "--workers", workers])
        assert model.exit_code == 3
        assert "registered model 'nope' does not exist" in model.output
