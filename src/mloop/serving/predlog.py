"""The prediction log: inputs, outputs, version, latency and request id, as Parquet files.

Serving only appends references to a model call's arrays to a list (after a sampling draw).
The writer thread turns what gathered into one Arrow record batch per model version a few
times a second and appends it to an Arrow IPC segment in a local spool folder
(`mloop.serving.predlog_spool`): no encoding, close to a memory copy. Every `flush_interval_s`
it closes the segments, and a converter process (`mloop.serving.predlog_convert`, at a lower
priority and with its own interpreter, so Parquet's encoding never holds the serving
process's GIL) writes each as one Parquet file under the artifact root, one folder per model,
partitioned by day:

```
<artifact root>/predictions/<model>/date=2026-11-27/<time>-<pid>-<random>.parquet
```

which pyarrow, pandas, Polars and DuckDB read as one dataset (`date` becomes a column). Columns:
`request_id`, `timestamp` (UTC, ms), `model`, `version`, `role` (`primary`, or `shadow` for a
shadow version's answer to the same request), `latency_ms`, one `input.<column>` per input, and
`prediction` (or `prediction.<output>` per output column of a 2-D output).

A spooled segment survives a killed server or converter: the next converter (at the next start,
or the running one catching up) converts it. Rows not yet spooled (at most `spool_interval_s`
of traffic) are lost when the server is killed; a graceful stop spools and converts everything.
When more than `max_pending_rows` rows wait (in memory or in segments not yet converted: the sink
is slower than traffic), new records are dropped and counted in `dropped_rows` rather than
growing memory or disk without bound.
"""

from __future__ import annotations

import itertools
import logging
import os
import random
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.errors import ConfigurationError, InvalidInputError
from mloop.serving.predlog_batches import LogRecord
from mloop.serving.predlog_sinks import FOLDER as FOLDER
from mloop.serving.predlog_sinks import FolderSink as FolderSink
from mloop.serving.predlog_sinks import FsspecSink as FsspecSink
from mloop.serving.predlog_sinks import PredictionSink as PredictionSink
from mloop.serving.predlog_sinks import open_sink as open_sink

if TYPE_CHECKING:
    from mloop.models.inputs import Columns
    from mloop.serving.predlog_convert import ConverterProcess
    from mloop.serving.predlog_spool import SpoolWriter

logger = logging.getLogger("mloop.serving")
SPOOL_FOLDER = ".spool"


