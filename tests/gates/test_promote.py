"""Promotion: a passing version takes the alias, a failing one is refused with its numbers, an
admin override is audited with its reason, and a stored report is reused when nothing changed."""

from __future__ import annotations

import re

import pytest

from mloop.entities.auth import Role
from mloop.errors import GatesFailedError, InvalidInputError, PermissionDeniedError
from mloop.gates import parse_policy, promote_version, read_report, read_report_html
from tests.gates.world import FEATURES, World, fit, policy_document

FAIRNESS = {"max_demographic_parity_difference": 0.1, "min_group_recall": 0.6}


def _biased(world: World) -> None:
    labels = world.train["label"].where(world.train["group"] == "A", 0)
    world.register(fit(world.train, [*FEATURES, "is_b"], labels=labels), [*FEATURES, "is_b"])


def test_a_good_model_is_promoted_once_approved(world: World) -> None:
    world.register(fit(world.train, FEATURES), FEATURES)
    world.store.registry.set_alias_protection("churn", "champion", actor="admin")
    policy = parse_policy(
        policy_document(
            world.holdout_uri, metrics=[{"metric": "roc_auc", "min": 0.8}], fairness=FAIRNESS
        )
    )
    with pytest.raises(GatesFailedError) as refused:
        promote_version(world.store, "churn/1", "champion", actor="ana", policy=policy)
    assert refused.value.failures == [
        "approval: churn/1 has no approval (@champion is protected); approve it with "
        "`mloop models approve churn/1 --comment ...`"
    ]
    refusal = world.store.validation_reports.find_latest("churn", 1)
    assert refusal is not None
    world.store.registry.approve("churn", 1, actor="lead", comment="reviewed")
    promotion = promote_version(world.store, "churn/1", "champion", actor="ana", policy=policy)
    assert (promotion.version, promotion.previous, promotion.overridden) == (1, None, ())
    assert promotion.validation is not None
    # The approval does not change what the evaluated gates saw: their numbers are reused, the
    # approval gate is checked again, and the passing report is stored pointing at the first.
    report = promotion.validation.report
    assert promotion.validation.reused
    assert report.passed
    assert report.reused_from == refusal.id
    assert report.inputs["approvals"] == 1
    first = read_report(world.store, refusal)
    assert [g.to_dict() for g in report.gates[:-1]] == [g.to_dict() for g in first.gates[:-1]]
    assert (first.gate("approval").status, report.gate("approval").status) == ("fail", "pass")
    assert world.store.registry.get_version_by_alias("churn", "champion").version == 1
    assert len(world.store.validation_reports.list("churn", 1)) == 2


def test_a_failing_model_is_refused_listing_each_gate_with_numbers(world: World) -> None:
    _biased(world)
    policy = parse_policy(policy_document(world.holdout_uri, fairness=FAIRNESS))
    with pytest.raises(GatesFailedError) as refused:
        promote_version(world.store, "churn/1", "champion", actor="ana", policy=policy)
    failures = refused.value.failures
    assert any(re.match(r"fairness: group: DP difference 0\.\d+ > max 0\.1", f) for f in failures)
    assert any(re.match(r"fairness: group=B: recall 0\.\d+ < min 0\.6", f) for f in failures)
    assert "--override --reason" in str(refused.value)
    assert world.store.registry.get_model("churn").aliases == {}


