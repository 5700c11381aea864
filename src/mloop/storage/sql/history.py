"""Reading a run's metric history back from its chunks, as NumPy columns or as entities."""

from __future__ import annotations

from itertools import pairwise

from sqlalchemy import Engine, bindparam, select

from mloop.entities import Metric, MetricHistory
from mloop.entities.validation import validate_run_id
from mloop.errors import RunNotFoundError
from mloop.storage import metric_chunks
from mloop.storage.sql import schema
from mloop.storage.sql.engine import read_transaction

_runs = schema.runs
_keys = schema.metric_keys
_chunks = schema.metric_chunks

_RUN_PK = select(_runs.c.id).where(_runs.c.run_uuid == bindparam("run_uuid"))
_CHUNKS = (
    select(_chunks.c.payload, _chunks.c.n_points, _chunks.c.min_step, _chunks.c.max_step)
    .where(
        _chunks.c.run_id == bindparam("run_pk"),
        _chunks.c.key_id
        == select(_keys.c.id).where(_keys.c.key == bindparam("key")).scalar_subquery(),
    )
    .order_by(_chunks.c.min_step)
)

Chunk = tuple[bytes, int, int, int]


def read_columns(engine: Engine, run_id: str, key: str) -> MetricHistory:
    """Every point of one metric as NumPy columns, by step then timestamp, repeats dropped.

    Raises:
        RunNotFoundError: no such run.
    """
    import numpy as np

    chunks = _read_chunks(engine, run_id, key)
    parts = [metric_chunks.decode_columns(p, n) for p, n, _, _ in chunks]
    if not parts:
        empty = np.empty(0, dtype=np.int64)
        return MetricHistory(key, empty, empty.copy(), np.empty(0, dtype=np.float64))
    steps, stamps, values = (np.concatenate(c) for c in zip(*parts, strict=True))
    bits = values.view(np.int64)
    order = np.lexsort((bits, stamps, steps))
    steps, stamps, values, bits = steps[order], stamps[order], values[order], bits[order]
    if _ranges_overlap(chunks):
        # Only a point sent twice in different batches can repeat; after sorting, a repeat
        # sits next to its twin.
        keep = np.ones(len(steps), dtype=bool)
        keep[1:] = (steps[1:] != steps[:-1]) | (stamps[1:] != stamps[:-1]) | (bits[1:] != bits[:-1])
        steps, stamps, values = steps[keep], stamps[keep], values[keep]
    return MetricHistory(key, steps, stamps, values)


def read_points(engine: Engine, run_id: str, key: str) -> list[Metric]:
    """Every point of one metric as entities, by step then timestamp.

    Raises:
        RunNotFoundError: no such run.
    """
    columns = read_columns(engine, run_id, key)
    return [
        Metric(key, value, stamp, step)
        for step, stamp, value in zip(
            columns.steps.tolist(),
            columns.timestamps_ms.tolist(),
            columns.values.tolist(),
            strict=True,
        )
    ]


def _read_chunks(engine: Engine, run_id: str, key: str) -> list[Chunk]:
    validate_run_id(run_id)
    with read_transaction(engine) as conn:
        pk = conn.execute(_RUN_PK, {"run_uuid": run_id}).scalar_one_or_none()
        if pk is None:
            raise RunNotFoundError(run_id)
        rows = conn.execute(_CHUNKS, {"run_pk": pk, "key": key})
        return [(bytes(payload), count, low, high) for payload, count, low, high in rows]


def _ranges_overlap(chunks: list[Chunk]) -> bool:
    """True when two chunks (sorted by min_step) share a step, so points may repeat."""
    return any(later[2] <= earlier[3] for earlier, later in pairwise(chunks))
