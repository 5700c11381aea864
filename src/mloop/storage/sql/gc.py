"""Garbage collection: purge runs deleted long ago, then the blobs nothing references.

Safe with concurrent writers. A writer stores a blob first and references it afterwards, so a
blob is removed only when it is unreferenced *and* older than the grace period; storing bytes
that already exist refreshes the blob's age (local stores), so re-used old blobs are covered
too. The blob listing is taken before the references are read: anything referenced by then is
kept.

Which columns reference blobs: every column declared with `info={"blob_digest": True}` (run
artifact manifests), plus the digest columns of tables declared before that flag existed
(`_KNOWN_REFERENCES`). Tables of later stages flag their column and need no change here.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Engine, and_, select
from sqlalchemy.engine import Connection

from mloop.errors import InvalidInputError
from mloop.storage.sql import schema
from mloop.storage.sql.audit import append_event
from mloop.storage.sql.engine import read_transaction, with_retries, write_transaction
from mloop.storage.sql.schema_artifacts import artifact_manifests

if TYPE_CHECKING:
    from mloop.artifacts import BlobStat, BlobStore

_KNOWN_REFERENCES = (
    ("dataset_files", "digest"),
    ("dataset_versions", "digest"),
    ("model_versions", "package_digest"),
    ("run_inputs", "digest"),
)
# Runs purged per transaction: bounded work under the write lock.
_PURGE_BATCH = 200
_DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class GcReport:
    """What a garbage collection removed (or, in a dry run, would remove).

    Attributes:
        dry_run: True when nothing was changed.
        purged_runs: ids of the runs deleted permanently.
        kept_runs: deleted runs past the retention that stay because a registered model version
            comes from them.
        deleted_blobs: digests of the blobs removed.
        freed_bytes: their total size.
        young_blobs: unreferenced blobs spared because they are younger than the grace period.
        referenced_blobs: distinct digests still referenced.
        stale_objects: leftovers of dead writers removed (temporary files, packs without index).
        legacy_folders: per-run artifact folders of purged runs removed (files written there by
            code that predates the blob store).
    """

    dry_run: bool
    purged_runs: list[str] = field(default_factory=list)
    kept_runs: list[str] = field(default_factory=list)
    deleted_blobs: list[str] = field(default_factory=list)
    freed_bytes: int = 0
    young_blobs: int = 0
    referenced_blobs: int = 0
    stale_objects: int = 0
    legacy_folders: int = 0


def reference_columns() -> list[Column[Any]]:
    """Every column that holds blob digests, over the tables this schema has."""
    columns: list[Column[Any]] = []
    for table in schema.metadata.tables.values():
        columns.extend(c for c in table.columns if c.info.get("blob_digest"))
    for table_name, column_name in _KNOWN_REFERENCES:
        known = schema.metadata.tables.get(table_name)
        if (
            known is not None
            and column_name in known.c
            and all(c is not known.c[column_name] for c in columns)
        ):
            columns.append(known.c[column_name])
    return columns


def referenced_digests(conn: Connection, *, ignoring_owners: Any = None) -> set[str]:
    """The union of the digests every reference column holds.

    Args:
        conn: a connection.
        ignoring_owners: a subquery of artifact owner ids whose manifests do not count (the
            runs a dry run would purge).
    """
    digests: set[str] = set()
    for column in reference_columns():
        query = select(column).distinct()
        if ignoring_owners is not None and column.table is artifact_manifests:
            query = query.where(artifact_manifests.c.owner_id.not_in(ignoring_owners))
        digests.update(d for d in conn.execute(query).scalars() if d)
    return digests


def _purgeable(cutoff_ms: int) -> Any:
    runs = schema.runs
    query = select(runs.c.run_uuid).where(
        and_(
            runs.c.lifecycle_stage == "deleted",
            runs.c.deleted_time.is_not(None),
            runs.c.deleted_time < cutoff_ms,
        )
    )
    versions = schema.metadata.tables.get("model_versions")
    if versions is not None:
        query = query.where(
            runs.c.run_uuid.not_in(select(versions.c.run_id).where(versions.c.run_id.is_not(None)))
        )
    return query


def _kept(conn: Connection, cutoff_ms: int) -> list[str]:
    versions = schema.metadata.tables.get("model_versions")
    if versions is None:
        return []
    runs = schema.runs
    query = (
        select(runs.c.run_uuid)
        .where(runs.c.lifecycle_stage == "deleted", runs.c.deleted_time < cutoff_ms)
        .where(runs.c.run_uuid.in_(select(versions.c.run_id)))
        .order_by(runs.c.run_uuid)
    )
    return list(conn.execute(query).scalars())


def _purge_batch(conn: Connection, run_ids: Sequence[str], *, actor: str) -> None:
    """Delete runs with every row that belongs to them, each recorded in the audit log."""
    runs = schema.runs
    links = schema.metadata.tables.get("logged_model_links")
    for run_id in run_ids:
        files = conn.execute(
            artifact_manifests.delete().where(artifact_manifests.c.owner_id == run_id)
        ).rowcount
        if links is not None:
            conn.execute(links.delete().where(links.c.run_id == run_id))
        # Metrics, params, tags and inputs go with the row (ON DELETE CASCADE).
        conn.execute(runs.delete().where(runs.c.run_uuid == run_id))
        append_event(
            conn,
            actor=actor,
            action="run.purge",
            entity=("run", run_id),
            details={"artifact_files": int(files)},
        )


def purge_runs(engine: Engine, *, cutoff_ms: int, actor: str) -> list[str]:
    """Permanently delete the runs soft-deleted before `cutoff_ms`; returns their ids."""
    purged: list[str] = []
    while True:

        def run() -> list[str]:
            with write_transaction(engine) as conn:
                batch = list(
                    conn.execute(
                        _purgeable(cutoff_ms).order_by(schema.runs.c.run_uuid).limit(_PURGE_BATCH)
                    ).scalars()
                )
                _purge_batch(conn, batch, actor=actor)
                return batch

        batch = with_retries(run, what="purging deleted runs")
        purged.extend(batch)
        if len(batch) < _PURGE_BATCH:
            return sorted(purged)


def _doomed(
    stats: Iterable[BlobStat], referenced: set[str], *, young_after: float
) -> tuple[dict[str, int], int]:
    """Unreferenced blobs old enough to go (digest -> size), and how many were too young."""
    sizes: dict[str, int] = {}
    young: set[str] = set()
    for stat in stats:
        if stat.digest in referenced:
            continue
        if stat.modified_at >= young_after:
            young.add(stat.digest)  # a copy written recently: some writer may need it
        else:
            sizes[stat.digest] = max(sizes.get(stat.digest, 0), stat.size)
    for digest in young:
        sizes.pop(digest, None)
    return sizes, len(young)


def collect_garbage(
    engine: Engine,
    blobs: BlobStore,
    *,
    retention_days: float = 30.0,
    grace_hours: float = 24.0,
    dry_run: bool = False,
    actor: str = "mloop-gc",
    clock: Callable[[], float] = time.time,
) -> GcReport:
    """Purge runs deleted more than `retention_days` ago, then unreferenced blobs.

    Args:
        engine: the metadata database.
        blobs: the blob store at the artifact root.
        retention_days: how long a soft-deleted run stays restorable.
        grace_hours: unreferenced blobs younger than this stay (a writer may be about to
            reference them).
        dry_run: only report what would go.
        actor: recorded in the audit log for each purged run.
        clock: the time source, seconds since the epoch.

    Returns:
        What was (or would be) removed.

    Raises:
        InvalidInputError: a negative retention or grace period.
    """
    if retention_days < 0 or grace_hours < 0:
        raise InvalidInputError(
            f"retention ({retention_days} days) and grace period ({grace_hours} hours) must not "
            "be negative",
            field="retention_days" if retention_days < 0 else "grace_hours",
        )
    now = clock()
    cutoff_ms = int(now * 1000) - int(retention_days * _DAY_MS)
    with read_transaction(engine) as conn:
        kept = _kept(conn, cutoff_ms)
        would_purge = sorted(conn.execute(_purgeable(cutoff_ms)).scalars())
        query = select(schema.runs.c.run_uuid, schema.runs.c.artifact_uri).where(
            schema.runs.c.run_uuid.in_(_purgeable(cutoff_ms))
        )
        folders: dict[str, str] = {row.run_uuid: row.artifact_uri for row in conn.execute(query)}
    purged = would_purge if dry_run else purge_runs(engine, cutoff_ms=cutoff_ms, actor=actor)
    legacy = [] if dry_run else [(r, folders[r]) for r in purged if r in folders]
    # The listing comes first: a blob referenced by the time the references are read stays.
    stats = list(blobs.list_blobs())
    with read_transaction(engine) as conn:
        ignoring = _purgeable(cutoff_ms) if dry_run else None
        referenced = referenced_digests(conn, ignoring_owners=ignoring)
    doomed, young = _doomed(stats, referenced, young_after=now - grace_hours * 3600)
    stale = removed_folders = 0
    if not dry_run:
        blobs.delete(doomed)
        stale = blobs.remove_stale(older_than=now - grace_hours * 3600)
        removed_folders = remove_legacy_folders(blobs, legacy)
        if doomed:
            _record_blob_deletion(engine, blobs, doomed, actor=actor)
    return GcReport(
        dry_run=dry_run,
        purged_runs=purged,
        kept_runs=kept,
        deleted_blobs=sorted(doomed),
        freed_bytes=sum(doomed.values()),
        young_blobs=young,
        referenced_blobs=len(referenced),
        stale_objects=stale,
        legacy_folders=removed_folders,
    )


def _record_blob_deletion(
    engine: Engine, blobs: BlobStore, doomed: dict[str, int], *, actor: str
) -> None:
    def run() -> None:
        with write_transaction(engine) as conn:
            append_event(
                conn,
                actor=actor,
                action="blobs.gc",
                entity=("blob_store", blobs.uri),
                details={"deleted": len(doomed), "freed_bytes": sum(doomed.values())},
            )

    with_retries(run, what="recording the blob collection in the audit log")


def remove_legacy_folders(blobs: BlobStore, runs: Iterable[tuple[str, str]]) -> int:
    """Remove the per-run artifact folders of purged `(run_id, artifact_uri)` runs.

    Runs kept files in `<root>/<experiment>/<run_id>/artifacts/` before the blob store; model
    packages may still be written there. Only a folder strictly inside a local blob store's
    root, outside its `blobs/`, `packs/` and `tmp/`, and named after its run, is removed.
    """
    from mloop.artifacts import LocalBlobStore

    if not isinstance(blobs, LocalBlobStore):
        return 0
    root = blobs.root.resolve()
    reserved = {root / name for name in ("blobs", "packs", "tmp")}
    removed = 0
    for run_id, uri in runs:
        if "://" in uri and not uri.startswith("file://"):
            continue
        folder = Path(uri.removeprefix("file://")).resolve()
        inside = folder != root and folder.is_relative_to(root)
        owned = run_id in (folder.name, folder.parent.name)
        if not (inside and owned and folder.is_dir()) or any(
            folder.is_relative_to(r) for r in reserved
        ):
            continue
        shutil.rmtree(folder)
        if folder.parent.name == run_id:  # `<experiment>/<run_id>` is empty now
            with contextlib.suppress(OSError):
                folder.parent.rmdir()
        removed += 1
    return removed
