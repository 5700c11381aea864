"""Running chunks of a batch prediction: the plan each chunk follows, and the worker pool.

`mloop.client.predict` reads and writes the files; this module predicts chunks, here or in
worker processes that each load the model once (ONNX Runtime on one thread each), and hands
results back in input order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mloop.errors import MloopError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from mloop.models import LoadedModel


@dataclass(frozen=True, slots=True)
class ChunkPlan:
    """What each chunk goes through, fixed before the first chunk is read."""

    inputs: list[str]  # the columns the model reads
    keep: list[str]  # input columns copied to the output
    method: str


def columns_of(chunk: pa.RecordBatch, names: list[str]) -> dict[str, np.ndarray[Any, Any]]:
    """The named columns of a chunk as numpy arrays (what the model's input checks take)."""
    return {n: chunk.column(n).to_numpy(zero_copy_only=False) for n in names}


def run_chunk(model: LoadedModel, chunk: pa.RecordBatch, plan: ChunkPlan) -> np.ndarray[Any, Any]:
    """The model's output for one chunk (a data frame of every column without a signature)."""
    import numpy as np

    if model.signature is None:
        data: Any = chunk.select(plan.inputs).to_pandas()
    else:
        data = columns_of(chunk, plan.inputs)
    return np.asarray(getattr(model, plan.method)(data))


@dataclass(frozen=True, slots=True)
class WorkerLoader:
    """How a worker loads the model (picklable: it crosses into each worker once)."""

    folder: str
    trusted: bool
    prefer_onnx: bool


_WORKER_MODEL: list[LoadedModel] = []


def _start_worker(loader: WorkerLoader) -> None:
    from mloop.models import load_package

    # One ONNX Runtime thread per worker: the processes are the parallelism, and per-session
    # thread pools (which spin while they wait) fought over the cores, two to three times
    # slower for a forest on two workers (bench/RESULTS.md, Serving).
    _WORKER_MODEL.append(
        load_package(
            loader.folder, trusted=loader.trusted, prefer_onnx=loader.prefer_onnx, onnx_threads=1
        )
    )


def _predict_in_worker(chunk: pa.RecordBatch, plan: ChunkPlan) -> Any:
    """Predictions for one chunk, or an error's class, args and attributes.

    mloop errors take their details as constructor arguments, which pickling does not replay;
    they cross back as parts and are rebuilt in the parent.
    """
    try:
        return run_chunk(_WORKER_MODEL[0], chunk, plan)
    except MloopError as exc:
        return _WorkerError(type(exc), exc.args, dict(vars(exc)))


@dataclass(frozen=True, slots=True)
class _WorkerError:
    kind: type[MloopError]
    args: tuple[Any, ...]
    attributes: dict[str, Any]

    def rebuild(self) -> MloopError:
        error = self.kind.__new__(self.kind)
        Exception.__init__(error, *self.args)
        vars(error).update(self.attributes)
        return error


def predict_pool(
    chunks: Iterator[pa.RecordBatch], loader: WorkerLoader, plan: ChunkPlan, count: int
) -> Iterator[tuple[pa.RecordBatch, np.ndarray[Any, Any]]]:
    """Chunks predicted by `count` processes, yielded in input order.

    Workers start with `spawn`: a fork would copy this process's threads (the progress bar,
    ONNX Runtime's pool) in whatever state they are in.
    """
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(
        count,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(loader,),
    )
    pending: deque[tuple[pa.RecordBatch, Future[Any]]] = deque()
    try:
        for chunk in chunks:
            pending.append(
                (
                    chunk.select(plan.keep),
                    pool.submit(_predict_in_worker, chunk.select(plan.inputs), plan),
                )
            )
            if len(pending) >= 2 * count:
                yield _finished(*pending.popleft())
        while pending:
            yield _finished(*pending.popleft())
    except BrokenProcessPool as exc:
        raise MloopError(
            "a prediction worker process died: out of memory (try fewer workers or smaller "
            "chunks), or a script calling predict_file with workers > 1 lacks the "
            "`if __name__ == '__main__':` guard (each worker starts by importing the script)"
        ) from exc
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _finished(kept: pa.RecordBatch, future: Any) -> tuple[pa.RecordBatch, np.ndarray[Any, Any]]:
    result = future.result()
    if isinstance(result, _WorkerError):
        raise result.rebuild()
    return kept, result
