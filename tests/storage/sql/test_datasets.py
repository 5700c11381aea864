"""The SQL dataset store on SQLite and PostgreSQL: versions, manifests, aliases, lineage."""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest

from mloop.entities import RunInput
from mloop.entities.datasets import ColumnType, DatasetKind, ManifestEntry, NewVersion
from mloop.errors import (
    DatasetNotFoundError,
    DatasetVersionNotFoundError,
    InvalidInputError,
)
from mloop.storage.sql.store import SqlStore
from tests.storage.sql.rows import scalar

_SPAWN = multiprocessing.get_context("spawn")


def _new(*files: tuple[str, str, int], digest: str | None = None, **extra: Any) -> NewVersion:
    entries = tuple(ManifestEntry(p, d, s) for p, d, s in files)
    return NewVersion(
        digest=digest or (files[0][1] if files else "0" * 64),
        kind=extra.pop("kind", DatasetKind.FOLDER),
        files=entries,
        **extra,
    )


A, B, C = "a" * 64, "b" * 64, "c" * 64


def test_versions_number_up_and_unchanged_content_returns_the_latest(store: SqlStore) -> None:
    first, created = store.datasets.commit_version(
        "sales", _new(("x.csv", A, 3), ("d/y.csv", B, 4), digest=A, message="first")
    )
    assert created
    assert (first.version, first.file_count, first.total_size, first.message) == (1, 2, 7, "first")
    again, created = store.datasets.commit_version("sales", _new(("x.csv", A, 3), digest=A))
    assert not created
    assert again == first
    second, created = store.datasets.commit_version("sales", _new(("x.csv", C, 5), digest=C))
    assert created
    assert second.version == 2
    assert second.uri == "datasets:/sales/2"
    assert store.datasets.get_latest("sales") == second
    assert [v.version for v in store.datasets.list_versions("sales")] == [1, 2]
    assert store.datasets.list_files("sales", 1) == [
        ManifestEntry("d/y.csv", B, 4),
        ManifestEntry("x.csv", A, 3),
    ]
    assert store.datasets.get("sales").latest_version == 2


def test_a_table_version_keeps_its_schema_and_row_count(store: SqlStore) -> None:
    columns = (ColumnType("id", "int64"), ColumnType("name", "string"))
    version, _ = store.datasets.commit_version(
        "t",
        _new(("data.parquet", A, 10), kind=DatasetKind.TABLE, row_count=42, columns=columns),
    )
    got = store.datasets.get_version("t", 1)
    assert got == version
    assert (got.kind, got.row_count, got.columns) == (DatasetKind.TABLE, 42, columns)


def test_description_and_tags_are_set_and_merged(store: SqlStore) -> None:
    store.datasets.commit_version("d", _new(("f", A, 1)), description="hi", tags={"team": "x"})
    store.datasets.commit_version("d", _new(("f", A, 1)), tags={"owner": "me"})
    dataset = store.datasets.get("d")
    assert dataset.description == "hi"
    assert dataset.tags == {"team": "x", "owner": "me"}
    assert [d.name for d in store.datasets.list()] == ["d"]


def test_aliases_point_move_and_go(store: SqlStore) -> None:
    store.datasets.commit_version("d", _new(("f", A, 1), digest=A))
    store.datasets.commit_version("d", _new(("f", B, 1), digest=B))
    store.datasets.set_alias("d", "prod", 1)
    assert store.datasets.get_by_alias("d", "prod").version == 1
    store.datasets.set_alias("d", "prod", 2)
    assert store.datasets.get_by_alias("d", "prod").digest == B
    assert store.datasets.get("d").aliases == {"prod": 2}
    store.datasets.delete_alias("d", "prod")
    with pytest.raises(DatasetVersionNotFoundError, match="@prod"):
        store.datasets.get_by_alias("d", "prod")
    with pytest.raises(DatasetVersionNotFoundError):
        store.datasets.delete_alias("d", "prod")
    with pytest.raises(DatasetVersionNotFoundError):
        store.datasets.set_alias("d", "prod", 9)
    with pytest.raises(InvalidInputError, match="alias"):
        store.datasets.set_alias("d", "latest", 1)


