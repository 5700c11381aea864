"""A new run written whole by one PostgreSQL statement.

A client that defers a run's create sends it with the run's end (`SqlRunStore.finish` with a
start): the run, its tags, the files it shares, its params, metric chunks and latest values.
As a transaction that is eight round trips to PostgreSQL (BEGIN, six statements, COMMIT), most
of a short run's cost. Here data-modifying CTEs insert all of it in one statement, sent without
BEGIN and COMMIT (one statement is atomic on its own): one round trip.

Every insert takes the run's key from the CTE that inserts the run, so when the run is not
inserted (it exists: a retried request; its experiment is missing or deleted; the run whose
files it shares is missing) nothing at all is written and the caller takes the transactional
path, which finds out which and says so. Metric keys must already be known (cached ids): a
batch with a new key takes the transactional path too, which assigns it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, bindparam, exists, func, select
from sqlalchemy.engine import Connection

from mloop.entities import Metric, Param, RunTag
from mloop.entities.clock import now_ms
from mloop.storage.sql import schema
from mloop.storage.sql.batches import (
    MANIFEST_COLUMNS,
    BatchWriter,
    distinct_params,
    like_folder,
    linked_files,
    metric_rows,
)
from mloop.storage.sql.prepared import Prepared
from mloop.storage.sql.run_writes import RUN_COLUMNS, run_source
from mloop.storage.sql.schema_artifacts import artifact_manifests

_runs = schema.runs
_manifest = artifact_manifests
# The tables filled from arrays, one per column besides the run's key.
_CHILDREN: dict[str, Table] = {
    "params": schema.params,
    "tags": schema.tags,
    "chunks": schema.metric_chunks,
    "latest": schema.latest_metrics,
}


def _statement(shares: bool, parts: tuple[str, ...]) -> Any:
    """`WITH new_run AS (INSERT ... RETURNING id), ... SELECT id FROM new_run`."""
    from sqlalchemy.dialects import postgresql

    conditions = []
    if shares:
        source_run = _runs.alias("source_run")
        conditions.append(exists().where(source_run.c.run_uuid == bindparam("link_source")))
    new_run = (
        postgresql.insert(_runs)
        .from_select(RUN_COLUMNS, run_source(*conditions), include_defaults=False)
        .on_conflict_do_nothing(index_elements=["run_uuid"])
        .returning(_runs.c.id)
        .cte("new_run")
    )
    ctes = []
    if shares:
        linked = postgresql.insert(_manifest).from_select(
            MANIFEST_COLUMNS, linked_files("link_", select(new_run.c.id).exists())
        )
        ctes.append(linked.cte("linked"))
    for part in parts:
        table = _CHILDREN[part]
        columns = [c for c in table.columns if c.name != "run_id"]
        rows = select(
            new_run.c.id,
            *(
                func.unnest(bindparam(f"{part}_{c.name}", type_=postgresql.ARRAY(c.type)))
                for c in columns
            ),
        )
        insert = postgresql.insert(table).from_select(["run_id", *(c.name for c in columns)], rows)
        ctes.append(insert.cte(f"new_{part}"))
    return select(new_run.c.id).add_cte(*ctes)


# By (shares files, the parts present): each variant is compiled once, and psycopg prepares
# it on the server after a few uses.
_VARIANTS: dict[tuple[bool, tuple[str, ...]], Prepared] = {}


def write_whole_run(
    conn: Connection,
    writer: BatchWriter,
    run: dict[str, Any],
    shared: tuple[str, str] | None,
    batch: tuple[Sequence[Metric], Sequence[Param], Sequence[RunTag]],
) -> bool:
    """Insert a new run with its batch in one statement on `conn` (autocommit, PostgreSQL).

    Args:
        conn: a PostgreSQL connection in autocommit mode.
        writer: the store's batch writer (its cached metric key ids).
        run: `INSERT_RUN`'s bound values, with the run's end status and time.
        shared: `(run id, folder)` whose files the run links, checked.
        batch: the run's metrics, params and tags, checked.

    Returns:
        Whether it was written; False when the run was not inserted (nothing was written) or
        a metric key is not known yet (nothing was tried).

    Raises:
        ParamConflictError: a param comes twice with different values (nothing written).
    """
    metrics, params, tags = batch
    key_ids = writer.known_keys(metrics) if metrics else {}
    if key_ids is None:
        return False
    values = dict(run)
    parts: list[str] = []
    if params:
        wanted = distinct_params(run["b_run_uuid"], params)
        values["params_key"], values["params_value"] = list(wanted), list(wanted.values())
        parts.append("params")
    if tags:
        last = {t.key: t.value for t in tags}  # within a batch the last write wins
        values["tags_key"], values["tags_value"] = list(last), list(last.values())
        parts.append("tags")
    if metrics:
        chunks, latest = metric_rows(metrics, key_ids, None)
        for part, rows in (("chunks", chunks), ("latest", latest)):
            for column in rows[0]:
                values[f"{part}_{column}"] = [row[column] for row in rows]
            parts.append(part)
    if shared is not None:
        source, folder = shared
        values.update(
            link_owner_id=run["b_run_uuid"],
            link_source=source,
            link_pattern=like_folder(folder),
            link_now=now_ms(),
        )
    variant = (shared is not None, tuple(parts))
    prepared = _VARIANTS.get(variant)
    if prepared is None:
        prepared = _VARIANTS[variant] = Prepared(lambda _dialect: _statement(*variant))
    return bool(prepared.execute(conn, values))
