"""The prediction log: sampled records written as Parquet in the background, read back whole."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import fsspec
import numpy as np
import psutil
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from mloop.errors import ConfigurationError, InvalidInputError
from mloop.serving.predlog import FolderSink, PredictionLog, open_sink
from mloop.serving.predlog_spool import convert_ready
from tests.conftest import S3Server


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


def test_a_sink_other_than_a_folder_needs_a_spool_folder(s3_server: S3Server) -> None:
    with pytest.raises(ConfigurationError, match="spool"):
        PredictionLog(open_sink(f"s3://{s3_server.new_bucket()}/root"))


def test_an_s3_sink_gets_the_files_from_the_converter_process(
    s3_server: S3Server, tmp_path: Path
) -> None:
    root = f"s3://{s3_server.new_bucket()}/root"
    log = PredictionLog(open_sink(root), spool=tmp_path / "spool", flush_interval_s=0.05)
    log.start()
    assert log.converter_pid is not None
    assert log.converter_pid != os.getpid()
    for index in range(3):
        _record(log, index)
    log.close()
    fs = fsspec.filesystem("s3", **s3_server.storage_options)
    files = fs.glob(f"{root.removeprefix('s3://')}/predictions/churn/date=*/*.parquet")
    assert files
    rows = sum(pq.read_table(fs.open(f)).num_rows for f in files)
    assert rows == 6
    assert _segments(tmp_path / "spool") == []


def _segments(spool: Path) -> list[str]:
    return sorted(p.name for p in spool.iterdir()) if spool.exists() else []


WRITER = """
import sys, time
import numpy as np
from mloop.serving.predlog import FolderSink, PredictionLog

log = PredictionLog(FolderSink(sys.argv[1]), spool=sys.argv[2], converter=False)
for index in range(int(sys.argv[3])):
    log.record(request_id=f"req-{index}", model="churn", version="3",
               columns={"age": np.asarray([float(index)])}, output=np.asarray([1]),
               latency_ms=1.0, rows=1)
    log._spool()  # one batch per record, each appended to the open segment
