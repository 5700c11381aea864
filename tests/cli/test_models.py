"""`mloop models ...` against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mloop.cli.main import app
from mloop.client import MloopClient
from mloop.entities import Metric, Param, RunInput
from tests.cli.conftest import ok, ok_json

pytestmark = pytest.mark.usefixtures("cli_env")


def _trained_run() -> str:
    """A finished run with a metric, a param, a dataset input and a logged model package."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    import mloop

    client = MloopClient()
    run = client.create_run("0", run_name="train-rf")
    client.log_batch(
        run.run_id, metrics=[Metric("auc", 0.91, 1000, 0)], params=[Param("n_estimators", "100")]
    )
    dataset = RunInput("customers", "sha-1", "datasets:/customers/1", "training")
    client.log_inputs(run.run_id, [dataset])
    x = np.random.default_rng(0).normal(size=(30, 2))
    model = LogisticRegression().fit(x, (x[:, 0] > 0).astype(int))
    example = {"tenure": list(x[:3, 0]), "charges": list(x[:3, 1])}
    mloop.log_model(model, "model", run_id=run.run_id, input_example=example, export_onnx=False)
    return run.run_id


def test_register_list_show_and_versions(cli: CliRunner) -> None:
    run_id = _trained_run()
    registered = ok_json(cli, "models", "register", f"runs:/{run_id}/model", "churn")
    assert (registered["version"], registered["run_id"]) == (1, run_id)
    ok(cli, "models", "register", "s3://b/m", "churn", "-d", "second")
    ok(cli, "models", "register", "s3://b/m", "fraud")
    listed = ok_json(cli, "models", "list", "--filter", "name LIKE 'ch%'")
    assert [m["name"] for m in listed["models"]] == ["churn"]
    assert listed["models"][0]["latest_version"] == 2
    shown = ok_json(cli, "models", "show", "churn")
    assert [v["version"] for v in shown["versions"]] == [2, 1]
    assert ok_json(cli, "models", "show", "churn/1")["datasets"][0]["name"] == "customers"
    assert [
        v["version"]
        for v in ok_json(cli, "models", "versions", "churn", "-f", "version > 1")["versions"]
    ] == [2]
    page = ok_json(cli, "models", "versions", "--max", "2")
    assert len(page["versions"]) == 2
    assert page["next_page_token"]
    rest = ok_json(cli, "models", "versions", "--max", "2", "--page-token", page["next_page_token"])
    assert [(v["name"], v["version"]) for v in page["versions"] + rest["versions"]] == [
        ("churn", 2),
        ("churn", 1),
        ("fraud", 1),
    ]
    text = ok(cli, "models", "show", "churn")
    assert "churn" in text
    assert "2 version(s)" in text
    assert "fraud" in ok(cli, "models", "list")


def test_versions_of_an_unknown_model_is_a_not_found_error(cli: CliRunner) -> None:
    result = cli.invoke(app, ["models", "versions", "nope"])
    assert result.exit_code == 3
    assert "mloop models list" in result.output


def test_alias_protection_approval_and_the_audit_trail(cli: CliRunner) -> None:
    ok(cli, "models", "register", "s3://b/m", "churn")
    ok(cli, "models", "register", "s3://b/m", "churn")
    ok(cli, "models", "alias", "protect", "churn", "champion")
    refused = cli.invoke(app, ["models", "alias", "set", "churn", "champion", "2"])
    assert refused.exit_code == 5
    assert "mloop models approve churn/2" in refused.output
    assert "approved churn/2" in ok(cli, "models", "approve", "churn/2", "--comment", "AUC ok")
    assert "champion → version 2" in ok(cli, "models", "alias", "set", "churn", "champion", "2")
    version = ok_json(cli, "models", "show", "churn@champion")
    assert version["version"] == 2
    assert version["approvals"][0]["comment"] == "AUC ok"
    # approving through an alias resolves it to its version now
    ok(cli, "models", "approve", "churn@champion")
    assert len(ok_json(cli, "models", "show", "churn/2")["approvals"]) == 2
    ok(cli, "models", "alias", "protect", "churn", "champion", "--off")
    ok(cli, "models", "alias", "set", "churn", "champion", "1")
    ok(cli, "models", "alias", "delete", "churn", "champion")
    assert ok_json(cli, "models", "show", "churn")["model"]["aliases"] == {}
    actions = [e["action"] for e in ok_json(cli, "audit", "log", "--target", "churn")]
    assert actions == [
        "model.create",
        "model_version.create",
        "model_version.create",
        "model.alias.protect",
        "model_version.approve",
        "model.alias.set",
        "model_version.approve",
        "model.alias.unprotect",
        "model.alias.set",
        "model.alias.delete",
    ]


def test_delete_needs_force_while_an_alias_points_at_the_version(cli: CliRunner) -> None:
    ok(cli, "models", "register", "s3://b/m", "churn")
    ok(cli, "models", "alias", "set", "churn", "champion", "1")
    refused = cli.invoke(app, ["models", "delete", "churn/1"])
    assert refused.exit_code == 5
    assert "--force" in refused.output
    assert ok_json(cli, "models", "show", "churn/1")["aliases"] == ["champion"]
    ok(cli, "models", "delete", "churn/1", "--force")
    assert cli.invoke(app, ["models", "show", "churn/1"]).exit_code == 3
    ok(cli, "models", "register", "s3://b/m", "churn")
    ok(cli, "models", "delete", "churn")
    assert cli.invoke(app, ["models", "show", "churn"]).exit_code == 3


