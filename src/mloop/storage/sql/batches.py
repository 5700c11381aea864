"""Writing a batch of metrics, params and tags to a run inside one transaction.

Everything here is idempotent: metric chunks are keyed by a digest of their content, params are
insert-or-ignore after a conflict check, tags are upserts, and the latest-metric row keeps the
maximum (step, timestamp, value), so batches that arrive twice or out of order change nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Engine, String, bindparam, select, tuple_
from sqlalchemy.engine import Connection

from mloop.artifacts.paths import clean_relative_path
from mloop.entities import Metric, Param, RunInput, RunStatus, RunTag
from mloop.entities.clock import now_ms
from mloop.entities.validation import validate_end_status, validate_run_id
from mloop.errors import (
    InvalidInputError,
    ParamConflictError,
    RunNotActiveError,
    RunNotFoundError,
)
from mloop.storage import metric_chunks
from mloop.storage.sql import schema
from mloop.storage.sql.dialect import insert_ignore
from mloop.storage.sql.prepared import Prepared, PreparedRows
from mloop.storage.sql.schema_artifacts import artifact_manifests

_runs = schema.runs
_params = schema.params
_tags = schema.tags
_latest = schema.latest_metrics
_keys = schema.metric_keys
_chunks = schema.metric_chunks
_inputs = schema.run_inputs


_LOOKUP_RUN = select(_runs.c.id, _runs.c.lifecycle_stage).where(
    _runs.c.run_uuid == bindparam("run_uuid")
)


def lookup_run(conn: Connection, run_uuid: str, *, allow_deleted: bool = False) -> int | None:
    """The surrogate key of a run, or None when it does not exist.

    Raises:
        RunNotActiveError: the run is deleted and `allow_deleted` is false.
    """
    row = conn.execute(_LOOKUP_RUN, {"run_uuid": run_uuid}).one_or_none()
    if row is None:
        return None
    pk, stage = row
    if stage != "active" and not allow_deleted:
        raise RunNotActiveError(run_uuid, "deleted")
    return int(pk)


def end_values(status: RunStatus | str, end_time_ms: int | None) -> dict[str, Any]:
    """The column values that end a run: a terminal status and its end time (default now).

    Raises:
        InvalidInputError: the status is not FINISHED, FAILED or KILLED.
    """
    final = validate_end_status(status)
    return {"status": final.value, "end_time": end_time_ms if end_time_ms is not None else now_ms()}


def check_shared_folder(run_id: str, folder: str) -> tuple[str, str]:
    """Check a `(run id, folder)` whose artifact files a new run shares; returns them clean.

    Raises:
        InvalidInputError: the run id is malformed, or the folder is the root or escapes it.
    """
    clean = str(clean_relative_path(folder))
    if clean == ".":
        raise InvalidInputError(
            "name the folder of artifacts to share (e.g. 'environment'), not the root",
            field="folder",
        )
    return validate_run_id(run_id), clean


_manifest = artifact_manifests
MANIFEST_COLUMNS = ["owner_id", "path", "digest", "size", "creation_time"]


def linked_files(prefix: str, *conditions: Any) -> Any:
    """The manifest rows (`MANIFEST_COLUMNS`) a run gets when it links another run's files.

    Bound values, named with `prefix`: `owner_id` (the new run), `source` (the run whose files
    are linked), `pattern` (`like_folder`) and `now`. `conditions` are further conditions.
    """
    return select(
        bindparam(f"{prefix}owner_id", type_=String),
        _manifest.c.path,
        _manifest.c.digest,
        _manifest.c.size,
        bindparam(f"{prefix}now", type_=BigInteger),
    ).where(
        _manifest.c.owner_id == bindparam(f"{prefix}source"),
        _manifest.c.path.like(bindparam(f"{prefix}pattern"), escape="!"),
        *conditions,
    )


_LINK = Prepared(
    lambda _dialect: (
        _manifest.insert()
        .from_select(MANIFEST_COLUMNS, linked_files(""))
        .returning(_manifest.c.path)
    )
)


def like_folder(folder: str) -> str:
    """The LIKE pattern (escape character `!`) of every path under `folder`."""
    escaped = folder.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"{escaped}/%"


def link_artifacts(conn: Connection, run_uuid: str, source: str, folder: str) -> None:
    """Give a new run the manifest rows of `source`'s files under `folder` (same blobs).

    Raises:
        RunNotFoundError: `source` does not exist.
    """
    # Counted from RETURNING: an INSERT's rowcount is not kept by every driver (psycopg: -1).
    linked = len(
        _LINK.execute(
            conn,
            {
                "owner_id": run_uuid,
                "now": now_ms(),
                "source": source,
                "pattern": like_folder(folder),
            },
        )
    )
    # Checked only when nothing was linked: the usual case costs one statement.
    if linked == 0 and lookup_run(conn, source, allow_deleted=True) is None:
        raise RunNotFoundError(source)


# Built once: constructing a statement costs more than running it for a small batch.
_EXISTING_PARAMS = select(_params.c.key, _params.c.value).where(
    _params.c.run_id == bindparam("run_id"), _params.c.key.in_(bindparam("keys", expanding=True))
)


# The statements of every batch, run on the driver's cursor (`prepared.py`); each row gives
# every column of its table.
_PARAM_INSERT = PreparedRows(_params)
_CHUNK_INSERT = PreparedRows(_chunks)
_TAG_UPSERT = PreparedRows(_tags, keys=("run_id", "key"), update=("value",))
_LATEST_COLUMNS = ("step", "timestamp", "value", "is_nan")


def _is_newer(excluded: Any) -> Any:
    """The incoming latest-metric row beats the stored one: higher (step, timestamp, value)."""
    return tuple_(_latest.c.step, _latest.c.timestamp, _latest.c.value) < tuple_(
        excluded.step, excluded.timestamp, excluded.value
    )


_LATEST_UPSERT = PreparedRows(
    _latest, keys=("run_id", "key_id"), update=_LATEST_COLUMNS, where=_is_newer
)


class BatchWriter:
    """Writes batches for one store; caches metric key ids, which never change once assigned."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._key_ids: dict[str, int] = {}

    def write(
        self,
        conn: Connection,
        run_pk: int,
        run_uuid: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> dict[str, int]:
        """Write one batch inside the caller's write transaction.

        Returns:
            Metric key ids this batch assigned or looked up; pass them to `remember_keys` once the
            transaction has committed (ids from a rolled-back transaction may not exist).
        """
        learned: dict[str, int] = {}
        if params:
            self._write_params(conn, run_pk, run_uuid, params)
        if tags:
            last = {t.key: t.value for t in tags}  # within a batch the last write wins
            _TAG_UPSERT.executemany(
                conn, [{"run_id": run_pk, "key": k, "value": v} for k, v in last.items()]
            )
        if metrics:
            learned = self._write_metrics(conn, run_pk, metrics)
        return learned

    def write_inputs(self, conn: Connection, run_pk: int, inputs: Sequence[RunInput]) -> None:
        """Record dataset inputs inside the caller's write transaction."""
        if inputs:
            conn.execute(
                insert_ignore(conn, _inputs),
                [
                    {
                        "run_id": run_pk,
                        "name": i.name,
                        "digest": i.digest,
                        "context": i.context,
                        "source": i.source,
                    }
                    for i in inputs
                ],
            )

    def remember_keys(self, learned: dict[str, int]) -> None:
        """Cache key ids learned in a transaction that committed."""
        self._key_ids.update(learned)

    def known_keys(self, metrics: Sequence[Metric]) -> dict[str, int] | None:
        """The cached ids of the metrics' keys; None when one is not cached yet."""
        cached = self._key_ids
        try:
            return {m.key: cached[m.key] for m in metrics}
        except KeyError:
            return None

    def _write_params(
        self, conn: Connection, run_pk: int, run_uuid: str, params: Sequence[Param]
    ) -> None:
        wanted = distinct_params(run_uuid, params)
        # Insert first: new params (the usual case) cost one statement; only when some key was
        # already there are the values read back and compared (those just inserted match).
        inserted = _PARAM_INSERT.executemany(
            conn, [{"run_id": run_pk, "key": k, "value": v} for k, v in wanted.items()]
        )
        if inserted < len(wanted):
            existing = conn.execute(_EXISTING_PARAMS, {"run_id": run_pk, "keys": list(wanted)})
            for key, old in existing:
                if old != wanted[key]:
                    raise ParamConflictError(run_uuid, key, old, wanted[key])

    def _write_metrics(
        self, conn: Connection, run_pk: int, metrics: Sequence[Metric]
    ) -> dict[str, int]:
        key_ids = self._resolve_keys(conn, {m.key for m in metrics})
        chunks, latest = metric_rows(metrics, key_ids, run_pk)
        _CHUNK_INSERT.executemany(conn, chunks)
        _LATEST_UPSERT.executemany(conn, latest)
        return key_ids

    def _resolve_keys(self, conn: Connection, keys: set[str]) -> dict[str, int]:
        found = {k: self._key_ids[k] for k in keys if k in self._key_ids}
        # Sorted: concurrent writers then take key locks in one order and cannot deadlock.
        missing = sorted(k for k in keys if k not in found)
        if missing:
            conn.execute(insert_ignore(conn, _keys), [{"key": k} for k in missing])
            rows = conn.execute(select(_keys.c.key, _keys.c.id).where(_keys.c.key.in_(missing)))
            found.update((key, int(key_id)) for key, key_id in rows)
        return found


def distinct_params(run_uuid: str, params: Sequence[Param]) -> dict[str, str]:
    """The params by key; the same key twice must have the same value.

    Raises:
        ParamConflictError: a key comes twice with different values.
    """
    wanted: dict[str, str] = {}
    for p in params:
        if wanted.setdefault(p.key, p.value) != p.value:
            raise ParamConflictError(run_uuid, p.key, wanted[p.key], p.value)
    return wanted


def metric_rows(
    metrics: Sequence[Metric], key_ids: dict[str, int], run_pk: int | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The `metric_chunks` rows (one chunk per key) and `latest_metrics` rows of a batch.

    Rows carry `run_id` when `run_pk` is given, else every other column only.
    """
    by_key: dict[str, list[Metric]] = {}
    for m in metrics:
        group = by_key.get(m.key)
        if group is None:
            by_key[m.key] = [m]
        else:
            group.append(m)
    owner = {} if run_pk is None else {"run_id": run_pk}
    chunks = []
    latest = []
    for key, group in by_key.items():
        points = _unique_points(group)
        steps = [p.step for p in points]
        stamps = [p.timestamp_ms for p in points]
        values = [p.value for p in points]
        best = _latest_point(points, steps)
        nan = math.isnan(best.value)
        key_id = key_ids[key]
        latest.append(
            {
                **owner,
                "key_id": key_id,
                "step": best.step,
                "timestamp": best.timestamp_ms,
                "value": 0.0 if nan else best.value,
                "is_nan": nan,
            }
        )
        payload = metric_chunks.encode_columns(steps, stamps, values)
        chunks.append(
            {
                **owner,
                "key_id": key_id,
                "digest": metric_chunks.digest(payload),
                "n_points": len(points),
                "min_step": min(steps),
                "max_step": max(steps),
                "payload": payload,
            }
        )
    return chunks, latest


def _latest_order(point: Metric) -> tuple[int, int, float]:
    """Which point is the latest: highest step, then timestamp, then value (NaN as 0)."""
    value = point.value
    return (point.step, point.timestamp_ms, 0.0 if math.isnan(value) else value)


def _latest_point(points: list[Metric], steps: list[int]) -> Metric:
    """The latest point; usually the only one at the highest step, found at C speed."""
    top = max(steps)
    if steps.count(top) == 1:
        return points[steps.index(top)]
    return max((p for p in points if p.step == top), key=_latest_order)


def _unique_points(points: list[Metric]) -> list[Metric]:
    """The points without repeats; a point repeated within one batch is stored once."""
    if len({(p.step, p.timestamp_ms) for p in points}) == len(points):
        return points  # the usual case: no two points share a step and time
    unique: dict[tuple[int, int, object], Metric] = {}
    for p in points:
        # NaN is not equal to itself, so it is keyed by a marker.
        unique.setdefault((p.step, p.timestamp_ms, p.value if p.value == p.value else "nan"), p)
    return list(unique.values())
