"""The experiment store contract, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mloop.entities import LifecycleStage
from mloop.errors import (
    ExperimentAlreadyExistsError,
    ExperimentNotFoundError,
    InvalidInputError,
    NotFoundError,
)
from mloop.storage.sql.store import SqlStore


def _names(store: SqlStore, *, include_deleted: bool = False) -> list[str]:
    return [e.name for e in store.experiments.list(include_deleted=include_deleted)]


def test_a_fresh_store_has_the_default_experiment_with_id_0(
    store: SqlStore, artifact_root: str
) -> None:
    default = store.experiments.get("0")
    assert default.name == "Default"
    assert default.lifecycle_stage is LifecycleStage.ACTIVE
    assert default.artifact_location == f"{artifact_root}/0"
    assert store.experiments.get_by_name("Default") == default
    assert _names(store) == ["Default"]


def test_create_assigns_a_new_id_and_an_artifact_location_under_the_root(
    store: SqlStore, artifact_root: str
) -> None:
    created = store.experiments.create("churn", tags={"team": "growth"})
    assert created.experiment_id not in ("", "0")
    assert created.experiment_id.isdigit()
    assert created.artifact_location == f"{artifact_root}/{created.experiment_id}"
    assert created.tags == {"team": "growth"}
    assert created.created_at_ms > 0
    assert store.experiments.get(created.experiment_id) == created


def test_create_keeps_an_explicit_artifact_location(store: SqlStore) -> None:
    created = store.experiments.create("s3", artifact_location="s3://bucket/prefix")
    assert store.experiments.get(created.experiment_id).artifact_location == "s3://bucket/prefix"


def test_ids_are_distinct_and_list_is_ordered_by_id(store: SqlStore) -> None:
    ids = [store.experiments.create(name).experiment_id for name in ("b", "a", "c")]
    assert len(set(ids)) == 3
    listed = store.experiments.list()
    assert [e.name for e in listed] == ["Default", "b", "a", "c"]
    assert [int(e.experiment_id) for e in listed] == sorted(int(e.experiment_id) for e in listed)


def test_find_by_name_returns_none_and_get_by_name_raises_when_missing(store: SqlStore) -> None:
    assert store.experiments.find_by_name("nope") is None
    with pytest.raises(ExperimentNotFoundError) as caught:
        store.experiments.get_by_name("nope")
    assert caught.value.experiment == "nope"


def test_get_of_an_unknown_id_raises_not_found(store: SqlStore) -> None:
    with pytest.raises(ExperimentNotFoundError):
        store.experiments.get("987654")


def test_duplicate_name_is_refused(store: SqlStore) -> None:
    store.experiments.create("dup")
    with pytest.raises(ExperimentAlreadyExistsError, match="dup"):
        store.experiments.create("dup")
    assert _names(store).count("dup") == 1


def test_name_of_a_deleted_experiment_stays_taken(store: SqlStore) -> None:
    created = store.experiments.create("gone")
    store.experiments.delete(created.experiment_id)
    with pytest.raises(ExperimentAlreadyExistsError, match="deleted"):
        store.experiments.create("gone")
    other = store.experiments.create("other")
    with pytest.raises(ExperimentAlreadyExistsError):
        store.experiments.rename(other.experiment_id, "gone")
    assert store.experiments.get(other.experiment_id).name == "other"


def test_names_are_case_sensitive(store: SqlStore) -> None:
    store.experiments.create("Model")
    store.experiments.create("model")
    assert {"Model", "model"} <= set(_names(store))


def test_rename_changes_the_name_and_frees_the_old_one(store: SqlStore) -> None:
    created = store.experiments.create("old")
    renamed = store.experiments.rename(created.experiment_id, "new")
    assert renamed.name == "new"
    assert renamed.experiment_id == created.experiment_id
    assert renamed.updated_at_ms >= created.updated_at_ms
    assert store.experiments.find_by_name("old") is None
    store.experiments.create("old")


def test_rename_to_its_own_name_is_allowed(store: SqlStore) -> None:
    created = store.experiments.create("same")
    assert store.experiments.rename(created.experiment_id, "same").name == "same"


def test_rename_of_an_unknown_experiment_raises_not_found(store: SqlStore) -> None:
    with pytest.raises(ExperimentNotFoundError):
        store.experiments.rename("4242", "x")


def test_delete_hides_from_list_and_restore_brings_back(store: SqlStore) -> None:
    created = store.experiments.create("soft")
    store.experiments.delete(created.experiment_id)
    assert "soft" not in _names(store)
    assert "soft" in _names(store, include_deleted=True)
    deleted = store.experiments.get(created.experiment_id)
    assert deleted.lifecycle_stage is LifecycleStage.DELETED
    assert store.experiments.get_by_name("soft").lifecycle_stage is LifecycleStage.DELETED
    store.experiments.restore(created.experiment_id)
    assert store.experiments.get(created.experiment_id).lifecycle_stage is LifecycleStage.ACTIVE
    assert "soft" in _names(store)


def test_delete_and_restore_of_an_unknown_experiment_raise_not_found(store: SqlStore) -> None:
    with pytest.raises(ExperimentNotFoundError):
        store.experiments.delete("777")
    with pytest.raises(ExperimentNotFoundError):
        store.experiments.restore("777")


def test_set_tag_adds_and_overwrites(store: SqlStore) -> None:
    created = store.experiments.create("tagged")
    store.experiments.set_tag(created.experiment_id, "owner", "alice")
    store.experiments.set_tag(created.experiment_id, "stage", "dev")
    store.experiments.set_tag(created.experiment_id, "owner", "bob")
    assert store.experiments.get(created.experiment_id).tags == {"owner": "bob", "stage": "dev"}
    assert store.experiments.get("0").tags == {}


def test_set_tag_on_an_unknown_experiment_raises_not_found(store: SqlStore) -> None:
    with pytest.raises(ExperimentNotFoundError):
        store.experiments.set_tag("555", "k", "v")


@pytest.mark.parametrize("bad_id", ["abc", "", "1.5", "-1", " 0", "1_0", "+0", "9" * 30])
def test_malformed_ids_are_invalid_input(store: SqlStore, bad_id: str) -> None:
    calls: tuple[Callable[[], object], ...] = (
        lambda: store.experiments.get(bad_id),
        lambda: store.experiments.rename(bad_id, "x"),
        lambda: store.experiments.delete(bad_id),
        lambda: store.experiments.restore(bad_id),
        lambda: store.experiments.set_tag(bad_id, "k", "v"),
    )
    for call in calls:
        with pytest.raises(InvalidInputError) as caught:
            call()
        assert caught.value.field == "experiment_id"
    assert _names(store, include_deleted=True) == ["Default"]


@pytest.mark.parametrize("bad_name", ["", "   ", "x" * 251, "line\nbreak"])
def test_invalid_names_change_nothing(store: SqlStore, bad_name: str) -> None:
    with pytest.raises(InvalidInputError):
        store.experiments.create(bad_name)
    created = store.experiments.create("keep")
    with pytest.raises(InvalidInputError):
        store.experiments.rename(created.experiment_id, bad_name)
    assert _names(store, include_deleted=True) == ["Default", "keep"]


def test_invalid_tags_change_nothing(store: SqlStore) -> None:
    with pytest.raises(InvalidInputError):
        store.experiments.create("t", tags={"ok": "v", "bad;key": "v"})
    assert store.experiments.find_by_name("t") is None
    created = store.experiments.create("t")
    with pytest.raises(InvalidInputError):
        store.experiments.set_tag(created.experiment_id, "k", "v" * 8001)
    with pytest.raises(InvalidInputError):
        store.experiments.set_tag(created.experiment_id, "/abs", "v")
    assert store.experiments.get(created.experiment_id).tags == {}


def test_long_tag_values_and_unicode_names_round_trip(store: SqlStore) -> None:
    created = store.experiments.create("modèle 🚀", tags={"note": "ü" * 8000})
    again = store.experiments.get_by_name("modèle 🚀")
    assert again.experiment_id == created.experiment_id
    assert again.tags["note"] == "ü" * 8000


def test_a_second_store_on_the_same_database_sees_the_same_experiments(
    store: SqlStore, store_url: str, artifact_root: str
) -> None:
    created = store.experiments.create("shared")
    other = SqlStore(store_url, artifact_root=artifact_root)
    try:
        assert other.experiments.get_by_name("shared") == created
        assert [e.name for e in other.experiments.list()] == ["Default", "shared"]
    finally:
        other.close()


def test_an_artifact_location_past_its_column_or_with_nul_is_bad_input(store: SqlStore) -> None:
    for location in ("s3://bucket/" + "x" * 900, "s3://bucket/a\x00b"):
        with pytest.raises(InvalidInputError) as caught:
            store.experiments.create("too-long", artifact_location=location)
        assert caught.value.field == "artifact_location"
    assert "too-long" not in _names(store, include_deleted=True)
    longest = "s3://b/" + "x" * 893
    created = store.experiments.create("longest", artifact_location=longest)
    assert created.artifact_location == longest


def test_experiment_tags_are_deleted_one_key_at_a_time(store: SqlStore) -> None:
    experiment = store.experiments.create("tagged", tags={"team": "ml", "stage": "dev"})
    store.experiments.delete_tag(experiment.experiment_id, "stage")
    assert store.experiments.get(experiment.experiment_id).tags == {"team": "ml"}
    with pytest.raises(NotFoundError, match="has no tag 'stage'"):
        store.experiments.delete_tag(experiment.experiment_id, "stage")
    with pytest.raises(ExperimentNotFoundError):
        store.experiments.delete_tag("424242", "team")
    with pytest.raises(InvalidInputError):
        store.experiments.delete_tag(experiment.experiment_id, "bad\x00key")
    assert store.experiments.get(experiment.experiment_id).tags == {"team": "ml"}
