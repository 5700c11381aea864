"""The prediction log: inputs, outputs, version, latency and request id, as Parquet files.

Serving only appends references to the request's arrays to a list (after a sampling draw);
a background thread turns what gathered into one Parquet file per model version every
`flush_interval_s` (or sooner once `flush_rows` rows wait), so logging costs the answer almost
nothing. Files land under the artifact root, one folder per model, partitioned by day:

```
<artifact root>/predictions/<model>/date=2026-11-27/<time>-<pid>-<random>.parquet
```

which pyarrow, pandas, Polars and DuckDB read as one dataset (`date` becomes a column). Columns:
`request_id`, `timestamp` (UTC, ms), `model`, `version`, `role` (`primary`, or `shadow` for a
shadow version's answer to the same request), `latency_ms`, one `input.<column>` per input, and
`prediction` (or `prediction.<output>` per output column of a 2-D output).

When more than `max_pending_rows` rows wait (the sink is slower than traffic), new records are
dropped and counted in `dropped_rows` rather than growing memory without bound.
"""

from __future__ import annotations

import io
import logging
import os
import random
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from mloop.errors import InvalidInputError

if TYPE_CHECKING:
    from mloop.models.inputs import Columns

logger = logging.getLogger("mloop.serving")
FOLDER = "predictions"


class PredictionSink(Protocol):
    """Where prediction files go."""

    def write(self, name: str, data: bytes) -> None:
        """Store `data` as the file `name` (a relative path with `/`)."""


class FolderSink:
    """Files under a local folder, written to a temporary name and renamed into place.

    Args:
        root: the folder (created when needed).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def write(self, name: str, data: bytes) -> None:
        """Write one file atomically."""
        target = self.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, target)


class FsspecSink:
    """Files under any fsspec URI (`s3://bucket/prefix/predictions` ...).

    Args:
        uri: the root URI.
    """

    def __init__(self, uri: str) -> None:
        import fsspec

        self.fs, self.root = fsspec.core.url_to_fs(uri)

    def write(self, name: str, data: bytes) -> None:
        """Upload one file (object stores make it visible whole)."""
        self.fs.pipe_file(f"{self.root.rstrip('/')}/{name}", data)


def open_sink(artifact_root: str) -> PredictionSink:
    """The sink for prediction files under an artifact root (`predictions/` inside it)."""
    if artifact_root.startswith("file://"):
        artifact_root = artifact_root.removeprefix("file://")
    if "://" not in artifact_root:
        return FolderSink(Path(artifact_root) / FOLDER)
    return FsspecSink(f"{artifact_root.rstrip('/')}/{FOLDER}")


@dataclass(frozen=True, slots=True)
class _Record:
    """One model call's rows: a batch of requests, or a single request."""

    at: float
    model: str
    version: str
    columns: Columns
    output: Any
    rows: int
    requests: list[tuple[Any, int, float]]  # (tag, rows, seconds) per request, in row order
    output_names: tuple[str, ...]


class PredictionLog:
    """Samples answered requests and writes them as Parquet in the background.

    Args:
        sink: where files go.
        sample_rate: the fraction of requests logged (0 to 1).
        flush_interval_s: the longest a record waits before it is written.
        flush_rows: write sooner once this many rows wait.
        max_pending_rows: past this many waiting rows, records are dropped (and counted).
    """

    def __init__(
        self,
        sink: PredictionSink,
        *,
        sample_rate: float = 1.0,
        flush_interval_s: float = 5.0,
        flush_rows: int = 50_000,
        max_pending_rows: int = 1_000_000,
    ) -> None:
        if not 0.0 <= sample_rate <= 1.0:
            raise InvalidInputError(
                f"the prediction log sample rate is {sample_rate}; give a fraction from 0 to 1",
                field="sample_rate",
            )
        self.sink = sink
        self.sample_rate = sample_rate
        self.flush_interval_s = flush_interval_s
        self.flush_rows = flush_rows
        self.max_pending_rows = max_pending_rows
        self.dropped_rows = 0
        self.written_rows = 0
        self.files_written = 0
        self._pending: list[_Record] = []
        self._pending_rows = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the writer thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="mloop-prediction-log", daemon=True
            )
            self._thread.start()

    def record(
        self,
        *,
        request_id: str,
        model: str,
        version: str,
        columns: Columns,
        output: Any,
        latency_ms: float,
        rows: int,
        role: str = "primary",
        output_names: tuple[str, ...] = (),
    ) -> None:
        """Log one answered request (if sampled); returns at once."""
        self.record_batch(
            model=model,
            version=version,
            columns=columns,
            output=output,
            requests=[((request_id, role), rows, latency_ms / 1000)],
            output_names=output_names,
        )

    def record_batch(
        self,
        *,
        model: str,
        version: str,
        columns: Columns,
        output: Any,
        requests: list[tuple[Any, int, float]],
        output_names: tuple[str, ...] = (),
    ) -> None:
        """Log one model call's requests (if sampled); returns at once.

        Args:
            model: the model name.
            version: its version.
            columns: the call's input columns (the requests' rows back to back).
            output: the call's output, one row per input row.
            requests: per request in row order: (tag, rows, seconds from arrival to answer),
                where a tag is `(request_id, role)` or None.
            output_names: names of a 2-D output's columns.
        """
        if self.sample_rate < 1.0 and random.random() >= self.sample_rate:  # noqa: S311 - sampling, not security
            return
        rows = sum(r[1] for r in requests)
        record = _Record(time.time(), model, version, columns, output, rows, requests, output_names)
        with self._lock:
            if self._pending_rows + rows > self.max_pending_rows:
                self.dropped_rows += rows
                return
            self._pending.append(record)
            self._pending_rows += rows
            full = self._pending_rows >= self.flush_rows
        if full:
            self._wake.set()

    def flush(self) -> None:
        """Write everything waiting now (on the caller's thread)."""
        with self._lock:
            records, self._pending, self._pending_rows = self._pending, [], 0
        if records:
            self._write(records)

    def close(self) -> None:
        """Stop the thread after writing what waits."""
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(self.flush_interval_s)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # a full disk or a lost bucket must not kill the logger
                logger.exception("writing the prediction log failed; those records are lost")

    def _write(self, records: list[_Record]) -> None:
        groups: dict[tuple[str, str, tuple[str, ...], tuple[str, ...]], list[_Record]] = {}
        for record in records:
            key = (record.model, record.version, tuple(record.columns), record.output_names)
            groups.setdefault(key, []).append(record)
        for (model, _version, _inputs, _outputs), group in groups.items():
            data = _parquet(group)
            day = time.strftime("%Y-%m-%d", time.gmtime(group[0].at))
            stamp = time.strftime("%H%M%S", time.gmtime(group[0].at))
            name = f"{model}/date={day}/{stamp}-{os.getpid()}-{uuid.uuid4().hex[:12]}.parquet"
            self.sink.write(name, data)
            self.files_written += 1
            self.written_rows += sum(r.rows for r in group)