def test_bad_references_and_filters_are_input_errors(cli: CliRunner) -> None:
    ok(cli, "models", "register", "s3://b/m", "churn")
    assert cli.invoke(app, ["models", "approve", "churn/v2"]).exit_code == 2
    assert cli.invoke(app, ["models", "list", "--filter", "metrics.acc > 1"]).exit_code == 2
    assert cli.invoke(app, ["models", "versions", "--order-by", "source"]).exit_code == 2
    assert cli.invoke(app, ["models", "card", "churn/1", "--set", "novalue"]).exit_code == 2
    assert cli.invoke(app, ["models", "card", "churn/1", "--format", "pdf"]).exit_code == 2


def test_card_writes_markdown_and_html_with_lineage_and_approvals(
    cli: CliRunner, tmp_path: Path
) -> None:
    run_id = _trained_run()
    ok(cli, "models", "register", f"runs:/{run_id}/model", "churn")
    ok(cli, "models", "approve", "churn/1", "-m", "reviewed <by> risk | ok")
    out = tmp_path / "card.md"
    ok(
        cli,
        "models",
        "card",
        "churn/latest",
        "-o",
        str(out),
        "--set",
        "intended_purpose=Flag customers likely to churn | for retention calls",
    )
    markdown = out.read_text()
    page = (tmp_path / "card.html").read_text()
    assert markdown.startswith("# Model card: churn version 1")
    for heading in (
        "## 1. General description of the AI system",
        "### 2.1 Lineage: data → run → version",
        "## 5. Validation and testing results",
        "## 7. Post-market monitoring",
    ):
        assert heading in markdown
    assert "Flag customers likely to churn | for retention calls" in markdown
    assert "reviewed &lt;by&gt; risk \\| ok" in markdown
    assert "| customers | sha-1 | training | datasets:/customers/1 |" in markdown
    assert "| auc | 0.91 |" in markdown
    assert "| n_estimators | 100 |" in markdown
    assert "| tenure | double |" in markdown
    assert "No validation results are recorded" in markdown
    assert "Not documented yet: set the tag `card.risks`" in markdown
    assert "reviewed &lt;by&gt; risk | ok" in page
    assert "<h2>1. General description of the AI system</h2>" in page
    assert "<script" not in page
    printed = ok(cli, "models", "card", "churn/1")
    assert "model_version.approve" in printed


def test_card_of_a_version_without_run(cli: CliRunner, tmp_path: Path) -> None:
    ok(cli, "models", "register", "s3://b/m", "churn")
    ok(cli, "models", "card", "churn/1", "-o", str(tmp_path / "c.html"))
    page = (tmp_path / "c.html").read_text()
    assert "registered from a source outside any run" in page
    assert not (tmp_path / "c.md").exists()


def test_text_output_of_show_and_paged_listings(cli: CliRunner) -> None:
    run_id = _trained_run()
    ok(cli, "models", "register", f"runs:/{run_id}/model", "churn", "-d", "first")
    ok(cli, "models", "register", "s3://b/m", "fraud")
    ok(cli, "models", "approve", "churn/1", "-m", "fine")
    MloopClient().store.registry.set_tag("churn", "team", "risk", actor="a")
    MloopClient().store.registry.set_tag("churn", "stage", "qa", actor="a", version=1)
    model_text = ok(cli, "models", "show", "churn")
    assert "tag team" in model_text
    assert "risk" in model_text
    version_text = ok(cli, "models", "show", "churn/1")
    for expected in ("models:/churn/1", "tag stage", "approved by", "fine", "customers", "first"):
        assert expected in version_text
    assert "more models: add --page-token" in ok(cli, "models", "list", "--max", "1")
    assert "more versions: add --page-token" in ok(cli, "models", "versions", "--max", "1")
    assert "registered models:/fraud/2" in ok(cli, "models", "register", "s3://b/m", "fraud")


def test_card_formats(cli: CliRunner, tmp_path: Path) -> None:
    ok(cli, "models", "register", "s3://b/m", "churn")
    ok(cli, "models", "card", "churn/1", "-o", str(tmp_path / "only.md"), "--format", "md")
    assert (tmp_path / "only.md").exists()
    assert not (tmp_path / "only.html").exists()
    ok(cli, "models", "card", "churn/1", "-o", str(tmp_path / "page.md"), "--format", "html")
    assert (tmp_path / "page.html").read_text().startswith("<!DOCTYPE html>")
    assert not (tmp_path / "page.md").exists()


def test_tags_and_descriptions_from_the_command_line(cli: CliRunner) -> None:
    ok(cli, "models", "register", "s3://b/m", "churn")
    ok(cli, "models", "tag", "churn", "team=risk", "owner=ops")
    ok(cli, "models", "tag", "churn/1", "stage=qa")
    ok(cli, "models", "tag", "churn", "--delete", "owner")
    ok(cli, "models", "describe", "churn", "who leaves")
    ok(cli, "models", "describe", "churn/latest", "first cut")
    shown = ok_json(cli, "models", "show", "churn")
    assert shown["model"]["tags"] == {"team": "risk"}
    assert shown["model"]["description"] == "who leaves"
    version = ok_json(cli, "models", "show", "churn/1")
    assert version["tags"] == {"stage": "qa"}
    assert version["description"] == "first cut"
    assert cli.invoke(app, ["models", "tag", "churn", "novalue"]).exit_code == 2
    actions = [e["action"] for e in ok_json(cli, "audit", "log", "--target", "churn")]
    assert actions.count("model.tag.set") == 2
    assert "model_version.tag.set" in actions
    assert "model.tag.delete" in actions
    assert "model_version.update" in actions
