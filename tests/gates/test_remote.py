"""Validation and promotion through a live `mloop server`: `MLOOP_TRACKING_URI=http://...`.

Everything the gates need travels over HTTP: the holdout and training data (dataset versions and
blobs), the model packages (run artifacts), the stored reports and their blobs, and the alias
move or the override. The server runs on the backend under test (SQLite or PostgreSQL).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
import yaml

import mloop.models
from mloop.client.context import close_store, get_store
from mloop.entities.auth import Role
from mloop.errors import GatesFailedError, PermissionDeniedError
from mloop.gates import read_report
from mloop.server.app import create_app
from mloop.server.auth import install_auth
from mloop.server.config import ServerConfig
from mloop.storage.rest import RestStore
from mloop.storage.sql.store import SqlStore
from tests.client.conftest import FluentEnv, fluent_env
from tests.gates.world import FEATURES, World, fit, make_world, policy_document
from tests.server.conftest import serve_in_thread

FAIRNESS = {"max_demographic_parity_difference": 0.1, "min_group_recall": 0.6}


@pytest.fixture
def remote(
    store: SqlStore,
    store_url: str,
    artifact_root: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[FluentEnv]:
    """The fluent API pointed at a live server in front of the test's database."""
    server_blobs = str(tmp_path / "server-artifacts")
    app = create_app(ServerConfig(backend_uri=store_url, artifact_uri=server_blobs))
    url, stop = serve_in_thread(app)
    try:
        yield from fluent_env(url, artifact_root, tmp_path, monkeypatch)
    finally:
        stop()


@pytest.fixture
def world(remote: FluentEnv) -> World:
    """Training and holdout data and models, all written through the server."""
    rest = get_store()
    assert isinstance(rest, RestStore)
    return make_world(cast(SqlStore, rest))


def _policy(tmp_path: Path, world: World, **gates: object) -> Path:
    path = tmp_path / "mloop-policy.yaml"
    path.write_text(yaml.safe_dump(policy_document(world.holdout_uri, **gates)), encoding="utf-8")
    return path


def test_a_good_model_is_validated_and_promoted_through_the_server(
    world: World, store: SqlStore, tmp_path: Path, artifact_root: str
) -> None:
    world.register(fit(world.train, FEATURES), FEATURES)
    policy = _policy(
        tmp_path,
        world,
        metrics=[{"metric": "roc_auc", "min": 0.8}],
        fairness=FAIRNESS,
        drift={},
    )
    validation = mloop.models.validate("churn/1", policy)
    assert validation.passed, validation.report.failures
    assert validation.report.inputs["holdout"]["uri"] == "datasets:/churn-holdout/1"
    assert validation.report.inputs["training"]["uri"] == "datasets:/churn-train/1"
    # The report reached the server's database and its blobs the server's blob store.
    stored = store.validation_reports.find_latest("churn", 1)
    assert stored is not None
    assert stored.id == validation.record.id
    assert read_report(get_store(), stored).passed
    # Nothing went around the server: the client's own artifact root was never written.
    assert not any(files for _, _, files in os.walk(artifact_root))
    promotion = mloop.models.promote("churn/1", "champion", policy=policy)
    assert promotion.validation is not None
    assert promotion.validation.reused
    assert store.registry.get_version_by_alias("churn", "champion").version == 1
    actions = [e.action for e in store.audit.list(entity=("model", "churn"))]
    assert actions[-1] == "model.alias.set"


def test_a_biased_model_is_refused_then_overridden_through_the_server(
    world: World, store: SqlStore, tmp_path: Path
) -> None:
    labels = world.train["label"].where(world.train["group"] == "A", 0)
    world.register(fit(world.train, [*FEATURES, "is_b"], labels=labels), [*FEATURES, "is_b"])
    store.registry.set_alias_protection("churn", "champion", actor="admin")
    policy = _policy(tmp_path, world, fairness=FAIRNESS)
    with pytest.raises(GatesFailedError) as refused:
        mloop.models.promote("churn/1", "champion", policy=policy)
    assert any(line.startswith("fairness: group: DP difference") for line in refused.value.failures)
    assert "champion" not in store.registry.get_model("churn").aliases
    promotion = mloop.models.promote(
        "churn/1", "champion", policy=policy, override_reason="pilot in one region, RISK-12"
    )
    assert promotion.overridden == tuple(refused.value.failures)
    assert store.registry.get_version_by_alias("churn", "champion").version == 1
    events = store.audit.list(entity=("model_version", "churn/1"))
    override = next(e for e in events if e.action == "model_version.promote_override")
    assert override.details["reason"] == "pilot in one region, RISK-12"
    assert override.details["failures"] == list(refused.value.failures)
    assert store.registry.get_version("churn", 1).approvals[0].comment == (
        "override: pilot in one region, RISK-12"
    )


def test_with_auth_the_server_refuses_an_editors_override(
    store: SqlStore,
    store_url: str,
    artifact_root: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = create_app(ServerConfig(backend_uri=store_url, artifact_uri=artifact_root), store=store)
    install_auth(app, cache_ttl_s=0)
    url, stop = serve_in_thread(app)
    world = make_world(store)
    world.register(fit(world.train, ["x3"]), ["x3"])  # too weak for the metric gate
    tokens = {}
    for name, role in (("ed", Role.EDITOR), ("root", Role.ADMIN)):
        store.auth.create_user(name, role=role, actor="setup")
        tokens[name] = store.auth.create_token(name, actor="setup").secret
    policy = _policy(tmp_path, world, metrics=[{"metric": "roc_auc", "min": 0.8}])
    monkeypatch.setenv("MLOOP_TRACKING_TOKEN", tokens["ed"])
    env = fluent_env(url, artifact_root, tmp_path, monkeypatch)
    next(env)
    try:
        with pytest.raises(PermissionDeniedError, match="admin"):
            mloop.models.promote("churn/1", "champion", policy=policy, override_reason="urgent")
        assert store.registry.get_model("churn").aliases == {}
        actions = [e.action for e in store.audit.list(entity=("model_version", "churn/1"))]
        assert "model_version.promote_override" not in actions
        assert actions.count("model_version.validate") == 1  # the editor may validate
        close_store()
        monkeypatch.setenv("MLOOP_TRACKING_TOKEN", tokens["root"])
        promotion = mloop.models.promote(
            "churn/1", "champion", policy=policy, override_reason="urgent"
        )
        assert promotion.overridden
        assert promotion.validation is not None
        assert promotion.validation.reused
        events = store.audit.list(entity=("model_version", "churn/1"))
        override = next(e for e in events if e.action == "model_version.promote_override")
        assert override.actor == "root"
        assert store.registry.get_version_by_alias("churn", "champion").version == 1
    finally:
        next(env, None)
        stop()
