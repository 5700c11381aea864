"""`mloop quickstart` end to end, in a fresh process and a fresh folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mloop.entities import RunStatus
from mloop.storage.sql.store import SqlStore


@pytest.fixture(scope="module")
def quickstart_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("quickstart")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLOOP_")}
    env["COLUMNS"] = "120"
    done = subprocess.run(
        [sys.executable, "-m", "mloop.cli", "quickstart"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return folder, done.stdout


def test_quickstart_prints_a_comparison_and_where_data_lives(quickstart_dir):
    folder, output = quickstart_dir
    assert "runs by ROC AUC" in output
    assert "best:" in output
    assert str(folder / ".mloop" / "mloop.db") in output


def test_quickstart_validates_data_against_an_inferred_schema(quickstart_dir):
    folder, output = quickstart_dir
    schema = folder / ".mloop" / "quickstart" / "schema.yaml"
    assert schema.is_file()
    assert "mean radius" in schema.read_text()
    assert "test split:     valid: 0 errors" in output
    assert "damaged copy:   invalid:" in output
    assert "not_null" in output  # the gaps put into the damaged copy are caught


def test_quickstart_detects_drift_in_shifted_data_and_none_in_the_test_split(quickstart_dir):
    folder, output = quickstart_dir
    assert "test split vs training data:   no drift" in output
    assert "shifted data vs training data: drift (3 of 30 columns)" in output
    report = folder / ".mloop" / "quickstart" / "drift.html"
    assert report.is_file()
    assert "mean radius" in report.read_text()


def test_quickstart_logs_finished_runs_with_metrics_and_environment(quickstart_dir):
    folder, _ = quickstart_dir
    home = folder / ".mloop"
    store = SqlStore(f"sqlite:///{home / 'mloop.db'}", artifact_root=str(home / "artifacts"))
    try:
        experiment = store.experiments.get_by_name("quickstart")
        runs = store.runs.search(
            [experiment.experiment_id], filter_string="tags.model_family != ''"
        )
        assert len(runs) == 4
        for run in runs:
            assert run.status is RunStatus.FINISHED
            assert {"accuracy", "f1", "roc_auc", "log_loss"} <= set(run.metrics)
            assert 0.9 < run.metrics["roc_auc"] <= 1.0
            assert run.params
            assert run.tags["mloop.python_version"] == ".".join(map(str, sys.version_info[:3]))
            requirements = store.artifacts.read_bytes(run.run_id, "environment/requirements.txt")
            assert b"scikit-learn==" in requirements
        boosting = next(r for r in runs if r.run_name == "boosting-100")
        curve = store.runs.get_metric_history(boosting.run_id, "test_log_loss_by_stage")
        assert [m.step for m in curve] == list(range(100))
    finally:
        store.close()


def test_quickstart_logs_the_drift_check_as_a_run_with_its_report(quickstart_dir):
    folder, _ = quickstart_dir
    home = folder / ".mloop"
    store = SqlStore(f"sqlite:///{home / 'mloop.db'}", artifact_root=str(home / "artifacts"))
    try:
        (check,) = store.runs.search(None, filter_string="run_name = 'drift-check'")
        assert check.metrics["drifted_columns"] == 3
        assert check.metrics["test_split_drifted_columns"] == 0
        report = store.artifacts.read_bytes(check.run_id, "reports/drift.html")
        assert b"mean radius" in report
    finally:
        store.close()


def test_quickstart_versions_its_data_and_logs_it_as_the_runs_inputs(quickstart_dir):
    folder, output = quickstart_dir
    assert "train split versioned as datasets:/quickstart-train/1" in output
    home = folder / ".mloop"
    store = SqlStore(f"sqlite:///{home / 'mloop.db'}", artifact_root=str(home / "artifacts"))
    try:
        train = store.datasets.get_latest("quickstart-train")
        assert train.row_count is not None
        assert train.row_count > 400
        used = store.datasets.lineage("quickstart-train", train.version)
        assert len(used) == 4
        assert {r.context for r in used} == {"training"}
        test = store.datasets.get_latest("quickstart-test")
        assert len(store.datasets.lineage("quickstart-test", test.version)) == 4
    finally:
        store.close()


def test_quickstart_registers_the_best_model_as_an_approved_champion(quickstart_dir):
    folder, output = quickstart_dir
    assert "registered models:/quickstart-classifier/1" in output
    agreement = re.search(r"predictions agree with the trained model on (\d+) of (\d+)", output)
    assert agreement is not None
    assert agreement.group(1) == agreement.group(2)
    home = folder / ".mloop"
    store = SqlStore(f"sqlite:///{home / 'mloop.db'}", artifact_root=str(home / "artifacts"))
    try:
        champion = store.registry.get_version_by_alias("quickstart-classifier", "champion")
        assert champion.version == 1
        assert champion.is_approved
        assert champion.package_digest
        assert champion.signature is not None
        assert store.runs.get(champion.run_id or "").metrics["roc_auc"] > 0.9
        assert {d.context for d in champion.datasets} == {"training", "evaluation"}
        model = store.registry.get_model("quickstart-classifier")
        assert model.protected_aliases == ("champion",)
        assert store.audit.verify().is_intact
    finally:
        store.close()
    card = (home / "quickstart" / "model_card.md").read_text()
    assert card.startswith("# Model card: quickstart-classifier version 1")
    assert (home / "quickstart" / "model_card.html").is_file()


def test_quickstart_promotes_its_champion_through_a_fairness_policy(quickstart_dir):
    folder, output = quickstart_dir
    assert "promoted: quickstart-classifier@champion → version 1" in output
    policy = folder / ".mloop" / "quickstart" / "mloop-policy.yaml"
    assert "sensitive_attributes:\n- site" in policy.read_text()
    home = folder / ".mloop"
    store = SqlStore(f"sqlite:///{home / 'mloop.db'}", artifact_root=str(home / "artifacts"))
    try:
        (report,) = store.validation_reports.list("quickstart-classifier", 1)
        assert report.passed
        assert list(report.gates) == [
            "schema",
            "metrics",
            "fairness",
            "drift",
            "latency",
            "size",
            "approval",
        ]
        assert report.holdout == "datasets:/quickstart-holdout/1"
        actions = [e.action for e in store.audit.list()]
        assert actions.index("model_version.validate") < actions.index("model.alias.set")
    finally:
        store.close()
    card = (home / "quickstart" / "model_card.md").read_text()
    assert "| **Verdict** | every gate passed |" in card


def test_quickstart_serves_the_champion_canaries_a_challenger_and_rolls_it_back(quickstart_dir):
    folder, output = quickstart_dir
    assert "registered a challenger: models:/quickstart-classifier/2" in output
    accuracy = re.search(r"200 requests, accuracy (0\.\d+)", output)
    assert accuracy is not None
    assert float(accuracy.group(1)) > 0.9
    canary = re.search(r"of 1000 requests, version 2 \(challenger\) answered (\d+)", output)
    assert canary is not None
    assert abs(int(canary.group(1)) - 100) <= 10  # 10% within 1% of 1000
    assert "100 of 100 requests answered by the champion" in output
    home = folder / ".mloop"
    store = SqlStore(f"sqlite:///{home / 'mloop.db'}", artifact_root=str(home / "artifacts"))
    try:
        deployment = store.deployments.get("quickstart-api")
        assert deployment.revision == 3
        assert [(r.target.alias, r.weight) for r in deployment.routes] == [("champion", 100)]
        assert [h.action for h in store.deployments.history("quickstart-api")] == [
            "create",
            "update",
            "rollback",
        ]
    finally:
        store.close()
