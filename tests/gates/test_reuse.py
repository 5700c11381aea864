"""Report reuse: keyed on what the evaluated gates depend on (model, data, the champion compared
against), not on the alias the version is to take; the approval gate is checked again each time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from mloop.entities import ModelVersion
from mloop.errors import GatesFailedError
from mloop.gates import parse_policy, promote_version, validate_version
from mloop.gates.evaluation import ModelLoader, store_loader
from mloop.models import LoadedModel
from tests.gates.world import FEATURES, World, fit, policy_document

FAIRNESS = {"max_demographic_parity_difference": 0.5}


class CountingLoader:
    """The store's own package loader, counting the packages it loads."""

    def __init__(self, load: ModelLoader) -> None:
        self.load = load
        self.loaded: list[str] = []

    def __call__(self, version: ModelVersion) -> LoadedModel:
        self.loaded.append(version.uri)
        return self.load(version)


@pytest.fixture
def loader(world: World) -> Iterator[CountingLoader]:
    with ExitStack() as stack:
        yield CountingLoader(store_loader(world.store, stack))


def test_validate_without_an_alias_then_promote_reuses_the_gates(
    world: World, loader: CountingLoader
) -> None:
    world.register(fit(world.train, FEATURES), FEATURES)
    policy = parse_policy(
        policy_document(world.holdout_uri, fairness=FAIRNESS, latency={"p95_ms": 1000, "rows": 20})
    )
    checked = validate_version(world.store, "churn/1", policy, actor="ana", loader=loader)
    assert "approval" not in checked.report.statuses()  # no target alias: nothing to approve
    assert loader.loaded == ["models:/churn/1"]
    promotion = promote_version(
        world.store, "churn/1", "champion", actor="ana", policy=policy, loader=loader
    )
    assert loader.loaded == ["models:/churn/1"]  # nothing evaluated again
    assert promotion.validation is not None
    report = promotion.validation.report
    assert promotion.validation.reused
    assert report.reused_from == checked.record.id
    # The same numbers (a latency measured again would differ), plus the approval gate now.
    first = [g.to_dict() for g in checked.report.gates]
    assert [g.to_dict() for g in report.gates[:-1]] == first
    assert report.gate("approval").summary == "@champion is not protected: no approval needed"
    assert report.inputs["alias"] == "champion"
    assert report.inputs_digest == checked.report.inputs_digest
    assert world.store.registry.get_version_by_alias("churn", "champion").version == 1
    # The same promotion again: the stored report fits as it is, nothing new is stored.
    again = promote_version(
        world.store, "churn/1", "champion", actor="bob", policy=policy, loader=loader
    )
    assert again.validation is not None
    assert again.validation.record.id == promotion.validation.record.id
    assert len(world.store.validation_reports.list("churn", 1)) == 2


def test_a_protected_target_fails_only_the_approval_gate_on_reuse(
    world: World, loader: CountingLoader
) -> None:
    world.register(fit(world.train, FEATURES), FEATURES)
    world.store.registry.set_alias_protection("churn", "champion", actor="admin")
    policy = parse_policy(policy_document(world.holdout_uri, fairness=FAIRNESS))
    promote_version(world.store, "churn/1", "staging", actor="ana", policy=policy, loader=loader)
    with pytest.raises(GatesFailedError) as refused:
        promote_version(
            world.store, "churn/1", "champion", actor="ana", policy=policy, loader=loader
        )
    assert [line.split(":")[0] for line in refused.value.failures] == ["approval"]
    assert loader.loaded == ["models:/churn/1"]
    stored = world.store.validation_reports.find_latest("churn", 1)
    assert stored is not None
    assert stored.gates == {"schema": "pass", "fairness": "pass", "approval": "fail"}
    assert world.store.registry.get_version_by_alias("churn", "staging").version == 1
    assert "champion" not in world.store.registry.get_model("churn").aliases


def test_a_new_holder_of_the_compared_alias_is_validated_again(
    world: World, loader: CountingLoader
) -> None:
    world.register(fit(world.train, ["x3"]), ["x3"])
    world.register(fit(world.train, FEATURES), FEATURES)
    world.register(fit(world.train, ["x1"]), ["x1"])
    world.store.registry.set_alias("churn", "champion", 1, actor="ana")
    policy = parse_policy(
        policy_document(world.holdout_uri, champion={"alias": "champion", "resamples": 100})
    )
    first = validate_version(world.store, "churn/2", policy, actor="ana", reuse=True, loader=loader)
    assert not first.reused
    second = validate_version(
        world.store, "churn/2", policy, actor="ana", reuse=True, loader=loader
    )
    assert second.reused
    assert second.record.id == first.record.id
    assert loader.loaded == ["models:/churn/2", "models:/churn/1"]
    # The champion gate compares against whoever holds @champion: a new holder, new numbers.
    world.store.registry.set_alias("churn", "champion", 3, actor="ana")
    third = validate_version(world.store, "churn/2", policy, actor="ana", reuse=True, loader=loader)
    assert not third.reused
    assert third.report.inputs["champion"]["uri"] == "models:/churn/3"
    assert loader.loaded[2:] == ["models:/churn/2", "models:/churn/3"]
