"""`mloop deploy ...` against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from mloop.cli.main import app
from mloop.client.context import get_store
from tests.cli.conftest import ok, ok_json

pytestmark = pytest.mark.usefixtures("cli_env")


def _registry() -> None:
    registry = get_store().registry
    for _ in range(3):
        registry.create_version("churn", "s3://bucket/churn", actor="ana")
    for alias, version in (("champion", 1), ("challenger", 2), ("candidate", 3)):
        registry.set_alias("churn", alias, version, actor="ana")


def test_create_update_show_list_rollback_and_history(cli: CliRunner) -> None:
    _registry()
    created = ok_json(
        cli,
        "deploy", "create", "churn-api", "--model", "churn",
        "--route", "champion=90", "--route", "challenger=10",
        "--shadow", "@candidate", "--sticky-key", "user_id",
    )  # fmt: skip
    assert created["routes"] == [
        {"target": "@champion", "weight": 90},
        {"target": "@challenger", "weight": 10},
    ]
    assert (created["shadows"], created["sticky_key"], created["revision"]) == (
        ["@candidate"],
        "user_id",
        1,
    )
    text = ok(cli, "deploy", "show", "churn-api")
    assert "models:/churn@champion" in text
    assert "90%" in text
    assert "shadow" in text
    # Promote the shadow to a 10% canary: it stops being a shadow.
    canary = ok_json(
        cli, "deploy", "update", "churn-api", "-r", "champion=90", "-r", "candidate=10",
        "--no-sticky-key",
    )  # fmt: skip
    assert (canary["revision"], canary["shadows"], canary["sticky_key"]) == (2, [], None)
    assert "rolled back" in ok(cli, "deploy", "rollback", "churn-api")
    shown = ok_json(cli, "deploy", "show", "churn-api")
    assert (shown["revision"], shown["routes"], shown["shadows"]) == (
        3,
        created["routes"],
        ["@candidate"],
    )
    pinned = ok_json(cli, "deploy", "rollback", "churn-api", "--to-revision", "2")
    assert (pinned["revision"], pinned["routes"]) == (4, canary["routes"])
    history = ok_json(cli, "deploy", "history", "churn-api")["revisions"]
    assert [(h["revision"], h["action"], h["restored_from"]) for h in history] == [
        (1, "create", None),
        (2, "update", None),
        (3, "rollback", 1),
        (4, "rollback", 2),
    ]
    assert "rollback to 1" in ok(cli, "deploy", "history", "churn-api")
    listed = ok_json(cli, "deploy", "list")["deployments"]
    assert [(d["name"], d["revision"]) for d in listed] == [("churn-api", 4)]
    assert "churn-api" in ok(cli, "deploy", "list", "--model", "churn")
    assert ok_json(cli, "deploy", "list", "--model", "other") == {"deployments": []}
    kept = cli.invoke(app, ["deploy", "delete", "churn-api"], input="n\n")
    assert kept.exit_code == 1
    assert get_store().deployments.find("churn-api") is not None
    assert "deleted deployment churn-api" in ok(cli, "deploy", "delete", "churn-api", "--yes")
    assert get_store().deployments.find("churn-api") is None
    actions = [e.action for e in get_store().audit.list(entity=("deployment", "churn-api"))]
    assert actions == [
        "deployment.create",
        "deployment.update",
        *["deployment.rollback"] * 2,
        "deployment.delete",
    ]


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (["create", "churn-api", "-m", "churn", "-r", "champion=90"], 2, "sum to 100"),
        (["create", "churn-api", "-m", "churn", "-r", "champion"], 2, "TARGET=PERCENT"),
        (["create", "Churn API", "-m", "churn", "-r", "champion=100"], 2, "lowercase"),
        (["create", "churn-api", "-m", "churn", "-r", "ghost=100"], 3, "no alias 'ghost'"),
        (["create", "churn-api", "-m", "nope", "-r", "1=100"], 3, "'nope' does not exist"),
        (["show", "nope"], 3, "mloop deploy list"),
        (["rollback", "nope"], 3, "does not exist"),
        (["k8s", "nope"], 3, "does not exist"),
    ],
)
def test_bad_input_exits_with_a_clear_error(
    cli: CliRunner, args: list[str], code: int, text: str
) -> None:
    _registry()
    result = cli.invoke(app, ["deploy", *args])
    assert result.exit_code == code, result.output
    assert text in " ".join(result.output.split())
    assert get_store().deployments.list() == []


def test_rollback_of_a_first_revision_and_conflicting_flags(cli: CliRunner) -> None:
    _registry()
    ok(cli, "deploy", "create", "churn-api", "-m", "churn", "-r", "champion=100")
    first = cli.invoke(app, ["deploy", "rollback", "churn-api"])
    assert first.exit_code == 5
    assert "only its first revision" in " ".join(first.output.split())
    both = cli.invoke(app, ["deploy", "update", "churn-api", "--no-shadows", "-s", "candidate"])
    assert both.exit_code == 2
    assert get_store().deployments.get("churn-api").revision == 1


def test_k8s_writes_manifests_or_prints_them(cli: CliRunner, tmp_path: Path) -> None:
    _registry()
    ok(cli, "deploy", "create", "churn-api", "-m", "churn", "-r", "champion=100")
    out = tmp_path / "k8s"
    ok(
        cli, "deploy", "k8s", "churn-api", "--image", "registry.example/churn:3",
        "--replicas", "3", "--out", str(out),
    )  # fmt: skip
    assert sorted(p.name for p in out.iterdir()) == ["deployment.yaml", "hpa.yaml", "service.yaml"]
    deployment = yaml.safe_load((out / "deployment.yaml").read_text())
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example/churn:3"
    assert container["command"][:4] == ["mloop", "serve", "--deployment", "churn-api"]
    assert deployment["spec"]["replicas"] == 3
    printed = list(yaml.safe_load_all(ok(cli, "deploy", "k8s", "churn-api")))
    assert [d["kind"] for d in printed] == ["Deployment", "Service", "HorizontalPodAutoscaler"]
    bad = cli.invoke(app, ["deploy", "k8s", "churn-api", "--memory", "lots"])
    assert bad.exit_code == 2
    assert "not a Kubernetes quantity" in bad.output
