"""Batch inference: `predict_file` streams a Parquet or CSV file through a model in chunks.

The input is read as Arrow record batches of `chunk_rows` rows (bounded memory whatever the file
size), checked against the model's signature before anything runs, and predicted by a pool of
worker processes that each load the model once. At most two chunks per worker are in flight, and
results are written in input order, so output row N belongs to input row N. The output goes to a
temporary file renamed into place at the end: a failure leaves no half-written file.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.client.batch_files import (
    DEFAULT_CHUNK_ROWS,
    file_format,
    open_input,
    open_writer,
    output_batch,
)
from mloop.client.batch_pool import ChunkPlan, WorkerLoader, columns_of, predict_pool, run_chunk
from mloop.errors import (
    AlreadyExistsError,
    InvalidInputError,
    ModelInputError,
)

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from mloop.data.progress import Progress
    from mloop.models import LoadedModel


@dataclass(frozen=True, slots=True)
class BatchPrediction:
    """What `predict_file` did.

    Attributes:
        output: the file written.
        rows: rows predicted (and written).
        chunks: how many chunks the input was cut into.
        workers: processes that predicted (1: in this process).
        backend: `onnx` or `native`, as the model ran.
        method: the model method called (`predict` or `predict_proba`).
        columns: the output's columns, kept input columns first.
        seconds: wall time from opening the input to the renamed output.
    """

    output: Path
    rows: int
    chunks: int
    workers: int
    backend: str
    method: str
    columns: list[str]
    seconds: float


def predict_file(
    model_uri: str | os.PathLike[str],
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    keep_columns: Sequence[str] = (),
    method: str | None = None,
    workers: int | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    overwrite: bool = False,
    trusted: bool = False,
    prefer_onnx: bool = True,
    progress: Progress | None = None,
) -> BatchPrediction:
    """Predict every row of a Parquet or CSV file and write the predictions to another.

    Args:
        model_uri: `models:/NAME@alias`, `models:/NAME/3`, `runs:/<run_id>/model` or a package
            folder.
        input_path: the rows to predict (`*.parquet`, `*.pq` or `*.csv`).
        output_path: where predictions go; its extension picks the format.
        keep_columns: input columns to copy next to the predictions (an id, say); `*` keeps
            every input column.
        method: `predict` or `predict_proba` (default: the method the signature serves).
        workers: processes predicting in parallel (default: one per usable core, started only
            when the first chunk's time says the rest would take over ~2 s in this process).
        chunk_rows: rows per chunk; memory use is about (2 x workers + 1) chunks.
        overwrite: replace `output_path` when it exists.
        trusted: allow loading a pickled (pyfunc) model, which runs code from the file.
        prefer_onnx: run on the package's verified ONNX export when it has one.
        progress: told the row total (0 when unknown, as for CSV) and each chunk's rows.

    Returns:
        The output path, row and chunk counts, and how the model ran.

    Raises:
        ModelInputError: a column the model needs is missing or holds the wrong type (named),
            before anything is written.
        InvalidInputError: a bad extension, option, or an empty input.
        AlreadyExistsError: the output exists and `overwrite` is false.
        NotFoundError: the model or the input file does not exist.
    """
    from mloop.client.models import resolve_package_folder
    from mloop.models import load_package

    started = time.perf_counter()
    source, target = Path(input_path), Path(output_path)
    _check_paths(source, target, overwrite=overwrite)
    if chunk_rows < 1:
        raise InvalidInputError(f"chunk_rows must be at least 1, got {chunk_rows}", field="chunk")
    if workers is not None and workers < 1:
        raise InvalidInputError(f"workers must be at least 1, got {workers}", field="workers")
    folder = resolve_package_folder(model_uri)
    model = load_package(folder, trusted=trusted, prefer_onnx=prefer_onnx)
    reader = open_input(source, model.signature, chunk_rows)
    plan = _plan(model, reader.columns, keep_columns, method)
    if progress is not None:
        progress.start("predicting", reader.rows or 0)
    loader = WorkerLoader(str(folder), trusted=trusted, prefer_onnx=prefer_onnx)
    schedule = _Schedule(model, plan, loader, workers=workers, total_rows=reader.rows)
    results = schedule.run(
        _checked(reader.batches([*plan.inputs, *plan.keep]), model, plan), chunk_rows
    )
    rows, written, columns = _write(results, target, model, plan, progress)
    return BatchPrediction(
        output=target,
        rows=rows,
        chunks=written,
        workers=schedule.workers,
        backend=model.backend,
        method=plan.method,
        columns=columns,
        seconds=time.perf_counter() - started,
    )


def _check_paths(source: Path, target: Path, *, overwrite: bool) -> None:
    from mloop.errors import NotFoundError

    file_format(source)
    file_format(target)
    if not source.is_file():
        raise NotFoundError(f"input file {source} does not exist")
    if target.exists() and not overwrite:
        raise AlreadyExistsError(
            f"{target} exists; pass overwrite=True (--overwrite) to replace it"
        )
    if target.resolve() == source.resolve():
        raise InvalidInputError(
            "the output would overwrite the input; name another file", field="output"
        )


def _plan(
    model: LoadedModel, columns: list[str], keep: Sequence[str], method: str | None
) -> ChunkPlan:
    signature = model.signature
    chosen = method or model.serve_method
    if chosen not in ("predict", "predict_proba"):
        raise InvalidInputError(
            f"method is predict or predict_proba, got {chosen!r}", field="method"
        )
    if not model.has_method(chosen):
        raise InvalidInputError(f"the model has no {chosen}", field="method")
    inputs = signature.input_names if signature is not None else list(columns)
    for name in inputs:
        if name not in columns:
            raise ModelInputError(
                name,
                f"is missing from the input file; the model takes {', '.join(inputs)} "
                f"and the file has {', '.join(columns)}",
            )
    kept = list(columns) if list(keep) == ["*"] else list(dict.fromkeys(keep))
    for name in kept:
        if name not in columns:
            raise InvalidInputError(
                f"--keep-columns names {name!r}, which is not in the input file "
                f"(its columns: {', '.join(columns)})",
                field="keep_columns",
            )
    return ChunkPlan(inputs=inputs, keep=kept, method=chosen)


def _checked(
    chunks: Iterator[pa.RecordBatch], model: LoadedModel, plan: ChunkPlan
) -> Iterator[pa.RecordBatch]:
    """The chunks, the first one checked against the signature here, before workers see it."""
    from mloop.models.inputs import check_columns

    first = True
    for chunk in chunks:
        if first and model.signature is not None:
            check_columns(columns_of(chunk, plan.inputs), model.signature)
            first = False
        yield chunk


# Starting worker processes costs a second or more (each imports mloop and the model's
# libraries); with `workers` left to choose, a pool starts only when the first chunk's time
# says the rest would take longer than that in this process.
_POOL_WORTH_S = 2.0


class _Schedule:
    """Runs chunks in this process or in a pool, and records which it chose."""

    def __init__(
        self,
        model: LoadedModel,
        plan: ChunkPlan,
        loader: WorkerLoader,
        *,
        workers: int | None,
        total_rows: int | None,
    ) -> None:
        self.model, self.plan, self.loader = model, plan, loader
        self.requested = workers
        self.total_rows = total_rows
        self.workers = 1

    def run(
        self, chunks: Iterator[pa.RecordBatch], chunk_rows: int
    ) -> Iterator[tuple[pa.RecordBatch, np.ndarray[Any, Any]]]:
        if self.requested is not None and self.requested > 1:
            self.workers = self.requested
            yield from predict_pool(chunks, self.loader, self.plan, self.requested)
            return
        first = next(chunks, None)
        if first is None:
            return
        started = time.perf_counter()
        predictions = run_chunk(self.model, first, self.plan)
        seconds = time.perf_counter() - started
        yield first.select(self.plan.keep), predictions
        if self.requested is None and self._pool_pays(seconds, chunk_rows):
            self.workers = _usable_cores()
            if self.workers > 1:
                yield from predict_pool(chunks, self.loader, self.plan, self.workers)
                return
        for chunk in chunks:
            yield chunk.select(self.plan.keep), run_chunk(self.model, chunk, self.plan)

    def _pool_pays(self, seconds: float, chunk_rows: int) -> bool:
        if self.total_rows is None:  # CSV: no row count, judge by the chunk alone
            return seconds * 4 > _POOL_WORTH_S
        remaining = max(0, self.total_rows - chunk_rows) / chunk_rows
        return seconds * remaining > _POOL_WORTH_S


def _usable_cores() -> int:
    """Cores this process may run on (a container's or taskset's limit, not the machine's)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - macOS and Windows


# -- output -------------------------------------------------------------------------------------


def output_names(model: LoadedModel, method: str, width: int) -> list[str]:
    """Names of the prediction columns: the signature's outputs when they fit, else generic."""
    signature = model.signature
    if signature is not None and signature.method == method and len(signature.outputs) == width:
        return [c.name for c in signature.outputs]
    if width == 1:
        return ["prediction"]
    classes = model.package.flavor_options.get("classes")
    if method == "predict_proba" and isinstance(classes, list) and len(classes) == width:
        return [f"proba_{c}" for c in classes]
    return [f"prediction_{i}" for i in range(width)]


def _write(
    results: Iterator[tuple[pa.RecordBatch, np.ndarray[Any, Any]]],
    target: Path,
    model: LoadedModel,
    plan: ChunkPlan,
    progress: Progress | None,
) -> tuple[int, int, list[str]]:
    temporary = target.with_name(f".{target.name}.partial")
    writer: Any = None
    rows = chunks = 0
    names: list[str] = []
    try:
        for kept, predictions in results:
            if writer is None:
                width = 1 if predictions.ndim == 1 else predictions.shape[1]
                names = _prediction_names(model, plan, width)
            batch = output_batch(kept, predictions, names)
            if writer is None:
                writer = open_writer(temporary, file_format(target), batch.schema)
            writer.write_batch(batch)
            rows += batch.num_rows
            chunks += 1
            if progress is not None:
                progress.advance(batch.num_rows)
        if writer is None:
            raise InvalidInputError("the input file has no rows: nothing to predict", field="input")
        writer.close()
        writer = None
        os.replace(temporary, target)
    finally:
        if writer is not None:
            writer.close()
        temporary.unlink(missing_ok=True)
    return rows, chunks, [*plan.keep, *names]


def _prediction_names(model: LoadedModel, plan: ChunkPlan, width: int) -> list[str]:
    names = output_names(model, plan.method, width)
    clash = sorted(set(names).intersection(plan.keep))
    if clash:
        raise InvalidInputError(
            f"the kept input column {clash[0]!r} has the name of a prediction column; "
            "leave it out of --keep-columns or rename it",
            field="keep_columns",
        )
    return names
