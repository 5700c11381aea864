"""The prediction log's spool: Arrow IPC stream segments on local disk, then Parquet in the sink.

The serving process appends record batches to one open segment per model version
(`<HHMMSS>-<pid>-<random>.part`), holding an exclusive `flock` on it while it writes. Every
flush interval it closes its segments (the stream's end marker, then a rename to `.arrows`).
Whoever converts (the converter process, or the server itself when it has none) takes the same
lock before reading a segment, writes it to the sink as one Parquet file and deletes it:

- a `.arrows` segment is complete; a `.part` segment whose lock can be taken has lost its writer
  (a killed server: the kernel drops the lock with the process), and what it holds up to its last
  whole batch is converted;
- a segment becomes the Parquet file `<model>/date=<day>/<segment name>.parquet`, so converting
  one twice (a converter killed between writing the file and deleting the segment) rewrites the
  same file rather than adding a copy;
- a segment stays until its file is written, so an unreachable sink delays rows, never loses them.

Appending is close to a memory copy (no encoding, no compression); Parquet's encoding runs
where conversion runs. Data in the page cache survives a killed process, not a power loss (no
`fsync` per append).
"""

from __future__ import annotations

import fcntl
import io
import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from mloop.serving.predlog_sinks import PredictionSink

logger = logging.getLogger("mloop.serving")
OPEN_SUFFIX = ".part"
CLOSED_SUFFIX = ".arrows"
MODEL_KEY = b"mloop.model"
DAY_KEY = b"mloop.day"
# An empty `.part` may be a segment whose writer has not taken its lock yet; only an old one
# is an abandoned one.
EMPTY_GRACE_S = 60.0


@dataclass(slots=True)
class _Segment:
    path: Path
    lock: int  # the descriptor holding the segment's flock
    file: Any  # pyarrow's own file: its writes run without the GIL
    writer: Any
    schema: pa.Schema
    day: str
    rows: int = 0


@dataclass(slots=True)
class SpoolWriter:
    """The serving side: open segments, one per key, appended to and closed in turn.

    Not thread-safe: one thread (the prediction log's writer) calls it.

    Args:
        folder: the spool folder (created when needed).
    """

    folder: Path
    _open: dict[Any, _Segment] = field(default_factory=dict)
    _closed: dict[str, int] = field(default_factory=dict)  # segment file name -> rows

    def append(self, key: Any, batch: pa.RecordBatch, *, model: str, day: str) -> None:
        """Append `batch` to the open segment of `key` (a new one when the schema or day moved)."""
        segment = self._open.get(key)
        if segment is not None and (segment.day != day or not segment.schema.equals(batch.schema)):
            self._close(key)
            segment = None
        if segment is None:
            segment = self._open[key] = self._create(batch.schema, model=model, day=day)
        # Unbuffered: the batch is in the page cache when this returns, so a killed server
        # no longer loses it.
        segment.writer.write_batch(batch)
        segment.rows += batch.num_rows

    def rotate(self) -> tuple[int, int]:
        """Close every open segment (ready for conversion); returns (segments, rows)."""
        segments = rows = 0
        for key in list(self._open):
            rows += self._close(key)
            segments += 1
        return segments, rows

    def waiting_rows(self) -> int:
        """Rows this writer spooled that are not converted yet (segments still in the folder)."""
        if self._closed:
            present = set(os.listdir(self.folder))
            self._closed = {k: v for k, v in self._closed.items() if k in present}
        return sum(self._closed.values()) + sum(s.rows for s in self._open.values())

    def _create(self, schema: pa.Schema, *, model: str, day: str) -> _Segment:
        import pyarrow as pa

        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%H%M%S", time.gmtime())
        path = self.folder / f"{stamp}-{os.getpid()}-{uuid.uuid4().hex[:12]}{OPEN_SUFFIX}"
        lock = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            # Held until the segment is closed and renamed; the kernel drops it if we die.
            fcntl.flock(lock, fcntl.LOCK_EX)
            file = pa.OSFile(str(path), mode="w")
        except BaseException:
            os.close(lock)
            raise
        schema = schema.with_metadata({MODEL_KEY: model.encode(), DAY_KEY: day.encode()})
        return _Segment(path, lock, file, pa.ipc.new_stream(file, schema), schema, day)

    def _close(self, key: Any) -> int:
        segment = self._open.pop(key)
        try:
            segment.writer.close()
            segment.file.close()
            closed = segment.path.with_suffix(CLOSED_SUFFIX)
            os.rename(segment.path, closed)
        finally:
            os.close(segment.lock)  # releases the lock
        self._closed[closed.name] = segment.rows
        return segment.rows