def test_unknown_names_and_versions_are_clear_errors(store: SqlStore) -> None:
    with pytest.raises(DatasetNotFoundError, match="mloop data list"):
        store.datasets.get("nope")
    with pytest.raises(DatasetNotFoundError):
        store.datasets.get_latest("nope")
    store.datasets.commit_version("d", _new(("f", A, 1)))
    with pytest.raises(DatasetVersionNotFoundError, match="no version '7'"):
        store.datasets.get_version("d", 7)
    with pytest.raises(DatasetVersionNotFoundError):
        store.datasets.list_files("d", 7)
    with pytest.raises(DatasetVersionNotFoundError):
        store.datasets.lineage("d", 7)


@pytest.mark.parametrize(
    ("name", "path"),
    [("bad/name", "f"), ("ok", "../escape"), ("ok", "/abs"), ("ok", "a//b"), ("@x", "f")],
)
def test_bad_names_and_paths_are_refused_and_change_nothing(
    store: SqlStore, name: str, path: str
) -> None:
    with pytest.raises(InvalidInputError):
        store.datasets.commit_version(name, _new((path, A, 1)))
    assert scalar(store, "SELECT count(*) FROM datasets") == 0


def test_find_by_digest_and_referenced_digests(store: SqlStore) -> None:
    store.datasets.commit_version("one", _new(("f", A, 1), ("g", B, 1), digest=C))
    store.datasets.commit_version("two", _new(("f", A, 1), ("g", B, 1), digest=C))
    assert [(v.name, v.version) for v in store.datasets.find_by_digest(C)] == [
        ("one", 1),
        ("two", 1),
    ]
    assert store.datasets.find_by_digest(A) == []
    assert store.datasets.referenced_digests() == {A, B}


def test_lineage_lists_active_runs_that_logged_the_version(store: SqlStore) -> None:
    experiment = store.experiments.create("e")
    version, _ = store.datasets.commit_version("d", _new(("f", A, 1), digest=C))
    used = store.runs.create(experiment.experiment_id, run_name="train")
    other = store.runs.create(experiment.experiment_id, run_name="other")
    deleted = store.runs.create(experiment.experiment_id, run_name="gone")
    store.runs.log_inputs(used.run_id, [RunInput("d", C, version.uri, "training")])
    store.runs.log_inputs(other.run_id, [RunInput("elsewhere", C, "", "training")])
    store.runs.log_inputs(deleted.run_id, [RunInput("d", C, version.uri, "training")])
    store.runs.delete(deleted.run_id, actor="test")
    lineage = store.datasets.lineage("d", 1)
    assert [(r.run_id, r.run_name, r.context) for r in lineage] == [
        (used.run_id, "train", "training")
    ]
    assert lineage[0].experiment_id == experiment.experiment_id


def _commit_many(url: str, root: str, writer: int, count: int, results: Any) -> None:
    store = SqlStore(url, artifact_root=root)
    try:
        numbers = []
        for i in range(count):
            digest = f"{writer:02d}{i:062d}"
            version, created = store.datasets.commit_version(
                "shared", _new(("f", digest, 1), digest=digest)
            )
            numbers.append(version.version if created else -1)
        results.put(numbers)
    except Exception as exc:  # noqa: BLE001  # pragma: no cover - reported to the parent
        results.put(repr(exc))
    finally:
        store.close()


@pytest.mark.slow
def test_concurrent_processes_get_distinct_consecutive_versions(
    store: SqlStore, store_url: str, artifact_root: str
) -> None:
    results = _SPAWN.Queue()
    processes = [
        _SPAWN.Process(target=_commit_many, args=(store_url, artifact_root, w, 15, results))
        for w in range(3)
    ]
    for process in processes:
        process.start()
    collected = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    numbers = sorted(n for got in collected for n in got)
    assert numbers == list(range(1, 46)), collected
    assert store.datasets.get("shared").latest_version == 45
