"""Validation of real models on real holdouts: every gate's verdict and its numbers."""

from __future__ import annotations

import json

from mloop.gates import parse_policy, read_report, read_report_html, validate_version
from tests.gates.world import FEATURES, World, fit, make_frame, policy_document

FAIRNESS = {"max_demographic_parity_difference": 0.1, "min_group_recall": 0.6}


def test_a_good_model_passes_every_gate_and_the_report_is_stored(world: World) -> None:
    version = world.register(fit(world.train, FEATURES), FEATURES)
    policy = parse_policy(
        policy_document(
            world.holdout_uri,
            metrics=[
                {"metric": "roc_auc", "min": 0.8},
                {"metric": "recall", "min": 0.6, "per_segment": "group"},
            ],
            fairness=FAIRNESS,
            drift={},
            latency={"p95_ms": 500, "rows": 20},
            size={"max_mb": 5},
        )
    )
    steps: list[tuple[str, int, int]] = []
    validation = validate_version(
        world.store,
        "churn/1",
        policy,
        actor="ci",
        progress=lambda step, done, total: steps.append((step, done, total)),
    )
    report = validation.report
    assert report.passed, report.failures
    assert [s for s, _, _ in steps[2:]] == [
        "metrics",
        "fairness",
        "drift",
        "latency",
        "size",
        "done",
    ]
    assert [d for _, d, _ in steps] == list(range(8))
    assert {t for _, _, t in steps} == {7}
    assert list(report.statuses()) == ["schema", "metrics", "fairness", "drift", "latency", "size"]
    assert report.gate("metrics").details["overall"]["roc_auc"] > 0.8
    checks = report.gate("metrics").details["checks"]
    assert [c["scope"] for c in checks] == ["overall", "[group=A]", "[group=B]"]
    assert report.gate("drift").details["training_data"] == world.train_uri  # from the lineage
    assert report.inputs["holdout"]["uri"] == world.holdout_uri
    stored = world.store.validation_reports.find_latest("churn", 1)
    assert stored is not None
    assert stored.passed
    assert stored.report_digest == validation.record.report_digest
    assert read_report(world.store, stored) == report
    html = read_report_html(world.store, stored)
    assert "Validation of churn/1" in html
    assert json.loads(report.to_json())["schema"] == "mloop.validation-report/v1"
    assert version.version == 1


def test_a_biased_model_fails_fairness_with_per_group_tables(world: World) -> None:
    biased_labels = world.train["label"].where(world.train["group"] == "A", 0)
    world.register(fit(world.train, [*FEATURES, "is_b"], labels=biased_labels), [*FEATURES, "is_b"])
    policy = parse_policy(policy_document(world.holdout_uri, fairness=FAIRNESS))
    report = validate_version(world.store, "churn/1", policy, actor="ci").report
    fairness = report.gate("fairness")
    assert not report.passed
    assert fairness.status == "fail"
    groups = {g["group"]: g for g in fairness.details["attributes"]["group"]["groups"]}
    assert groups["B"]["true_positive_rate"] < 0.6 <= groups["A"]["true_positive_rate"]
    assert any(line.startswith("group=B: recall") for line in fairness.failures)
    assert any("DP difference" in line for line in fairness.failures)
    assert report.gate("schema").passed


def test_a_drifted_holdout_fails_drift_naming_the_columns(world: World) -> None:
    world.register(fit(world.train, FEATURES), FEATURES)
    drifted = world.dataset(make_frame(500, seed=3, shift=1.5), "churn-drifted")
    policy = parse_policy(policy_document(drifted, drift={"alpha": 0.05}))
    report = validate_version(world.store, "churn/1", policy, actor="ci").report
    drift = report.gate("drift")
    assert drift.status == "fail"
    assert drift.details["drifted_columns"] == ["x1"]
    assert drift.failures[0].startswith("x1 drifted (wasserstein")


def test_a_holdout_missing_a_signature_column_fails_schema_naming_it(world: World) -> None:
    world.register(fit(world.train, FEATURES), FEATURES)
    partial = world.dataset(world.holdout.drop(columns=["x2"]), "churn-partial")
    policy = parse_policy(
        policy_document(partial, metrics=[{"metric": "accuracy", "min": 0.5}], fairness=FAIRNESS)
    )
    report = validate_version(world.store, "churn/1", policy, actor="ci").report
    schema = report.gate("schema")
    assert schema.status == "fail"
    assert "lacks signature column(s) x2" in schema.summary
    assert schema.details["missing"] == ["x2"]
    # the gates that need predictions say why they could not run
    assert report.gate("metrics").status == "error"
    assert "does not fit the model" in report.gate("metrics").summary


