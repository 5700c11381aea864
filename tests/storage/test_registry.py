"""The SQL model registry on SQLite and PostgreSQL: models, versions, aliases, approvals, audit."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mloop.entities import RunInput
from mloop.errors import (
    AliasInUseError,
    AliasNotFoundError,
    InvalidInputError,
    ModelAlreadyExistsError,
    ModelNotFoundError,
    ModelVersionNotFoundError,
    ProtectedAliasError,
    RunNotFoundError,
)
from mloop.storage.sql.store import SqlStore
from tests.storage.sql.rows import execute, scalar

SIGNATURE = {"inputs": [{"name": "x", "type": "double"}], "method": "predict_proba"}


def _run(store: SqlStore) -> str:
    run = store.runs.create("0", run_name="train")
    store.runs.log_inputs(
        run.run_id, [RunInput("customers", "abc123", "datasets:/customers/1", "training")]
    )
    return run.run_id


def _audit(store: SqlStore) -> list[tuple[str, str, str]]:
    return [(e.action, e.entity_type, e.entity_id) for e in store.audit.list()]


def test_registering_creates_the_model_and_numbers_versions(store: SqlStore) -> None:
    run_id = _run(store)
    first = store.registry.create_version(
        "churn",
        f"runs:/{run_id}/model",
        actor="ana",
        run_id=run_id,
        package_digest="sha256:aa",
        signature=SIGNATURE,
        description="first",
        tags={"team": "risk"},
    )
    second = store.registry.create_version("churn", "s3://bucket/m", actor="bo")
    assert (first.version, second.version) == (1, 2)
    assert first.run_id == run_id
    assert first.source == f"runs:/{run_id}/model"
    assert first.signature == SIGNATURE
    assert first.package_digest == "sha256:aa"
    assert first.tags == {"team": "risk"}
    assert first.user_id == "ana"
    assert first.datasets == (RunInput("customers", "abc123", "datasets:/customers/1", "training"),)
    assert first.uri == "models:/churn/1"
    assert not first.is_approved
    assert store.registry.get_version("churn", 1) == first
    model = store.registry.get_model("churn")
    assert model.latest_version == 2
    assert model.aliases == {}
    assert _audit(store) == [
        ("model.create", "model", "churn"),
        ("model_version.create", "model_version", "churn/1"),
        ("model_version.create", "model_version", "churn/2"),
    ]
    assert store.audit.verify().is_intact


def test_a_version_of_an_unknown_run_is_refused_and_nothing_changes(store: SqlStore) -> None:
    with pytest.raises(RunNotFoundError):
        store.registry.create_version("churn", "runs:/x/model", actor="a", run_id="f" * 32)
    assert store.registry.find_model("churn") is None
    assert store.audit.list() == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "a/b"}, "name"),
        ({"name": "x@y"}, "name"),
        ({"name": " lead"}, "name"),
        ({"source": ""}, "source"),
        ({"run_id": "nothex"}, "run_id"),
        ({"signature": {"bad": float("nan")}}, "signature"),
        ({"signature": ["not", "a", "dict"]}, "signature"),
        ({"tags": {"bad key!": "v"}}, "bad key!"),
        ({"description": "x" * 5001}, "description"),
        ({"package_digest": "d" * 200}, "package_digest"),
    ],
)
def test_malformed_versions_are_refused_with_the_field(
    store: SqlStore, kwargs: dict[str, object], field: str
) -> None:
    args: dict[str, object] = {"name": "churn", "source": "s3://b/m", **kwargs}
    with pytest.raises(InvalidInputError) as caught:
        store.registry.create_version(
            args.pop("name"),  # type: ignore[arg-type]
            args.pop("source"),  # type: ignore[arg-type]
            actor="a",
            **args,  # type: ignore[arg-type]
        )
    assert caught.value.field == field
    assert scalar(store, "SELECT count(*) FROM registered_models") == 0


def test_models_are_created_described_tagged_and_deleted(store: SqlStore) -> None:
    created = store.registry.create_model("fraud", actor="a", description="d", tags={"t": "1"})
    assert (created.name, created.description, created.tags) == ("fraud", "d", {"t": "1"})
    with pytest.raises(ModelAlreadyExistsError):
        store.registry.create_model("fraud", actor="a")
    assert store.registry.update_model("fraud", actor="a", description="new").description == "new"
    store.registry.set_tag("fraud", "owner", "ops", actor="a")
    store.registry.delete_tag("fraud", "t", actor="a")
    store.registry.delete_tag("fraud", "never-set", actor="a")  # no change, no event
    assert store.registry.get_model("fraud").tags == {"owner": "ops"}
    store.registry.delete_model("fraud", actor="a")
    assert store.registry.find_model("fraud") is None
    with pytest.raises(ModelNotFoundError) as caught:
        store.registry.get_model("fraud")
    assert "mloop models list" in str(caught.value)
    assert [a for a, _, _ in _audit(store)] == [
        "model.create",
        "model.update",
        "model.tag.set",
        "model.tag.delete",
        "model.delete",
    ]


def test_version_tags_and_descriptions(store: SqlStore) -> None:
    store.registry.create_version("churn", "s3://b/m", actor="a")
    store.registry.set_tag("churn", "stage", "qa", actor="a", version=1)
    updated = store.registry.update_version("churn", 1, actor="a", description="tuned")
    assert (updated.tags, updated.description) == ({"stage": "qa"}, "tuned")
    store.registry.delete_tag("churn", "stage", actor="a", version=1)
    assert store.registry.get_version("churn", 1).tags == {}
    assert store.registry.get_model("churn").tags == {}
    with pytest.raises(ModelVersionNotFoundError):
        store.registry.set_tag("churn", "k", "v", actor="a", version=9)
    assert ("model_version.tag.delete", "model_version", "churn/1") in _audit(store)


def test_aliases_resolve_move_and_are_deleted(store: SqlStore) -> None:
    for _ in range(3):
        store.registry.create_version("churn", "s3://b/m", actor="a")
    store.registry.set_alias("churn", "champion", 1, actor="a")
    assert store.registry.get_version_by_alias("churn", "champion").version == 1
    store.registry.set_alias("churn", "champion", 2, actor="b")
    assert store.registry.get_version_by_alias("churn", "champion").version == 2
    assert store.registry.get_model("churn").aliases == {"champion": 2}
    assert store.registry.get_version("churn", 2).aliases == ("champion",)
    assert store.registry.get_version("churn", 1).aliases == ()
    assert store.registry.get_latest_version("churn").version == 3
    moved = [e for e in store.audit.list() if e.action == "model.alias.set"]
    assert [e.details for e in moved] == [
        {"alias": "champion", "version": 1, "previous": None},
        {"alias": "champion", "version": 2, "previous": 1},
    ]
    store.registry.delete_alias("churn", "champion", actor="a")
    with pytest.raises(AliasNotFoundError) as caught:
        store.registry.get_version_by_alias("churn", "champion")
    assert "mloop models alias set churn champion" in str(caught.value)
    with pytest.raises(AliasNotFoundError):
        store.registry.delete_alias("churn", "champion", actor="a")


@pytest.mark.parametrize("alias", ["latest", "3", "with space", "a/b", ""])
def test_malformed_aliases_are_refused(store: SqlStore, alias: str) -> None:
    store.registry.create_version("churn", "s3://b/m", actor="a")
    with pytest.raises(InvalidInputError):
        store.registry.set_alias("churn", alias, 1, actor="a")
    assert store.registry.get_model("churn").aliases == {}


def test_alias_on_a_missing_version_fails_and_changes_nothing(store: SqlStore) -> None:
    store.registry.create_version("churn", "s3://b/m", actor="a")
    with pytest.raises(ModelVersionNotFoundError):
        store.registry.set_alias("churn", "champion", 5, actor="a")
    with pytest.raises(ModelNotFoundError):
        store.registry.set_alias("nope", "champion", 1, actor="a")
    assert store.registry.get_model("churn").aliases == {}


def test_latest_of_a_model_without_versions(store: SqlStore) -> None:
    store.registry.create_model("empty", actor="a")
    with pytest.raises(ModelVersionNotFoundError):
        store.registry.get_latest_version("empty")


def test_a_version_holding_an_alias_needs_force_to_delete(store: SqlStore) -> None:
    store.registry.create_version("churn", "s3://b/m", actor="a")
    store.registry.create_version("churn", "s3://b/m", actor="a")
    store.registry.set_alias("churn", "champion", 1, actor="a")
    with pytest.raises(AliasInUseError) as caught:
        store.registry.delete_version("churn", 1, actor="a")
    assert "'champion'" in str(caught.value)
    assert "--force" in str(caught.value)
    assert store.registry.get_version("churn", 1).aliases == ("champion",)
    store.registry.delete_version("churn", 1, actor="a", force=True)
    with pytest.raises(ModelVersionNotFoundError):
        store.registry.get_version("churn", 1)
    assert store.registry.get_model("churn").aliases == {}
    # numbers are never reused
    assert store.registry.create_version("churn", "s3://b/m", actor="a").version == 3
    deleted = [e for e in store.audit.list() if e.action == "model_version.delete"]
    assert deleted[0].details == {"aliases_removed": ["champion"]}


def test_a_model_with_aliases_needs_force_to_delete(store: SqlStore) -> None:
    store.registry.create_version("churn", "s3://b/m", actor="a")
    store.registry.set_alias("churn", "champion", 1, actor="a")
    store.registry.set_tag("churn", "k", "v", actor="a", version=1)
    store.registry.approve("churn", 1, actor="a")
    with pytest.raises(AliasInUseError):
        store.registry.delete_model("churn", actor="a")
    store.registry.delete_model("churn", actor="a", force=True)
    for table in ("model_versions", "model_aliases", "model_version_tags", "model_approvals"):
        assert scalar(store, f"SELECT count(*) FROM {table}") == 0
    assert store.audit.verify().is_intact


def test_approvals_record_who_when_and_why(store: SqlStore) -> None:
    store.registry.create_version("churn", "s3://b/m", actor="a")
    approval = store.registry.approve("churn", 1, actor="lead", comment="AUC ok")
    version = store.registry.get_version("churn", 1)
    assert version.approvals == (approval,)
    assert version.is_approved
    assert (approval.actor, approval.comment) == ("lead", "AUC ok")
    assert approval.at_ms > 0
    event = store.audit.list()[-1]
    assert (event.action, event.actor, event.details) == (
        "model_version.approve",
        "lead",
        {"comment": "AUC ok"},
    )
    with pytest.raises(InvalidInputError):
        store.registry.approve("churn", 1, actor=" ")
    with pytest.raises(ModelVersionNotFoundError):
        store.registry.approve("churn", 2, actor="lead")


def test_protected_aliases_need_an_approved_version(store: SqlStore) -> None:
    store.registry.create_version("churn", "s3://b/m", actor="a")
    store.registry.create_version("churn", "s3://b/m", actor="a")
    store.registry.set_alias_protection("churn", "champion", actor="admin")
    assert store.registry.get_model("churn").protected_aliases == ("champion",)
    with pytest.raises(ProtectedAliasError) as caught:
        store.registry.set_alias("churn", "champion", 2, actor="a")
    assert "mloop models approve churn/2" in str(caught.value)
    assert store.registry.get_model("churn").aliases == {}
    store.registry.approve("churn", 2, actor="lead")
    store.registry.set_alias("churn", "champion", 2, actor="a")
    # other aliases are not protected
    store.registry.set_alias("churn", "challenger", 1, actor="a")
    store.registry.set_alias_protection("churn", "champion", actor="admin", protected=False)
    store.registry.set_alias("churn", "champion", 1, actor="a")
    assert store.registry.get_model("churn").aliases == {"champion": 1, "challenger": 1}
    actions = [a for a, _, _ in _audit(store)]
    assert actions.count("model.alias.protect") == 1
    assert actions.count("model.alias.unprotect") == 1


def test_version_numbers_accept_decimal_strings_but_not_junk(store: SqlStore) -> None:
    store.registry.create_version("churn", "s3://b/m", actor="a")
    assert store.registry.get_version("churn", "1").version == 1  # type: ignore[arg-type]
    for bad in (0, -1, "x", True, 1.5):
        with pytest.raises(InvalidInputError):
            store.registry.get_version("churn", bad)  # type: ignore[arg-type]


def test_every_mutation_is_audited_in_a_verifiable_chain(store: SqlStore) -> None:
    store.registry.create_version("churn", "s3://b/m", actor="a")
    store.registry.approve("churn", 1, actor="b")
    store.registry.set_alias("churn", "champion", 1, actor="c")
    store.registry.update_version("churn", 1, actor="d", description="x")
    store.registry.delete_alias("churn", "champion", actor="e")
    store.registry.delete_version("churn", 1, actor="f")
    events = store.audit.list()
    assert [e.actor for e in events] == ["a", "a", "b", "c", "d", "e", "f"]
    result = store.audit.verify()
    assert result.is_intact
    assert result.checked == len(events)


def test_refused_changes_record_nothing(store: SqlStore) -> None:
    store.registry.create_version("churn", "s3://b/m", actor="a")
    store.registry.set_alias("churn", "challenger", 1, actor="a")
    store.registry.set_alias_protection("churn", "champion", actor="a")
    before = len(store.audit.list())
    refused: list[Callable[[], object]] = [
        lambda: store.registry.set_alias("churn", "champion", 1, actor="a"),
        lambda: store.registry.delete_version("churn", 1, actor="a"),
        lambda: store.registry.delete_model("churn", actor="a"),
        lambda: store.registry.delete_alias("churn", "nope", actor="a"),
        lambda: store.registry.create_model("churn", actor="a"),
        lambda: store.registry.update_version("churn", 7, actor="a", description="x"),
        lambda: store.registry.set_tag("churn", "k", "v" * 8001, actor="a"),
    ]
    for attempt in refused:
        with pytest.raises(
            (
                InvalidInputError,
                ProtectedAliasError,
                AliasInUseError,
                AliasNotFoundError,
                ModelAlreadyExistsError,
                ModelVersionNotFoundError,
            )
        ):
            attempt()
    assert len(store.audit.list()) == before
    assert store.registry.get_model("churn").aliases == {"challenger": 1}
    assert store.registry.get_version("churn", 1).tags == {}


def test_tampering_with_a_registry_event_is_detected(store: SqlStore) -> None:
    store.registry.create_version("churn", "s3://b/m", actor="a")
    store.registry.approve("churn", 1, actor="lead", comment="ok")
    store.registry.set_alias("churn", "champion", 1, actor="lead")
    approval = next(e for e in store.audit.list() if e.action == "model_version.approve")
    execute(
        store,
        "UPDATE audit_events SET details = :d WHERE seq = :s",
        d='{"comment": "rubber stamp"}',
        s=approval.seq,
    )
    result = store.audit.verify()
    assert not result.is_intact
    assert result.first_bad_seq == approval.seq


def test_a_renamed_model_keeps_its_versions_tags_aliases_and_approvals(store: SqlStore) -> None:
    for _ in range(2):
        store.registry.create_version("churn", "s3://b/m", actor="a", tags={"k": "v"})
    store.registry.set_tag("churn", "team", "ml", actor="a")
    store.registry.approve("churn", 2, actor="boss", comment="ok")
    store.registry.set_alias_protection("churn", "champion", actor="admin")
    store.registry.set_alias("churn", "champion", 2, actor="a")
    store.registry.create_model("taken", actor="a")
    with pytest.raises(ModelAlreadyExistsError):
        store.registry.rename_model("churn", "taken", actor="a")
    with pytest.raises(InvalidInputError):
        store.registry.rename_model("churn", "bad/name", actor="a")
    with pytest.raises(ModelNotFoundError):
        store.registry.rename_model("nope", "other", actor="a")
    assert store.registry.get_model("churn").aliases == {"champion": 2}  # nothing changed
    renamed = store.registry.rename_model("churn", "churn-v2", actor="renamer")
    assert renamed.name == "churn-v2"
    assert (renamed.tags, renamed.aliases) == ({"team": "ml"}, {"champion": 2})
    assert store.registry.find_model("churn") is None
    champion = store.registry.get_version_by_alias("churn-v2", "champion")
    assert (champion.name, champion.version, champion.tags) == ("churn-v2", 2, {"k": "v"})
    assert [a.actor for a in champion.approvals] == ["boss"]
    assert [v.version for v in store.registry.search_versions("name = 'churn-v2'")] == [2, 1]
    # Still protected under the new name; numbering continues.
    assert store.registry.create_version("churn-v2", "s3://b/m", actor="a").version == 3
    with pytest.raises(ProtectedAliasError):
        store.registry.set_alias("churn-v2", "champion", 3, actor="a")
    renames = [e for e in store.audit.list() if e.action == "model.rename"]
    assert [(e.actor, e.entity_id, e.details) for e in renames] == [
        ("renamer", "churn", {"new_name": "churn-v2"})
    ]