print("spooled", flush=True)
time.sleep(60)
"""


def test_a_killed_writers_segment_is_converted_and_a_live_ones_is_not(tmp_path: Path) -> None:
    sink, spool = tmp_path / "predictions", tmp_path / "spool"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(sink), str(spool), "7"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "spooled"
        [segment] = _segments(spool)
        assert segment.endswith(".part")
        # its writer holds the segment: nobody converts it under its feet
        assert convert_ready(spool, FolderSink(sink)) == (0, 0)
        assert _segments(spool) == [segment]
    finally:
        writer.kill()
        writer.wait()
    # the kernel dropped the writer's lock with the process: the rows are converted
    assert convert_ready(spool, FolderSink(sink)) == (1, 7)
    assert _segments(spool) == []
    table = ds.dataset(sink / "churn", partitioning="hive").to_table()
    assert sorted(table.column("request_id").to_pylist()) == [f"req-{i}" for i in range(7)]
    assert sorted(table.column("input.age").to_pylist()) == [float(i) for i in range(7)]


def _killed_writer(sink: Path, spool: Path, records: int) -> None:
    """A process that spooled `records` one-row records in one open segment, then was killed."""
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(sink), str(spool), str(records)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "spooled"
    writer.kill()
    writer.wait()


def test_a_segment_cut_short_keeps_its_whole_batches(tmp_path: Path) -> None:
    sink, spool = tmp_path / "predictions", tmp_path / "spool"
    _killed_writer(sink, spool, 2)
    [segment] = list(spool.iterdir())
    with segment.open("r+b") as file:  # the second batch only half on disk
        file.truncate(segment.stat().st_size - 40)
    assert convert_ready(spool, FolderSink(sink)) == (1, 1)
    table = ds.dataset(sink / "churn", partitioning="hive").to_table()
    assert table.column("request_id").to_pylist() == ["req-0"]


def test_a_killed_converter_is_restarted_and_catches_up(tmp_path: Path) -> None:
    sink, spool = tmp_path / "predictions", tmp_path / "spool"
    log = PredictionLog(FolderSink(sink), spool=spool, flush_interval_s=60)
    log.start()
    first = log.converter_pid
    assert first is not None
    killed = psutil.Process(first)
    killed.kill()
    deadline = time.monotonic() + 10
    while killed.status() != psutil.STATUS_ZOMBIE:  # dead, not reaped yet
        assert time.monotonic() < deadline
        time.sleep(0.01)
    _record(log, 1)
    log.flush()  # the segment closes; the dead converter is noticed and replaced
    assert log.converter_pid not in (None, first)
    deadline = time.monotonic() + 30
    while _segments(spool):
        assert time.monotonic() < deadline, _segments(spool)
        time.sleep(0.05)
    assert ds.dataset(sink / "churn", partitioning="hive").to_table().num_rows == 2
    second = psutil.Process(log.converter_pid)
    log.close()
    assert not second.is_running() or second.status() == psutil.STATUS_ZOMBIE


def test_rows_waiting_in_the_spool_count_against_the_bound(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the sink's folder should be")
    log = PredictionLog(FolderSink(blocked), spool=tmp_path / "spool", max_pending_rows=4)
    _record(log, 1)
    _record(log, 2)
    log.flush()  # conversion fails: the segment stays, and its rows still wait
    assert len(_segments(tmp_path / "spool")) == 1
    _record(log, 3)
    assert log.dropped_rows == 2
    blocked.unlink()  # the sink is back: the next conversion empties the spool
    assert convert_ready(tmp_path / "spool", FolderSink(blocked)) == (1, 4)
    log.flush()
    _record(log, 4)
    assert log.dropped_rows == 2


def test_an_unwritable_spool_folder_fails_at_start_with_the_option_to_fix_it(
    tmp_path: Path,
) -> None:
    taken = tmp_path / "a-file"
    taken.write_text("not a folder")
    log = PredictionLog(FolderSink(tmp_path / "predictions"), spool=taken / "spool")
    with pytest.raises(ConfigurationError, match="--log-spool"):
        log.start()


def test_numbered_request_ids_are_written_as_32_hex_digits_unique_per_process(
    tmp_path: Path,
) -> None:
    log = PredictionLog(open_sink(str(tmp_path)), converter=False)
    log.start()
    numbers = [log.new_request_id() for _ in range(4)]
    columns = {"age": np.arange(6.0)}

    def batch(requests: list[tuple[object, int, float]], version: str = "3") -> None:
        rows = sum(r[1] for r in requests)
        log.record_batch(
            model="churn",
            version=version,
            columns={"age": columns["age"][:rows]},
            output=np.zeros(rows),
            requests=requests,
        )

    # the usual batch: numbers only, one request of two rows
    big = 0x0123456789ABCDEF  # every digit, in order: the byte order of the conversion
    batch([(numbers[0], 1, 0.001), (numbers[1], 2, 0.001), (numbers[2], 1, 0.001), (big, 1, 0)])
    # a mixed one: a caller's id, a number, a shadow's copy of a number, no id
    batch([("caller-7", 1, 0.001), (numbers[3], 1, 0.001), (None, 1, 0.001)], version="4")
    batch([((numbers[3], "shadow"), 1, 0.001)], version="5")
    log.close()
    rows = ds.dataset(tmp_path / "predictions" / "churn", partitioning="hive").to_table()
    by_version: dict[str, list[tuple[str, str]]] = {}
    for row in rows.sort_by("timestamp").to_pylist():
        by_version.setdefault(row["version"], []).append((row["request_id"], row["role"]))
    made = [f"{log.id_prefix}{n:016x}" for n in numbers]
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in made)
    assert len(set(made)) == 4
    assert by_version["3"] == [
        (made[0], "primary"),
        *[(made[1], "primary")] * 2,
        (made[2], "primary"),
        (f"{log.id_prefix}0123456789abcdef", "primary"),
    ]
    assert by_version["4"] == [("caller-7", "primary"), (made[3], "primary"), ("", "primary")]
    assert by_version["5"] == [(made[3], "shadow")]
    other = PredictionLog(FolderSink(tmp_path))
    assert other.id_prefix != log.id_prefix  # another process's log: another prefix
