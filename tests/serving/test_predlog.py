"""The prediction log: sampled records written as Parquet in the background, read back whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.dataset as ds
import pytest

from mloop.errors import InvalidInputError
from mloop.serving.predlog import FolderSink, PredictionLog, open_sink


def _record(log: PredictionLog, index: int, *, role: str = "primary", version: str = "3") -> None:
    log.record(
        request_id=f"req-{index}",
        model="churn",
        version=version,
        columns={"age": np.asarray([30.0 + index, 40.0]), "city": np.asarray(["a", "b"], object)},
        output=np.asarray([[0.1, 0.9], [0.6, 0.4]]),
        latency_ms=1.5,
        rows=2,
        role=role,
        output_names=("no", "yes"),
    )


def test_records_are_written_as_a_parquet_dataset(tmp_path: Path) -> None:
    log = PredictionLog(open_sink(str(tmp_path)), flush_interval_s=0.05)
    log.start()
    for index in range(10):
        _record(log, index)
    _record(log, 99, role="shadow", version="4")
    log.close()
    files = sorted((tmp_path / "predictions" / "churn").rglob("*.parquet"))
    assert len(files) == log.files_written >= 2  # one per version at least
    table = ds.dataset(tmp_path / "predictions" / "churn", partitioning="hive").to_table()
    assert table.num_rows == 22 == log.written_rows
    rows = table.to_pylist()
    first = next(r for r in rows if r["request_id"] == "req-0")
    assert first["input.age"] == 30.0
    assert first["input.city"] == "a"
    assert first["prediction.yes"] == pytest.approx(0.9)
    assert first["version"] == "3"
    assert first["latency_ms"] == 1.5
    assert {r["role"] for r in rows if r["request_id"] == "req-99"} == {"shadow"}
    assert len({str(r["date"]) for r in rows}) == 1


def test_sampling_and_the_pending_bound(tmp_path: Path) -> None:
    log = PredictionLog(FolderSink(tmp_path), sample_rate=0.0)
    _record(log, 1)
    log.flush()
    assert log.files_written == 0
    bounded = PredictionLog(FolderSink(tmp_path), max_pending_rows=4)
    for index in range(5):
        _record(bounded, index)
    assert bounded.dropped_rows == 6
    bounded.flush()
    assert bounded.written_rows == 4
    with pytest.raises(InvalidInputError, match="sample rate"):
        PredictionLog(FolderSink(tmp_path), sample_rate=1.5)
