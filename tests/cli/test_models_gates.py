"""`mloop models validate / promote`: gate tables, exit codes, Markdown summary, the override,
`models show` and the model card naming the newest report; and the fluent API behind them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import mloop.models
from mloop.cli.errors import GATES_FAILED_EXIT_CODE
from mloop.cli.main import app
from mloop.storage.sql.store import SqlStore
from tests.gates.world import FEATURES, World, fit, make_world, policy_document

pytestmark = pytest.mark.usefixtures("cli_env")

FAIRNESS = {"max_demographic_parity_difference": 0.1, "min_group_recall": 0.6}


@pytest.fixture
def world(store: SqlStore) -> World:
    """The CLI's store (same database and artifact root) with training and holdout data."""
    return make_world(store)


def _policy(tmp_path: Path, world: World, name: str = "mloop-policy.yaml", **gates: object) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(policy_document(world.holdout_uri, **gates)), encoding="utf-8")
    return path


def _flat(text: str) -> str:
    """Output with the terminal's line wrapping undone."""
    return " ".join(text.split())


def _biased(world: World) -> None:
    labels = world.train["label"].where(world.train["group"] == "A", 0)
    world.register(fit(world.train, [*FEATURES, "is_b"], labels=labels), [*FEATURES, "is_b"])


def test_validate_exits_0_when_every_gate_passes_and_writes_the_summary(
    cli: CliRunner, world: World, tmp_path: Path
) -> None:
    world.register(fit(world.train, FEATURES), FEATURES)
    policy = _policy(
        tmp_path, world, metrics=[{"metric": "roc_auc", "min": 0.8}], fairness=FAIRNESS
    )
    summary, page = tmp_path / "summary.md", tmp_path / "report.html"
    result = cli.invoke(
        app,
        [
            "models",
            "validate",
            "churn/1",
            "--policy",
            str(policy),
            "--summary-md",
            str(summary),
            "--html",
            str(page),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "churn/1: passed" in _flat(result.output)
    assert "roc_auc" in _flat(result.output)
    markdown = summary.read_text(encoding="utf-8")
    assert markdown.startswith("## Validation of churn/1: passed")
    assert "| fairness | ✅ pass |" in markdown
    assert "<svg" in page.read_text(encoding="utf-8")
    shown = cli.invoke(app, ["models", "show", "churn/1"])
    assert "validation: passed (schema pass, metrics pass, fairness pass)" in _flat(shown.output)
    stored = world.store.validation_reports.find_latest("churn", 1)
    assert stored is not None
    as_json = json.loads(cli.invoke(app, ["models", "show", "churn/1", "--json"]).stdout)
    assert as_json["version"] == 1
    assert as_json["validation"] == {
        "id": stored.id,
        "passed": True,
        "gates": {"schema": "pass", "metrics": "pass", "fairness": "pass"},
        "holdout": world.holdout_uri,
        "policy_digest": stored.policy_digest,
        "report_digest": stored.report_digest,
        "actor": stored.actor,
        "created_at_ms": stored.created_at_ms,
    }
    card = cli.invoke(app, ["models", "card", "churn/1"])
    assert "| **Verdict** | every gate passed |" in _flat(card.output)
    assert "No validation results are recorded" not in _flat(card.output)


def test_validate_exits_8_on_a_failing_gate_listing_the_numbers(
    cli: CliRunner, world: World, tmp_path: Path
) -> None:
    _biased(world)
    _policy(tmp_path, world, fairness=FAIRNESS)  # ./mloop-policy.yaml is the default
    before = json.loads(cli.invoke(app, ["models", "show", "churn/1", "--json"]).stdout)
    assert before["validation"] is None
    result = cli.invoke(app, ["models", "validate", "churn/1"])
    assert result.exit_code == GATES_FAILED_EXIT_CODE, result.output
    assert "churn/1: FAILED" in _flat(result.output)
    assert "fairness: group=B: recall" in _flat(result.output)
    as_json = cli.invoke(app, ["models", "validate", "churn/1", "--json"])
    assert as_json.exit_code == GATES_FAILED_EXIT_CODE
    report = json.loads(as_json.stdout)
    assert report["passed"] is False
    assert report["gates"][1]["gate"] == "fairness"
    shown = json.loads(cli.invoke(app, ["models", "show", "churn/latest", "--json"]).stdout)
    assert shown["validation"]["id"] == 2  # the newest of the two
    assert shown["validation"]["passed"] is False
    assert shown["validation"]["gates"] == {"schema": "pass", "fairness": "fail"}


def test_show_model_json_gives_each_version_its_newest_validation(
    cli: CliRunner, world: World, tmp_path: Path
) -> None:
    world.register(fit(world.train, FEATURES), FEATURES)
    _biased(world)
    world.register(fit(world.train, FEATURES), FEATURES)
    policy = _policy(tmp_path, world, fairness=FAIRNESS)
    for version in ("churn/1", "churn/2"):
        cli.invoke(app, ["models", "validate", version, "--policy", str(policy)])
    shown = json.loads(cli.invoke(app, ["models", "show", "churn", "--json"]).stdout)
    assert shown["model"]["name"] == "churn"
    by_version = {v["version"]: v["validation"] for v in shown["versions"]}
    assert by_version[3] is None  # never validated
    for number in (1, 2):
        stored = world.store.validation_reports.find_latest("churn", number)
        assert stored is not None
        assert by_version[number]["id"] == stored.id
        assert by_version[number]["passed"] is stored.passed
        assert by_version[number]["gates"] == stored.gates
    assert by_version[1]["passed"] is True
    assert by_version[2]["passed"] is False
    assert by_version[2]["gates"] == {"schema": "pass", "fairness": "fail"}


def test_validate_refuses_a_broken_policy_with_its_line(
    cli: CliRunner, world: World, tmp_path: Path
) -> None:
    world.register(fit(world.train, FEATURES), FEATURES)
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nholdout: datasets:/x/1\nlabel: y\ngates:\n  speed: {}\n")
    result = cli.invoke(app, ["models", "validate", "churn/1", "--policy", str(broken)])
    assert result.exit_code == 2
    assert "line 5: gates.speed: unknown key" in _flat(result.output)
    missing = cli.invoke(app, ["models", "validate", "churn/1"])
    assert missing.exit_code == 2
    assert "no policy" in _flat(missing.output)


def test_promote_refuses_then_an_override_moves_the_alias(
    cli: CliRunner, world: World, tmp_path: Path
) -> None:
    _biased(world)
    policy = _policy(
        tmp_path,
        world,
        "gates.yaml",
        fairness=FAIRNESS,
        metrics=[{"metric": "recall", "min": 0.99, "per_segment": "group"}],
    )
    promote = ["models", "promote", "churn/1", "--alias", "champion", "--policy", str(policy)]
    refused = cli.invoke(app, promote)
    assert refused.exit_code == GATES_FAILED_EXIT_CODE, refused.output
    assert "may not take alias 'champion'" in _flat(refused.output)
    assert "DP difference" in _flat(refused.output)
    assert "metrics: recall[group=A] 0." in _flat(refused.output)  # brackets are not markup
    no_reason = cli.invoke(app, [*promote, "--override"])
    assert no_reason.exit_code == 2
    overridden = cli.invoke(app, [*promote, "--override", "--reason", "pilot in one region only"])
    assert overridden.exit_code == 0, overridden.output
    assert "reused the gates of report #1" in _flat(overridden.output)
    assert "churn@champion → version 1" in _flat(overridden.output)
    log = cli.invoke(app, ["audit", "log", "--json"])
    assert "model_version.promote_override" in _flat(log.output)
    assert "pilot in one region only" in _flat(log.output)


def test_the_fluent_api_validates_and_promotes(world: World, tmp_path: Path) -> None:
    world.register(fit(world.train, FEATURES), FEATURES)
    policy = _policy(tmp_path, world, fairness=FAIRNESS)
    validation = mloop.models.validate("churn/1", policy, alias="champion")
    assert validation.passed
    promotion = mloop.models.promote("churn/1", "champion", policy=str(policy))
    assert promotion.validation is not None
    assert promotion.validation.reused
    assert world.store.registry.get_version_by_alias("churn", "champion").version == 1


def test_report_shows_lists_and_exports_stored_reports(
    cli: CliRunner, world: World, tmp_path: Path
) -> None:
    world.register(fit(world.train, FEATURES), FEATURES)
    none_yet = cli.invoke(app, ["models", "report", "churn/1"])
    assert none_yet.exit_code == 3
    assert "models:/churn/1 has no validation report yet" in _flat(none_yet.output)
    assert "mloop models validate churn/1" in _flat(none_yet.output)
    policy = _policy(tmp_path, world, fairness=FAIRNESS)
    for _ in range(2):
        cli.invoke(app, ["models", "validate", "churn/1", "--policy", str(policy)])
    listed = cli.invoke(app, ["models", "report", "churn/1", "--list"])
    assert listed.exit_code == 0, listed.output
    assert _flat(listed.output).count("all pass") == 2  # one row per stored report
    page = tmp_path / "first.html"
    oldest = str(world.store.validation_reports.list("churn", 1)[-1].id)
    first = cli.invoke(app, ["models", "report", "churn/1", "--id", oldest, "--html", str(page)])
    assert first.exit_code == 0, first.output
    assert f"report #{oldest} on datasets:/churn-holdout/1" in _flat(first.output)
    assert "Validation of churn/1" in page.read_text(encoding="utf-8")
    as_json = cli.invoke(app, ["models", "report", "churn/1", "--json"])
    assert json.loads(as_json.stdout)["gates"][0]["gate"] == "schema"
    missing = cli.invoke(app, ["models", "report", "churn/1", "--id", "999999"])
    assert missing.exit_code == 3
    assert "has no report #999999" in _flat(missing.output)