def _parquet(records: list[_Record]) -> bytes:
    """One Parquet file for records of one model version with the same columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    # Request-level values, one per request; rows repeat them (`counts`).
    tags = [tag for record in records for tag, _, _ in record.requests]
    counts = np.fromiter(
        (rows for record in records for _, rows, _ in record.requests), np.int64, len(tags)
    )
    latencies = np.fromiter(
        (seconds for record in records for _, _, seconds in record.requests), np.float64, len(tags)
    )
    stamps = np.repeat(
        np.asarray([int(r.at * 1000) for r in records], dtype=np.int64),
        [len(r.requests) for r in records],
    )
    ids = [tag[0] if isinstance(tag, tuple) else "" for tag in tags]
    roles = [tag[1] if isinstance(tag, tuple) else "primary" for tag in tags]
    total = int(counts.sum())
    first = records[0]
    table: dict[str, Any] = {
        "request_id": _repeated_strings(ids, counts),
        "timestamp": _arrow(np.repeat(stamps, counts), pa.timestamp("ms", tz="UTC")),
        "model": _repeated_strings([first.model], np.asarray([total])),
        "version": _repeated_strings([first.version], np.asarray([total])),
        "role": _repeated_strings(roles, counts),
        "latency_ms": _arrow(np.repeat(latencies * 1000, counts)),
    }
    for name in first.columns:
        table[f"input.{name}"] = _arrow(_concatenate([r.columns[name] for r in records]))
    outputs = _concatenate([np.asarray(r.output) for r in records])
    if outputs.ndim == 1:
        table["prediction"] = _arrow(outputs)
    else:
        names = first.output_names
        if len(names) != outputs.shape[1]:
            names = tuple(str(i) for i in range(outputs.shape[1]))
        for index, name in enumerate(names):
            table[f"prediction.{name}"] = _arrow(outputs[:, index])
    arrow_table = pa.Table.from_arrays(list(table.values()), names=list(table))
    buffer = io.BytesIO()
    # snappy: a third of zstd's time on feature columns, and every Parquet reader has it
    pq.write_table(arrow_table, buffer, compression="snappy")
    return buffer.getvalue()


def _concatenate(parts: list[np.ndarray[Any, Any]]) -> np.ndarray[Any, Any]:
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _repeated_strings(values: list[str], counts: np.ndarray[Any, Any]) -> Any:
    """An Arrow string array with `values[i]` repeated `counts[i]` times, each encoded once."""
    import pyarrow as pa

    encoded = [v.encode("utf-8") for v in values]
    lengths = np.fromiter(map(len, encoded), np.int64, len(encoded))
    total = int(counts.sum())
    offsets = np.zeros(total + 1, dtype=np.int64)
    np.cumsum(np.repeat(lengths, counts), out=offsets[1:])
    if bool((counts == 1).all()):
        data = b"".join(encoded)
    else:
        data = b"".join(e * int(c) for e, c in zip(encoded, counts.tolist(), strict=True))
    return pa.Array.from_buffers(
        pa.large_string(), total, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def _arrow(values: np.ndarray[Any, Any], kind: Any = None) -> Any:
    """An Arrow array over a NumPy column, built from buffers (numbers without a copy).

    `pa.array` would import pandas on its first call (pyarrow probes for it), which the ONNX
    serving path must not load; building arrays from their buffers never asks for pandas.
    """
    import pyarrow as pa

    size = len(values)
    if values.dtype.kind in "iuf":
        data = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("="))
        arrow_type = kind if kind is not None else pa.from_numpy_dtype(data.dtype)
        return pa.Array.from_buffers(arrow_type, size, [None, pa.py_buffer(data)])
    if values.dtype.kind == "b":
        bits = np.packbits(values.astype(bool), bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), size, [None, pa.py_buffer(bits)])
    encoded = [str(v).encode("utf-8") for v in values.tolist()]
    offsets = np.zeros(size + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return pa.Array.from_buffers(
        pa.large_string(), size, [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    )
