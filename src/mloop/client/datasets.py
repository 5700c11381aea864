"""Datasets through the default store: add, snapshot, load, log as run inputs, and lineage.

The functions of `mloop.data.snapshots` & co. take a store; these use the default one (from
`MLOOP_TRACKING_URI`, or `.mloop/`) and the stat cache in the mloop home, and they are what
`mloop.data.add/snapshot/load` and `mloop.log_input` are.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mloop.client.active_run import require_run_id
from mloop.client.context import get_store, settings
from mloop.entities import RunInput
from mloop.entities.datasets import DatasetVersion, LineageRun

if TYPE_CHECKING:
    from mloop.data.loading import FrameKind
    from mloop.data.snapshots import AddResult
    from mloop.data.stat_cache import StatCache
    from mloop.entities.registry import ModelVersion
    from mloop.storage import Store

STAT_CACHE_FILE = "stat-cache.db"
_MAX_MODEL_VERSIONS = 1000


def stat_cache() -> StatCache:
    """The stat cache of this machine's mloop home (`.mloop/stat-cache.db`)."""
    from mloop.data.stat_cache import StatCache

    return StatCache(settings().home / STAT_CACHE_FILE)


def add(
    path: str | os.PathLike[str],
    name: str,
    *,
    message: str = "",
    description: str | None = None,
    tags: dict[str, str] | None = None,
) -> AddResult:
    """Version a file or folder as the next version of dataset `name` (unless unchanged).

    Unchanged files are recognised by inode, size and mtime and not read again.

    Args:
        path: a file or folder.
        name: the dataset (created on its first version).
        message: what changed.
        description: sets the dataset's description.
        tags: set on the dataset.

    Returns:
        The version, with `created` False when the content equals the latest version.

    Raises:
        InvalidInputError: bad name or tags, or a path with no files.
    """
    from mloop.data.snapshots import add as add_path

    cache = stat_cache()
    try:
        return add_path(
            get_store(),
            path,
            name,
            cache=cache,
            message=message,
            description=description,
            tags=tags,
        )
    finally:
        cache.close()


def snapshot(
    data: Any,
    name: str,
    *,
    message: str = "",
    description: str | None = None,
    tags: dict[str, str] | None = None,
) -> AddResult:
    """Version a pandas or Polars data frame or an Arrow table, stored as Parquet.

    Args:
        data: the frame.
        name: the dataset.
        message: what changed.
        description: sets the dataset's description.
        tags: set on the dataset.

    Returns:
        The version (with schema and row count), `created` False when unchanged.

    Raises:
        InvalidInputError: bad name or tags, or an object that is not a table.
    """
    from mloop.data.snapshots import snapshot as snapshot_frame

    return snapshot_frame(
        get_store(), data, name, message=message, description=description, tags=tags
    )


def load(reference: str, *, as_: FrameKind = "pandas") -> Any:
    """The data frame of a tabular dataset version.

    Args:
        reference: `datasets:/NAME/3`, `datasets:/NAME@alias`, `NAME/latest`, a digest ...
        as_: "pandas" (default), "polars" or "arrow".

    Raises:
        InvalidInputError: the version is not tabular.
        NotFoundError: no such dataset, version or blob.
    """
    from mloop.data.loading import load as load_frame

    return load_frame(get_store(), reference, as_=as_)


def log_input(
    dataset: str | DatasetVersion | AddResult,
    *,
    context: str = "training",
    run_id: str | None = None,
) -> DatasetVersion:
    """Record that the active run (or `run_id`) consumed a dataset version.

    Args:
        dataset: a reference (`datasets:/NAME/3`, `NAME@alias` ...), a version, or what
            `add`/`snapshot` returned.
        context: the role the data played ("training", "validation" ...).
        run_id: log to this run instead of the active one (a run is started if none is).

    Returns:
        The version logged.

    Raises:
        NotFoundError: no such dataset, version or run.
        InvalidInputError: a malformed reference.
    """
    store = get_store()
    version = _version_of(store, dataset)
    target = require_run_id(run_id)
    store.runs.log_inputs(target, [RunInput(version.name, version.digest, version.uri, context)])
    return version


def _version_of(store: Store, dataset: str | DatasetVersion | AddResult) -> DatasetVersion:
    if isinstance(dataset, DatasetVersion):
        return dataset
    if isinstance(dataset, str):
        from mloop.data.refs import resolve

        return resolve(store, dataset)
    return dataset.version


@dataclass(frozen=True, slots=True)
class DatasetLineage:
    """What was built from a dataset version.

    Attributes:
        version: the dataset version.
        runs: the runs that logged it as an input.
        model_versions: registered model versions produced by those runs.
    """

    version: DatasetVersion
    runs: tuple[LineageRun, ...]
    model_versions: tuple[ModelVersion, ...] = ()


def lineage(reference: str | DatasetVersion, *, store: Store | None = None) -> DatasetLineage:
    """The runs that used a dataset version and the model versions those runs produced.

    Deployments of those model versions join here once deployment records exist (issue #5's
    lineage: data -> runs -> model versions -> deployments).

    Args:
        reference: a dataset reference or version.
        store: the store to ask (default: the default store).

    Raises:
        NotFoundError: no such dataset or version.
    """
    from mloop.data.refs import resolve

    target = store or get_store()
    version = reference if isinstance(reference, DatasetVersion) else resolve(target, reference)
    runs = tuple(target.datasets.lineage(version.name, version.version))
    models: list[ModelVersion] = []
    seen: set[tuple[str, int]] = set()
    for run in runs:
        page = target.registry.search_versions(
            f"run_id = '{run.run_id}'", max_results=_MAX_MODEL_VERSIONS
        )
        for model in page:
            if (model.name, model.version) not in seen:
                seen.add((model.name, model.version))
                models.append(model)
    return DatasetLineage(version, runs, tuple(models))
