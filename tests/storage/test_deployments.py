"""Deployments on SQLite and PostgreSQL: configurations, validation, revisions, rollback, audit."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from mloop.entities.deployments import Route, Target
from mloop.errors import (
    AliasNotFoundError,
    DeploymentAlreadyExistsError,
    DeploymentNotFoundError,
    DeploymentRevisionNotFoundError,
    InvalidInputError,
    InvalidStateError,
    ModelNotFoundError,
    ModelVersionNotFoundError,
    NothingToRollBackError,
    TargetInUseError,
)
from mloop.storage.protocols import Store

SPLIT = {"champion": 90, "challenger": 10}


def _registry(store: Store) -> None:
    """Model churn with versions 1-3: champion -> 1, challenger -> 2, candidate -> 3."""
    for _ in range(3):
        store.registry.create_version("churn", "s3://bucket/churn", actor="ana")
    store.registry.create_version("fraud", "s3://bucket/fraud", actor="ana")
    for alias, version in (("champion", 1), ("challenger", 2), ("candidate", 3)):
        store.registry.set_alias("churn", alias, version, actor="ana")


def _deployment_events(store: Store) -> list[tuple[str, str, str]]:
    return [
        (e.action, e.entity_id, e.actor)
        for e in store.audit.list()
        if e.entity_type == "deployment"
    ]


@pytest.fixture
def filled(store: Store) -> Store:
    _registry(store)
    return store


def test_a_deployment_is_created_read_and_listed(filled: Store) -> None:
    created = filled.deployments.create(
        "churn-api",
        "churn",
        routes=SPLIT,
        actor="ana",
        shadows=["@candidate"],
        sticky_key="user_id",
        description="churn scoring",
    )
    assert created.name == "churn-api"
    assert created.model == "churn"
    assert created.routes == (
        Route(Target(alias="champion"), 90),
        Route(Target(alias="challenger"), 10),
    )
    assert created.shadows == (Target(alias="candidate"),)
    assert created.sticky_key == "user_id"
    assert created.description == "churn scoring"
    assert created.revision == 1
    assert (created.created_by, created.updated_by) == ("ana", "ana")
    assert created.created_at_ms == created.updated_at_ms > 0
    assert [t.uri("churn") for t in created.targets] == [
        "models:/churn@champion",
        "models:/churn@challenger",
        "models:/churn@candidate",
    ]
    assert filled.deployments.get("churn-api") == created
    assert filled.deployments.find("churn-api") == created
    assert filled.deployments.find("nope") is None
    fixed = filled.deployments.create(
        "fraud-api", "fraud", routes=[Route(Target(version=1), 100)], actor="bo"
    )
    assert fixed.routes[0].target.text == "/1"
    assert [d.name for d in filled.deployments.list()] == ["churn-api", "fraud-api"]
    assert filled.deployments.list(model="fraud") == [fixed]
    assert _deployment_events(filled) == [
        ("deployment.create", "churn-api", "ana"),
        ("deployment.create", "fraud-api", "bo"),
    ]
    details = filled.audit.list(entity=("deployment", "churn-api"))[0].details
    assert details["routes"] == [
        {"target": "@champion", "weight": 90},
        {"target": "@challenger", "weight": 10},
    ]
    assert (details["revision"], details["shadows"]) == (1, ["@candidate"])


def test_targets_and_routes_parse_their_text_forms() -> None:
    assert Target.parse("champion") == Target.parse("@champion") == Target(alias="champion")
    assert Target.parse("3") == Target.parse("/3") == Target(version=3)
    assert Route.parse("@challenger=10") == Route(Target(alias="challenger"), 10)
    assert str(Target(version=7)) == "/7"
    for text in ("latest", "", "/x", "@", "a b", "-1", "0"):
        with pytest.raises(InvalidInputError):
            Target.parse(text)
    for text in ("champion", "champion=ten", "=5", "champion=-5"):
        with pytest.raises(InvalidInputError):
            Route.parse(text)


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"name": "Churn_API"}, InvalidInputError, "name"),
        ({"name": "-churn"}, InvalidInputError, "name"),
        ({"name": "x" * 64}, InvalidInputError, "name"),
        ({"routes": {"champion": 90, "challenger": 20}}, InvalidInputError, "routes"),
        ({"routes": {}}, InvalidInputError, "routes"),
        ({"routes": {"champion": 101}}, InvalidInputError, "routes"),
        ({"routes": {"champion": 50, "@champion": 50}}, InvalidInputError, "routes"),
        ({"routes": [Route(Target(alias="champion"), True)]}, InvalidInputError, "routes"),
        ({"routes": {"latest": 100}}, InvalidInputError, "target"),
        ({"shadows": ["champion"]}, InvalidInputError, "shadows"),
        ({"shadows": ["candidate", "@candidate"]}, InvalidInputError, "shadows"),
        ({"sticky_key": "user id"}, InvalidInputError, "sticky_key"),
        ({"description": "d" * 5001}, InvalidInputError, "description"),
        ({"model": "no/such"}, InvalidInputError, "name"),
    ],
)
def test_malformed_configurations_are_refused_and_change_nothing(
    filled: Store, kwargs: dict[str, Any], error: type[Exception], field: str
) -> None:
    arguments: dict[str, Any] = {"name": "churn-api", "model": "churn", "routes": SPLIT}
    arguments.update(kwargs)
    with pytest.raises(error) as caught:
        filled.deployments.create(
            arguments.pop("name"), arguments.pop("model"), actor="ana", **arguments
        )
    assert getattr(caught.value, "field", None) == field
    assert filled.deployments.list() == []
    assert _deployment_events(filled) == []


@pytest.mark.parametrize(
    ("model", "routes", "shadows", "error"),
    [
        ("nope", {"champion": 100}, [], ModelNotFoundError),
        ("churn", {"champion": 50, "stable": 50}, [], AliasNotFoundError),
        ("churn", {"champion": 50, "9": 50}, [], ModelVersionNotFoundError),
        ("churn", {"champion": 100}, ["@ghost"], AliasNotFoundError),
        ("fraud", {"champion": 100}, [], AliasNotFoundError),
    ],
)
def test_targets_must_exist_in_the_registry(
    filled: Store,
    model: str,
    routes: dict[str, int],
    shadows: list[str],
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        filled.deployments.create("churn-api", model, routes=routes, shadows=shadows, actor="a")
    assert filled.deployments.find("churn-api") is None
    assert _deployment_events(filled) == []


def test_a_taken_name_is_refused(filled: Store) -> None:
    first = filled.deployments.create("churn-api", "churn", routes=SPLIT, actor="ana")
    # The same creation again (a client retrying) returns it and records nothing.
    assert filled.deployments.create("churn-api", "churn", routes=SPLIT, actor="ana") == first
    with pytest.raises(DeploymentAlreadyExistsError) as caught:
        filled.deployments.create("churn-api", "fraud", routes={"1": 100}, actor="bo")
    assert caught.value.name == "churn-api"
    assert filled.deployments.get("churn-api") == first
    assert len(_deployment_events(filled)) == 1


def test_missing_deployments_are_not_found(filled: Store) -> None:
    for call in (
        lambda: filled.deployments.get("nope"),
        lambda: filled.deployments.history("nope"),
        lambda: filled.deployments.update("nope", actor="a", description="x"),
        lambda: filled.deployments.rollback("nope", actor="a"),
    ):
        with pytest.raises(DeploymentNotFoundError):
            call()


def test_updates_make_revisions_and_keep_what_is_not_given(filled: Store) -> None:
    filled.deployments.create(
        "churn-api", "churn", routes={"champion": 100}, actor="ana", sticky_key="user_id"
    )
    updated = filled.deployments.update("churn-api", actor="bo", routes=SPLIT)
    assert updated.revision == 2
    assert [r.weight for r in updated.routes] == [90, 10]
    assert updated.sticky_key == "user_id"
    assert (updated.created_by, updated.updated_by) == ("ana", "bo")
    described = filled.deployments.update("churn-api", actor="cy", description="v3", sticky_key="")
    assert (described.revision, described.sticky_key, described.description) == (3, None, "v3")
    assert described.routes == updated.routes
    # The same values again change nothing and record nothing.
    same = filled.deployments.update("churn-api", actor="dee", routes=SPLIT, description="v3")
    assert same == described
    assert [a for a, _, _ in _deployment_events(filled)] == [
        "deployment.create",
        "deployment.update",
        "deployment.update",
    ]


def test_a_shadow_promoted_to_a_route_stops_being_a_shadow(filled: Store) -> None:
    filled.deployments.create(
        "churn-api", "churn", routes={"champion": 100}, actor="a", shadows=["candidate", "2"]
    )
    canary = filled.deployments.update(
        "churn-api", actor="a", routes={"champion": 90, "candidate": 10}
    )
    assert canary.shadows == (Target(version=2),)
    with pytest.raises(InvalidInputError):
        filled.deployments.update(
            "churn-api", actor="a", routes={"champion": 90, "2": 10}, shadows=["2"]
        )
    assert filled.deployments.get("churn-api") == canary


def test_a_refused_update_changes_nothing(filled: Store) -> None:
    before = filled.deployments.create("churn-api", "churn", routes=SPLIT, actor="a")
    for kwargs in (
        {"routes": {"champion": 10}},
        {"routes": {"ghost": 100}},
        {"model": "fraud"},
        {"shadows": ["@nope"]},
    ):
        with pytest.raises((InvalidInputError, AliasNotFoundError)):
            filled.deployments.update("churn-api", actor="b", **kwargs)
    assert filled.deployments.get("churn-api") == before
    assert len(filled.deployments.history("churn-api")) == 1


def test_rollback_returns_to_the_previous_configuration_as_a_new_revision(filled: Store) -> None:
    deployments = filled.deployments
    first = deployments.create("churn-api", "churn", routes={"champion": 100}, actor="ana")
    with pytest.raises(NothingToRollBackError):
        deployments.rollback("churn-api", actor="ana")
    canary = deployments.update("churn-api", actor="bo", routes=SPLIT, shadows=["candidate"])
    back = deployments.rollback("churn-api", actor="cy")
    assert back.revision == 3
    assert (back.routes, back.shadows) == (first.routes, first.shadows)
    assert back.updated_by == "cy"
    # Rolling back again undoes the rollback, as `kubectl rollout undo` does.
    again = deployments.rollback("churn-api", actor="cy")
    assert (again.revision, again.routes, again.shadows) == (4, canary.routes, canary.shadows)
    pinned = deployments.rollback("churn-api", actor="dee", to_revision=1)
    assert (pinned.revision, pinned.routes) == (5, first.routes)
    history = deployments.history("churn-api")
    assert [(h.revision, h.action, h.actor, h.restored_from) for h in history] == [
        (1, "create", "ana", None),
        (2, "update", "bo", None),
        (3, "rollback", "cy", 1),
        (4, "rollback", "cy", 2),
        (5, "rollback", "dee", 1),
    ]
    assert history[1].routes == canary.routes
    assert history[1].shadows == (Target(alias="candidate"),)
    events = filled.audit.list(entity=("deployment", "churn-api"))
    assert [e.details.get("restored_from") for e in events] == [None, None, 1, 2, 1]
    assert filled.audit.verify().is_intact


def test_rollback_to_a_missing_revision_or_a_vanished_alias_changes_nothing(
    filled: Store,
) -> None:
    deployments = filled.deployments
    deployments.create("churn-api", "churn", routes={"candidate": 100}, actor="a")
    current = deployments.update("churn-api", actor="a", routes={"champion": 100})
    for revision in (0, 3, 99):
        with pytest.raises(DeploymentRevisionNotFoundError):
            deployments.rollback("churn-api", actor="a", to_revision=revision)
    with pytest.raises(InvalidInputError):
        deployments.rollback("churn-api", actor="a", to_revision="2")  # type: ignore[arg-type]
    filled.registry.delete_alias("churn", "candidate", actor="a")
    with pytest.raises(AliasNotFoundError) as caught:
        deployments.rollback("churn-api", actor="a")
    assert "churn-api" in " ".join(getattr(caught.value, "__notes__", []))
    assert deployments.get("churn-api") == current
    assert len(deployments.history("churn-api")) == 2


def test_concurrent_updates_get_consecutive_revisions(filled: Store) -> None:
    filled.deployments.create("churn-api", "churn", routes={"champion": 100}, actor="a")
    errors: list[BaseException] = []

    def change(worker: int) -> None:
        try:
            for step in range(5):
                filled.deployments.update(
                    "churn-api", actor=f"w{worker}", description=f"{worker}.{step}"
                )
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=change, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    history = filled.deployments.history("churn-api")
    assert [h.revision for h in history] == list(range(1, 22))
    assert filled.deployments.get("churn-api").revision == 21


def test_a_rollback_from_a_named_revision_is_applied_once(filled: Store) -> None:
    deployments = filled.deployments
    deployments.create("churn-api", "churn", routes={"champion": 100}, actor="a")
    deployments.update("churn-api", actor="a", routes=SPLIT)
    back = deployments.rollback("churn-api", actor="a", from_revision=2)
    assert back.revision == 3
    # The same request again (its answer was lost) changes nothing.
    assert deployments.rollback("churn-api", actor="a", from_revision=2) == back
    deployments.update("churn-api", actor="b", description="moved on")
    with pytest.raises(InvalidStateError):
        deployments.rollback("churn-api", actor="a", from_revision=2)
    assert deployments.get("churn-api").revision == 4


def test_the_registry_keeps_what_a_deployment_serves(filled: Store) -> None:
    filled.deployments.create(
        "churn-api", "churn", routes={"champion": 90, "2": 10}, actor="a", shadows=["candidate"]
    )
    refusals: list[Callable[[], object]] = [
        lambda: filled.registry.delete_alias("churn", "champion", actor="a"),
        lambda: filled.registry.delete_alias("churn", "candidate", actor="a"),
        lambda: filled.registry.delete_version("churn", 2, actor="a", force=True),
        # Version 1 is pinned by no route, but `force` would delete its alias champion.
        lambda: filled.registry.delete_version("churn", 1, actor="a", force=True),
        lambda: filled.registry.delete_model("churn", actor="a", force=True),
    ]
    events = len(filled.audit.list())
    for refused in refusals:
        with pytest.raises(TargetInUseError) as caught:
            refused()
        assert caught.value.name == "churn"
        assert "churn-api" in caught.value.message
    assert len(filled.audit.list()) == events
    assert filled.registry.get_model("churn").aliases == {
        "champion": 1,
        "challenger": 2,
        "candidate": 3,
    }
    # Unused targets go as before; once the deployment moves on, so do the others.
    filled.registry.delete_alias("churn", "challenger", actor="a")
    filled.deployments.update("churn-api", actor="a", routes={"3": 100}, shadows=[])
    filled.registry.delete_alias("churn", "champion", actor="a")
    filled.registry.delete_version("churn", 2, actor="a")
    filled.registry.delete_model("fraud", actor="a")
    assert filled.registry.find_model("fraud") is None


def test_a_deleted_deployment_is_gone_but_its_story_stays_in_the_audit_log(
    filled: Store,
) -> None:
    filled.deployments.create("churn-api", "churn", routes=SPLIT, actor="ana")
    filled.deployments.update("churn-api", actor="ana", routes={"champion": 100})
    filled.deployments.delete("churn-api", actor="bo")
    assert filled.deployments.find("churn-api") is None
    with pytest.raises(DeploymentNotFoundError):
        filled.deployments.history("churn-api")
    with pytest.raises(DeploymentNotFoundError):
        filled.deployments.delete("churn-api", actor="bo")
    assert _deployment_events(filled)[-1] == ("deployment.delete", "churn-api", "bo")
    # Nothing serves the model any more; the name starts over at revision 1.
    filled.registry.delete_alias("churn", "champion", actor="a")
    again = filled.deployments.create("churn-api", "churn", routes={"2": 100}, actor="cy")
    assert again.revision == 1
    assert [h.revision for h in filled.deployments.history("churn-api")] == [1]
