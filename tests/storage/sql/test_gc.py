"""Garbage collection on SQLite and PostgreSQL: purging old deleted runs, then unused blobs."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from mloop.artifacts import open_blob_store
from mloop.entities import Metric, Param
from mloop.entities.datasets import DatasetKind, ManifestEntry, NewVersion
from mloop.errors import InvalidInputError, RunNotFoundError
from mloop.storage.sql.gc import collect_garbage, reference_columns
from mloop.storage.sql.store import SqlStore
from tests.conftest import S3Server
from tests.storage.sql.rows import scalar

HOUR_S = 3600.0


def _later(hours: float) -> float:
    return time.time() + hours * HOUR_S


def _run_with_artifacts(store: SqlStore, *payloads: bytes) -> str:
    run = store.runs.create("0", run_name="r")
    store.runs.log_batch(
        run.run_id, metrics=[Metric("loss", 0.5, 0, 0)], params=[Param("lr", "0.1")]
    )
    for i, payload in enumerate(payloads):
        store.artifacts.write_bytes(run.run_id, f"f{i}.bin", payload)
    return run.run_id


def _digest(store: SqlStore, run_id: str, path: str) -> str:
    return store.artifacts.get(run_id, path).digest


def test_old_deleted_runs_are_purged_with_their_rows_and_only_their_blobs(
    store: SqlStore,
) -> None:
    shared, only_gone = os.urandom(300_000), os.urandom(300_000)
    kept = _run_with_artifacts(store, shared, b"kept only")
    gone = _run_with_artifacts(store, shared, only_gone)
    gone_blob = _digest(store, gone, "f1.bin")
    store.runs.delete(gone, actor="alice")
    time.sleep(0.01)

    report = collect_garbage(
        store.engine,
        store.artifacts.blobs,
        retention_days=0,
        grace_hours=1,
        clock=lambda: _later(2),
    )

    assert report.purged_runs == [gone]
    assert report.deleted_blobs == [gone_blob]
    assert report.freed_bytes == len(only_gone)
    with pytest.raises(RunNotFoundError):
        store.runs.get(gone)
    assert store.artifacts.list_files(gone) == []
    for table in ("params", "metric_chunks", "latest_metrics"):
        assert scalar(store, f"SELECT count(*) FROM {table}") == 1  # the kept run's only
    assert not store.artifacts.blobs.has(gone_blob)
    assert store.artifacts.read_bytes(kept, "f0.bin") == shared
    assert store.artifacts.read_bytes(kept, "f1.bin") == b"kept only"
    # The purge and the blob deletion are in the audit log.
    (event,) = [e for e in store.audit.list(entity=("run", gone)) if e.action == "run.purge"]
    assert event.details == {"artifact_files": 2}
    (blobs_event,) = [e for e in store.audit.list() if e.action == "blobs.gc"]
    assert blobs_event.details == {"deleted": 1, "freed_bytes": len(only_gone)}
    assert store.audit.verify().is_intact


def test_runs_deleted_within_the_retention_stay(store: SqlStore) -> None:
    recent = _run_with_artifacts(store, b"recent")
    store.runs.delete(recent, actor="alice")
    report = collect_garbage(store.engine, store.artifacts.blobs, retention_days=1, grace_hours=0)
    assert report.purged_runs == []
    assert report.deleted_blobs == []
    assert store.artifacts.read_bytes(recent, "f0.bin") == b"recent"
    store.runs.restore(recent, actor="alice")  # still restorable


def test_young_unreferenced_blobs_survive_the_grace_period(store: SqlStore) -> None:
    orphan = store.artifacts.blobs.put_bytes(b"written, not yet referenced")
    report = collect_garbage(store.engine, store.artifacts.blobs, grace_hours=1)
    assert report.young_blobs == 1
    assert report.deleted_blobs == []
    assert store.artifacts.blobs.has(orphan.digest)
    later = collect_garbage(
        store.engine, store.artifacts.blobs, grace_hours=1, clock=lambda: _later(2)
    )
    assert later.deleted_blobs == [orphan.digest]
    assert not store.artifacts.blobs.has(orphan.digest)


def test_a_dry_run_lists_what_would_go_and_changes_nothing(store: SqlStore) -> None:
    gone = _run_with_artifacts(store, b"only in the deleted run")
    blob = _digest(store, gone, "f0.bin")
    store.runs.delete(gone, actor="alice")
    time.sleep(0.01)
    events = len(store.audit.list())

    dry = collect_garbage(
        store.engine,
        store.artifacts.blobs,
        retention_days=0,
        grace_hours=0,
        dry_run=True,
        clock=lambda: _later(1),
    )

    assert dry.dry_run
    assert dry.purged_runs == [gone]
    assert dry.deleted_blobs == [blob]  # counted as unreferenced once the run is purged
    assert store.runs.get(gone).run_id == gone
    assert store.artifacts.blobs.has(blob)
    assert len(store.audit.list()) == events
    real = collect_garbage(
        store.engine,
        store.artifacts.blobs,
        retention_days=0,
        grace_hours=0,
        clock=lambda: _later(1),
    )
    assert (real.purged_runs, real.deleted_blobs) == (dry.purged_runs, dry.deleted_blobs)


def test_datasets_logged_models_and_registered_versions_keep_what_they_reference(
    store: SqlStore,
) -> None:
    blobs = store.artifacts.blobs
    data = blobs.put_bytes(b"a dataset file")
    store.datasets.commit_version(
        "sales",
        NewVersion(
            digest=data.digest,
            kind=DatasetKind.FILE,
            files=(ManifestEntry("sales.csv", data.digest, data.size),),
        ),
    )
    model_file = store.artifacts.write_stream("m-" + "1" * 32, "model.bin", [b"logged model"])
    registered = _run_with_artifacts(store, b"registered model package")
    store.registry.create_model("churn", actor="alice")
    store.registry.create_version(
        "churn", f"runs:/{registered}/f0.bin", actor="alice", run_id=registered
    )
    store.runs.delete(registered, actor="alice")
    time.sleep(0.01)

    report = collect_garbage(
        store.engine, blobs, retention_days=0, grace_hours=0, clock=lambda: _later(1)
    )

    assert report.purged_runs == []
    assert report.kept_runs == [registered]
    assert report.deleted_blobs == []
    assert blobs.has(data.digest)
    assert blobs.has(model_file.digest)
    assert store.artifacts.read_bytes(registered, "f0.bin") == b"registered model package"
    tables = {c.table.name for c in reference_columns()}
    assert {"artifact_manifests", "dataset_files"} <= tables


def test_leftovers_of_dead_writers_are_removed_after_the_grace_period(
    store: SqlStore,
) -> None:
    root = Path(store.artifact_root)
    (root / "tmp").mkdir(parents=True)
    (root / "tmp" / "dead.tmp").write_bytes(b"partial")
    report = collect_garbage(
        store.engine, store.artifacts.blobs, grace_hours=1, clock=lambda: _later(2)
    )
    assert report.stale_objects == 1
    assert list((root / "tmp").iterdir()) == []


def test_negative_periods_are_refused(store: SqlStore) -> None:
    with pytest.raises(InvalidInputError, match="negative"):
        collect_garbage(store.engine, store.artifacts.blobs, retention_days=-1)
    with pytest.raises(InvalidInputError, match="negative"):
        collect_garbage(store.engine, store.artifacts.blobs, grace_hours=-1)


def test_gc_on_an_s3_artifact_root(store_url: str, s3_server: S3Server) -> None:
    root = f"s3://{s3_server.new_bucket()}/mloop"
    store = SqlStore(store_url, artifact_root=root)
    try:
        gone = _run_with_artifacts(store, os.urandom(300_000), b"small")
        kept = _run_with_artifacts(store, b"kept")
        store.runs.delete(gone, actor="alice")
        time.sleep(0.01)
        report = collect_garbage(
            store.engine,
            store.artifacts.blobs,
            retention_days=0,
            grace_hours=0,
            clock=lambda: _later(1),
        )
        assert report.purged_runs == [gone]
        assert len(report.deleted_blobs) == 2
        fresh = open_blob_store(root)
        assert set(fresh.list_digests()) == {_digest(store, kept, "f0.bin")}
        assert store.artifacts.read_bytes(kept, "f0.bin") == b"kept"
    finally:
        store.close()


def test_purged_runs_lose_their_legacy_artifact_folders_and_nothing_else(
    store: SqlStore, tmp_path: Path
) -> None:
    from mloop.tracking.artifacts import LocalArtifactStore

    outside = store.experiments.create("elsewhere", artifact_location=str(tmp_path / "outside"))
    runs = {
        "gone": store.runs.create("0", run_name="gone"),
        "kept": store.runs.create("0", run_name="kept"),
        "gone_outside": store.runs.create(outside.experiment_id, run_name="gone-outside"),
    }
    for run in runs.values():  # files written the old way, beside the blob store
        LocalArtifactStore(run.artifact_uri).write_bytes("model/model.pkl", b"pickle")
    for name in ("gone", "gone_outside"):
        store.runs.delete(runs[name].run_id, actor="alice")
    time.sleep(0.01)

    report = collect_garbage(
        store.engine,
        store.artifacts.blobs,
        retention_days=0,
        grace_hours=0,
        clock=lambda: _later(1),
    )

    assert sorted(report.purged_runs) == sorted([runs["gone"].run_id, runs["gone_outside"].run_id])
    assert report.legacy_folders == 1
    assert not Path(runs["gone"].artifact_uri).parent.exists()
    assert Path(runs["kept"].artifact_uri, "model", "model.pkl").read_bytes() == b"pickle"
    assert Path(runs["gone_outside"].artifact_uri, "model", "model.pkl").exists()
    assert Path(store.artifact_root).is_dir()