def test_a_worse_model_fails_the_margin_with_the_interval(world: World) -> None:
    world.register(fit(world.train, FEATURES), FEATURES)
    world.store.registry.set_alias("churn", "champion", 1, actor="ana")
    world.register(fit(world.train, ["x3"]), ["x3"])
    policy = parse_policy(
        policy_document(world.holdout_uri, champion={"metric": "roc_auc", "resamples": 200})
    )
    champion = validate_version(world.store, "churn/2", policy, actor="ci").report.gate("champion")
    assert champion.status == "fail"
    details = champion.details
    assert details["candidate"] < details["champion"]
    assert details["low"] <= details["improvement"] <= details["high"] < 0
    assert details["champion_uri"] == "models:/churn/1"
    assert "95% CI [" in champion.summary
    assert "lower bound" in champion.failures[0]
    # the champion itself passes the same gate: it already holds the alias
    assert validate_version(world.store, "churn/1", policy, actor="ci").report.passed


def test_a_regression_policy_checks_errors_and_beats_the_champion_on_rmse(world: World) -> None:
    from sklearn.linear_model import LinearRegression

    weak = LinearRegression().fit(world.train[["x3"]], world.train["amount"])
    world.register(weak, ["x3"], name="spend")
    world.store.registry.set_alias("spend", "champion", 1, actor="ana")
    strong = LinearRegression().fit(world.train[FEATURES], world.train["amount"])
    world.register(strong, FEATURES, name="spend")
    document = policy_document(
        world.holdout_uri,
        metrics=[{"metric": "rmse", "max": 0.6}, {"metric": "r2", "min": 0.9}],
        champion={"resamples": 200, "margin": 1.0},
    )
    document.update(label="amount", task="regression", sensitive_attributes=[])
    report = validate_version(world.store, "spend/2", parse_policy(document), actor="ci").report
    assert report.passed, report.failures
    champion = report.gate("champion").details
    assert (champion["metric"], champion["direction"]) == ("rmse", "lower")
    assert champion["improvement"] > champion["low"] >= 1.0  # rmse fell by more than 1
    assert report.gate("metrics").details["overall"]["rmse"] < 0.6
    # the weak model fails both thresholds, each named with its number
    weak_report = validate_version(world.store, "spend/1", parse_policy(document), actor="ci")
    failures = weak_report.report.gate("metrics").failures
    assert failures[0].startswith("rmse ")
    assert "> max 0.6" in failures[0]
    assert failures[1].startswith("r2 ")
    assert "< min 0.9" in failures[1]


def test_a_positive_label_absent_from_the_holdout_is_named(world: World) -> None:
    world.register(fit(world.train, FEATURES), FEATURES)
    document = policy_document(world.holdout_uri, fairness=FAIRNESS)
    document["positive_label"] = "yes"
    report = validate_version(world.store, "churn/1", parse_policy(document), actor="ci").report
    fairness = report.gate("fairness")
    assert fairness.status == "error"
    assert "positive_label 'yes' is not among the holdout's labels (0, 1)" in fairness.summary


def test_metric_problems_are_named_not_crashed_on(world: World) -> None:
    from sklearn.svm import LinearSVC

    world.register(LinearSVC().fit(world.train[FEATURES], world.train["label"]), FEATURES)
    policy = parse_policy(
        policy_document(
            world.holdout_uri,
            metrics=[{"metric": "roc_auc", "min": 0.5}, {"metric": "accuracy", "min": 0.5}],
        )
    )
    metrics = validate_version(world.store, "churn/1", policy, actor="ci").report.gate("metrics")
    assert metrics.failures == (
        "roc_auc needs predicted probabilities (the model has no predict_proba)",
    )
    segmented = parse_policy(
        policy_document(
            world.holdout_uri, metrics=[{"metric": "f1", "min": 0.5, "per_segment": "region"}]
        )
    )
    gate = validate_version(world.store, "churn/1", segmented, actor="ci").report.gate("metrics")
    assert gate.status == "error"
    assert gate.summary == "the holdout has no per_segment column(s) region"
