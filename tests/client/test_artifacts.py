"""Run artifacts through the client when the artifact root is on S3 (moto) or local."""

from __future__ import annotations

from pathlib import Path

import mloop
from mloop.client.context import get_store
from mloop.storage.sql.store import SqlStore
from tests.conftest import S3Server


def test_a_run_logs_artifacts_to_s3_and_reads_them_back(
    store_url: str, s3_server: S3Server, tmp_path: Path
) -> None:
    root = f"s3://{s3_server.new_bucket()}/team"
    mloop.set_tracking_uri(store_url, artifact_uri=root)
    report = tmp_path / "report"
    (report / "plots").mkdir(parents=True)
    (report / "index.html").write_text("<h1>run</h1>")
    (report / "plots" / "roc.svg").write_text("<svg/>")
    model = tmp_path / "model.bin"
    model.write_bytes(b"\x00" * 500_000)
    with mloop.start_run() as run:
        mloop.log_artifact(model, "model")
        assert mloop.log_artifacts(report, "report") == 2
        mloop.log_text("notes", "notes.txt")
    client = mloop.MloopClient()
    assert client.read_artifact(run.run_id, "model/model.bin") == model.read_bytes()
    listed = [a.path for a in client.list_artifacts(run.run_id, "report")]
    assert listed == ["report/index.html", "report/plots"]
    copy = client.download_artifacts(run.run_id, "report", tmp_path / "out")
    assert (copy / "plots" / "roc.svg").read_text() == "<svg/>"
    # The bytes are in the bucket, not in a local folder.
    blobs = get_store().artifacts.blobs
    assert blobs.uri == root
    assert blobs.has(client.store.artifacts.get(run.run_id, "model/model.bin").digest)
    # Another process's store on the same database and bucket reads them too.
    other = SqlStore(store_url, artifact_root=root)
    try:
        assert other.artifacts.read_bytes(run.run_id, "notes.txt") == b"notes"
    finally:
        other.close()


def test_two_runs_logging_the_same_file_share_one_blob(store: SqlStore, tmp_path: Path) -> None:
    data = tmp_path / "train.csv"
    data.write_text("a,b\n1,2\n" * 50_000)
    runs = []
    for _ in range(2):
        with mloop.start_run() as run:
            mloop.log_artifact(data, "data")
        runs.append(run.run_id)
    digests = {store.artifacts.get(r, "data/train.csv").digest for r in runs}
    assert len(digests) == 1
    stored = [s for s in store.artifacts.blobs.list_blobs() if s.digest in digests]
    assert len(stored) == 1