def convert_ready(folder: Path, sink: PredictionSink) -> tuple[int, int]:
    """Convert every segment of `folder` no writer holds into Parquet in `sink`.

    Returns:
        (files written, rows written).
    """
    files = rows = 0
    try:
        entries = sorted(os.listdir(folder))
    except FileNotFoundError:
        return 0, 0
    for name in entries:
        if name.endswith((OPEN_SUFFIX, CLOSED_SUFFIX)):
            try:
                written = _convert_one(folder / name, sink)
            except Exception:  # a lost bucket or a full disk: keep the segment, retry later
                logger.exception(
                    "converting prediction-log segment %s failed; kept for retry", name
                )
                continue
            if written is not None:
                files += written > 0
                rows += written
    return files, rows


def _convert_one(path: Path, sink: PredictionSink) -> int | None:
    """Rows converted from one segment, or None when it is not ours to convert now."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None  # converted meanwhile by another converter
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None  # its writer is alive, or another converter has it
        status = os.fstat(descriptor)
        try:
            if os.stat(path).st_ino != status.st_ino:
                return None  # renamed or replaced since we opened it
        except FileNotFoundError:
            return None
        if status.st_size == 0:
            if time.time() - status.st_mtime > EMPTY_GRACE_S:
                path.unlink()
            return None
        table = _read(path, complete=path.suffix == CLOSED_SUFFIX)
        if table is not None and table.num_rows:
            model, day = _where(table.schema)
            stem = path.name.removesuffix(path.suffix)
            sink.write(f"{model}/date={day}/{stem}.parquet", _parquet(table))
        path.unlink()
        return 0 if table is None else table.num_rows
    finally:
        os.close(descriptor)


def _read(path: Path, *, complete: bool) -> pa.Table | None:
    """The segment's whole batches (a killed writer's last batch may be cut short)."""
    import pyarrow as pa

    source = pa.BufferReader(path.read_bytes())
    try:
        reader = pa.ipc.open_stream(source)
    except (pa.ArrowInvalid, OSError):
        logger.warning("prediction-log segment %s has no readable schema; removed", path.name)
        return None
    batches = []
    while True:
        try:
            batches.append(reader.read_next_batch())
        except StopIteration:
            break
        except (pa.ArrowInvalid, OSError):
            if complete:
                logger.warning("prediction-log segment %s is cut short", path.name)
            break
    return pa.Table.from_batches(batches, schema=reader.schema).combine_chunks()


def _where(schema: pa.Schema) -> tuple[str, str]:
    metadata = schema.metadata or {}
    return metadata[MODEL_KEY].decode(), metadata[DAY_KEY].decode()


def _parquet(table: pa.Table) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    # Dictionaries only where values repeat (model, version, role, categorical inputs): tried
    # on float features they never pay and cost five times the rest of the encoding.
    strings = (pa.types.is_large_string, pa.types.is_string)
    repeating = [
        f.name for f in table.schema if f.name != "request_id" and any(s(f.type) for s in strings)
    ]
    buffer = io.BytesIO()
    # snappy: a third of zstd's time on feature columns, and every Parquet reader has it
    pq.write_table(
        table.replace_schema_metadata(None),
        buffer,
        compression="snappy",
        use_dictionary=repeating,
    )
    return buffer.getvalue()