def test_an_override_is_audited_with_its_reason(world: World) -> None:
    _biased(world)
    world.store.registry.set_alias_protection("churn", "champion", actor="admin")
    policy = parse_policy(policy_document(world.holdout_uri, fairness=FAIRNESS))
    with pytest.raises(InvalidInputError, match="needs a reason"):
        promote_version(
            world.store, "churn/1", "champion", actor="root", policy=policy, override_reason=" "
        )
    promotion = promote_version(
        world.store,
        "churn/1",
        "champion",
        actor="root",
        policy=policy,
        override_reason="regulator-approved exception, ticket RISK-12",
    )
    assert promotion.reason == "regulator-approved exception, ticket RISK-12"
    assert any(line.startswith("fairness:") for line in promotion.overridden)
    assert world.store.registry.get_version_by_alias("churn", "champion").version == 1
    events = world.store.audit.list(entity=("model_version", "churn/1"))
    override = next(e for e in events if e.action == "model_version.promote_override")
    assert override.actor == "root"
    assert override.details["reason"] == "regulator-approved exception, ticket RISK-12"
    assert override.details["alias"] == "champion"
    assert any(line.startswith("fairness:") for line in override.details["failures"])
    approval = world.store.registry.get_version("churn", 1).approvals[0]
    assert (approval.actor, approval.comment) == (
        "root",
        "override: regulator-approved exception, ticket RISK-12",
    )


def test_only_an_admin_may_override_when_the_store_has_users(world: World) -> None:
    _biased(world)
    world.store.auth.create_user("root", role=Role.ADMIN, actor="setup")
    world.store.auth.create_user("ed", role=Role.EDITOR, actor="setup")
    policy = parse_policy(policy_document(world.holdout_uri, fairness=FAIRNESS))
    for actor in ("ed", "stranger"):
        with pytest.raises(PermissionDeniedError, match="admin"):
            promote_version(
                world.store, "churn/1", "champion", actor=actor, policy=policy, override_reason="x"
            )
    assert world.store.registry.get_model("churn").aliases == {}
    promote_version(
        world.store, "churn/1", "champion", actor="root", policy=policy, override_reason="x"
    )
    assert world.store.registry.get_model("churn").aliases == {"champion": 1}


def test_a_report_is_reused_for_the_same_version_policy_and_data(world: World) -> None:
    world.register(fit(world.train, FEATURES), FEATURES)
    policy = parse_policy(policy_document(world.holdout_uri, fairness=FAIRNESS))
    first = promote_version(world.store, "churn/1", "staging", actor="ana", policy=policy)
    second = promote_version(world.store, "churn/1", "staging", actor="bob", policy=policy)
    assert first.validation is not None
    assert second.validation is not None
    assert not first.validation.reused
    assert second.validation.reused
    assert second.validation.record.id == first.validation.record.id
    assert len(world.store.validation_reports.list("churn", 1)) == 1
    # a new holdout version is new data: the gates run again
    newer = world.dataset(world.holdout.iloc[:300], "churn-holdout")
    changed = parse_policy(policy_document(newer, fairness=FAIRNESS))
    third = promote_version(world.store, "churn/1", "staging", actor="ana", policy=changed)
    assert third.validation is not None
    assert not third.validation.reused
    assert third.validation.report.inputs["holdout"]["uri"] == "datasets:/churn-holdout/2"


def test_the_html_report_is_self_contained(world: World) -> None:
    world.register(fit(world.train, FEATURES), FEATURES)
    world.store.registry.set_alias("churn", "champion", 1, actor="ana")
    world.register(fit(world.train, ["x3"]), ["x3"])
    policy = parse_policy(
        policy_document(
            world.holdout_uri,
            fairness=FAIRNESS,
            champion={"resamples": 100},
            drift={},
            metrics=[{"metric": "f1", "min": 0.1}],
        )
    )
    with pytest.raises(GatesFailedError):
        promote_version(world.store, "churn/2", "champion", actor="ana", policy=policy)
    stored = world.store.validation_reports.find_latest("churn", 2)
    assert stored is not None
    html = read_report_html(world.store, stored)
    for part in ("<svg", "paired bootstrap interval", "selection rate", '<h2 id="drift">'):
        assert part in html
    urls = re.findall(r"(?:src|href)\s*=\s*\"([^\"#][^\"]*)\"", html)
    assert urls == []
    assert "<script" not in html
    assert re.findall(r"https?://[^\"\s]+", html) == ["http://www.w3.org/2000/svg"] * html.count(
        "<svg"
    )