class PredictionLog:
    """Samples answered requests, spools them as Arrow and has them converted to Parquet.

    Args:
        sink: where the Parquet files go.
        spool: the local folder for segments not yet converted (default: `.spool` inside a
            folder sink; required for any other sink). One spool folder per sink.
        sample_rate: the fraction of requests logged (0 to 1).
        flush_interval_s: the longest a record waits before its Parquet file is written.
        flush_rows: spool sooner once this many rows wait in memory.
        spool_interval_s: how often waiting records are appended to the spool.
        max_pending_rows: past this many waiting rows (in memory or spooled but not yet
            converted), records are dropped (and counted).
        converter: convert in a separate process once started (True), or on the writer
            thread (False).

    Attributes:
        new_request_id: returns a fresh request id, as a number: logged as 32 hex digits (a
            random prefix per process, set again by `start` in a forked worker, and the number),
            formatted by the writer thread in bulk rather than one string per request on the
            serving path. A tag may carry it wherever a request id goes.
    """

    def __init__(
        self,
        sink: PredictionSink,
        *,
        spool: str | os.PathLike[str] | None = None,
        sample_rate: float = 1.0,
        flush_interval_s: float = 5.0,
        flush_rows: int = 50_000,
        spool_interval_s: float = 0.5,
        max_pending_rows: int = 1_000_000,
        converter: bool = True,
    ) -> None:
        if not 0.0 <= sample_rate <= 1.0:
            raise InvalidInputError(
                f"the prediction log sample rate is {sample_rate}; give a fraction from 0 to 1",
                field="sample_rate",
            )
        if spool is None:
            if not isinstance(sink, FolderSink):
                raise ConfigurationError(
                    f"the prediction log for {sink.uri} needs a local spool folder: give "
                    "PredictionLog(spool=...) (mloop serve --log-spool DIR)"
                )
            spool = sink.root / SPOOL_FOLDER
        from mloop.serving.predlog_spool import SpoolWriter

        self.sink = sink
        self.spool = Path(spool)
        self.sample_rate = sample_rate
        self.flush_interval_s = flush_interval_s
        self.flush_rows = flush_rows
        self.spool_interval_s = spool_interval_s
        self.max_pending_rows = max_pending_rows
        self.use_converter = converter
        self.dropped_rows = 0
        self.written_rows = 0
        self.files_written = 0
        self._pending: list[LogRecord] = []
        self._pending_rows = 0
        self._spooled_rows = 0  # spooled, not converted yet (refreshed by the writer thread)
        self._writer: SpoolWriter = SpoolWriter(self.spool)
        self._write_lock = threading.Lock()  # one spooler at a time (thread, flush, close)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._converter: ConverterProcess | None = None
        self._rotated_at = time.monotonic()
        self.id_prefix = uuid.uuid4().hex[:16]
        self.new_request_id = itertools.count().__next__

    @property
    def converter_pid(self) -> int | None:
        """The converter process's id, when one runs."""
        return None if self._converter is None else self._converter.pid

    def start(self) -> None:
        """Start the writer thread and the converter process (once).

        Raises:
            ConfigurationError: the spool folder cannot be created or written.
        """
        if self._thread is not None:
            return
        self.id_prefix = uuid.uuid4().hex[:16]  # this process's own, after any fork
        try:
            self.spool.mkdir(parents=True, exist_ok=True)
            probe = self.spool / f".probe-{os.getpid()}"
            probe.touch()
            probe.unlink()
        except OSError as exc:
            raise ConfigurationError(
                f"cannot use {self.spool} as the prediction log's spool folder "
                f"({exc.strerror or exc}); give a writable local folder (mloop serve --log-spool)"
            ) from exc
        if self.use_converter:
            from mloop.serving.predlog_convert import ConverterProcess

            self._converter = ConverterProcess(
                self.spool, self.sink.uri, interval_s=self.flush_interval_s
            )
            self._converter.start()
        self._rotated_at = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="mloop-prediction-log", daemon=True)
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
            requests=[
                (request_id if role == "primary" else (request_id, role), rows, latency_ms / 1000)
            ],
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
                where a tag is a primary answer's request id (text, or a number from
                `new_request_id`), `(request id, role)` for another role, or None.
            output_names: names of a 2-D output's columns.
        """
        if self.sample_rate < 1.0 and random.random() >= self.sample_rate:  # noqa: S311 - sampling, not security
            return
        rows = 0
        for request in requests:
            rows += request[1]
        record = LogRecord(
            time.time(), model, version, columns, output, rows, requests, output_names
        )
        with self._lock:
            if self._pending_rows + self._spooled_rows + rows > self.max_pending_rows:
                self.dropped_rows += rows
                return
            self._pending.append(record)
            self._pending_rows += rows
            full = self._pending_rows >= self.flush_rows
        if full:
            self._wake.set()

    def flush(self) -> None:
        """Spool everything waiting and close the segments, on the caller's thread.

        Without a converter process, the segments are converted here too (the files are
        written when this returns); with one, it is told to convert them.
        """
        with self._write_lock:
            self._spool()
            self._rotate()

    def close(self) -> None:
        """Stop the thread, spool and close what waits, and wait for its conversion."""
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.flush()
        converter, self._converter = self._converter, None
        if converter is not None:
            converter.stop()

    def _run(self) -> None:
        interval = min(self.spool_interval_s, self.flush_interval_s)
        while not self._stop:
            self._wake.wait(interval)
            self._wake.clear()
            if self._stop:
                break
            try:
                with self._write_lock:
                    self._spool()
                    if time.monotonic() - self._rotated_at >= self.flush_interval_s:
                        self._rotate()
            except Exception:  # a full disk must not kill the logger
                logger.exception("spooling the prediction log failed; those records are lost")

    def _spool(self) -> None:
        """Append what waits to the spool, one batch per model version and columns."""
        from mloop.serving.predlog_batches import record_batch

        with self._lock:
            records, self._pending, self._pending_rows = self._pending, [], 0
            self._spooled_rows += sum(r.rows for r in records)
        if not records:
            return
        groups: dict[Any, list[LogRecord]] = {}
        for record in records:
            groups.setdefault(record.key, []).append(record)
        for key, group in groups.items():
            day = time.strftime("%Y-%m-%d", time.gmtime(group[0].at))
            batch = record_batch(group, id_prefix=self.id_prefix)
            self._writer.append(key, batch, model=group[0].model, day=day)

    def _rotate(self) -> None:
        """Close the open segments and have them converted."""
        self._rotated_at = time.monotonic()
        segments, rows = self._writer.rotate()
        self.files_written += segments
        self.written_rows += rows
        converter = self._converter
        if converter is not None:
            if segments:
                converter.notify()
        elif segments:
            from mloop.serving.predlog_spool import convert_ready

            convert_ready(self.spool, self.sink)
        self._spooled_rows = self._writer.waiting_rows()
