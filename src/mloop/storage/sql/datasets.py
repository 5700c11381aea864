"""SQL implementation of the dataset store: datasets, versions, manifests, aliases, lineage."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.engine import Connection

from mloop.entities.clock import now_ms
from mloop.entities.datasets import (
    ColumnType,
    Dataset,
    DatasetKind,
    DatasetVersion,
    LineageRun,
    ManifestEntry,
    NewVersion,
    checked_commit,
    validate_alias,
)
from mloop.errors import DatasetNotFoundError, DatasetVersionNotFoundError
from mloop.storage.sql import schema
from mloop.storage.sql.dialect import insert_ignore, upsert
from mloop.storage.sql.engine import read_transaction, with_retries, write_transaction
from mloop.storage.sql.schema_artifacts import (
    dataset_aliases,
    dataset_files,
    dataset_tags,
    dataset_versions,
    datasets,
)

_FILE_BATCH = 5000
_INSERT_FILES = (
    "INSERT INTO dataset_files (dataset_id, version, path, digest, size) "
    "VALUES (%s, %s, %s, %s, %s)"
)
_INSERT_FILES_QMARK = _INSERT_FILES.replace("%s", "?")
# Result rows are read by attribute; their column types vary per query.
_Row = Any
_VERSION_COLUMNS = (
    datasets.c.name,
    dataset_versions.c.version,
    dataset_versions.c.digest,
    dataset_versions.c.kind,
    dataset_versions.c.message,
    dataset_versions.c.creation_time,
    dataset_versions.c.file_count,
    dataset_versions.c.total_size,
    dataset_versions.c.row_count,
    dataset_versions.c.table_schema,
    dataset_versions.c.source,
)
_VERSIONS = select(*_VERSION_COLUMNS).join_from(
    dataset_versions, datasets, dataset_versions.c.dataset_id == datasets.c.id
)


class SqlDatasetStore:
    """Datasets in a SQLite or PostgreSQL database.

    Args:
        engine: the database engine.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def commit_version(
        self,
        name: str,
        new: NewVersion,
        *,
        description: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> tuple[DatasetVersion, bool]:
        """Record the next version of a dataset, creating the dataset on its first version.

        The version number is taken under the dataset row's lock, so concurrent writers get
        distinct consecutive numbers. Content equal to the latest version's is not recorded again.

        Args:
            name: the dataset.
            new: the version's manifest and metadata.
            description: replaces the dataset's description when given.
            tags: set on the dataset (merged over existing tags).

        Returns:
            The version, and True when it was created (False: the content was unchanged and the
            existing latest version is returned).

        Raises:
            InvalidInputError: the name, a tag or a manifest path is invalid.
        """
        clean_tags = checked_commit(name, new, tags)

        def run() -> tuple[DatasetVersion, bool]:
            with write_transaction(self._engine) as conn:
                dataset_id, last = _lock_dataset(conn, name)
                _write_dataset_details(conn, dataset_id, description, clean_tags)
                if last:
                    latest = _version_row(conn, dataset_id, last)
                    if latest is not None and latest.digest == new.digest:
                        return _version_entity(latest), False
                number = last + 1
                conn.execute(
                    update(datasets).where(datasets.c.id == dataset_id).values(last_version=number)
                )
                _insert_version(conn, dataset_id, number, new)
                row = _version_row(conn, dataset_id, number)
                if row is None:  # pragma: no cover - inserted just above
                    raise DatasetVersionNotFoundError(name, str(number))
                return _version_entity(row), True

        return with_retries(run, what=f"adding a version of dataset {name}")

    def get(self, name: str) -> Dataset:
        """The dataset with its tags and aliases.

        Raises:
            DatasetNotFoundError: no such dataset.
        """
        with read_transaction(self._engine) as conn:
            row = conn.execute(select(*_DATASET_COLUMNS).where(datasets.c.name == name)).first()
            if row is None:
                raise DatasetNotFoundError(name)
            return _datasets_with_details(conn, [row])[0]

    def get_version(self, name: str, version: int) -> DatasetVersion:
        """One version by number.

        Raises:
            DatasetNotFoundError: no such dataset.
            DatasetVersionNotFoundError: the dataset has no such version.
        """
        with read_transaction(self._engine) as conn:
            dataset_id, _ = _find_dataset(conn, name)
            row = _version_row(conn, dataset_id, version)
            if row is None:
                raise DatasetVersionNotFoundError(name, str(version))
            return _version_entity(row)

    def get_latest(self, name: str) -> DatasetVersion:
        """The newest version.

        Raises:
            DatasetNotFoundError: no such dataset.
            DatasetVersionNotFoundError: the dataset has no version yet.
        """
        with read_transaction(self._engine) as conn:
            dataset_id, last = _find_dataset(conn, name)
            row = _version_row(conn, dataset_id, last)
            if row is None:
                raise DatasetVersionNotFoundError(name, "latest")
            return _version_entity(row)

    def get_by_alias(self, name: str, alias: str) -> DatasetVersion:
        """The version an alias points at.

        Raises:
            DatasetNotFoundError: no such dataset.
            DatasetVersionNotFoundError: the dataset has no such alias.
        """
        with read_transaction(self._engine) as conn:
            dataset_id, _ = _find_dataset(conn, name)
            number = conn.execute(
                select(dataset_aliases.c.version).where(
                    dataset_aliases.c.dataset_id == dataset_id, dataset_aliases.c.alias == alias
                )
            ).scalar_one_or_none()
            row = None if number is None else _version_row(conn, dataset_id, number)
            if row is None:
                raise DatasetVersionNotFoundError(name, f"@{alias}")
            return _version_entity(row)

    def find_by_digest(self, digest: str) -> list[DatasetVersion]:
        """Every version whose content has this manifest digest (oldest first)."""
        with read_transaction(self._engine) as conn:
            rows = conn.execute(
                _VERSIONS.where(dataset_versions.c.digest == digest).order_by(
                    dataset_versions.c.creation_time, datasets.c.name
                )
            ).all()
            return [_version_entity(r) for r in rows]

    def list_versions(self, name: str) -> list[DatasetVersion]:
        """Every version of a dataset, oldest first.

        Raises:
            DatasetNotFoundError: no such dataset.
        """
        with read_transaction(self._engine) as conn:
            dataset_id, _ = _find_dataset(conn, name)
            rows = conn.execute(
                _VERSIONS.where(dataset_versions.c.dataset_id == dataset_id).order_by(
                    dataset_versions.c.version
                )
            ).all()
            return [_version_entity(r) for r in rows]

    def list_files(self, name: str, version: int) -> list[ManifestEntry]:
        """The manifest of a version, by path.

        Raises:
            DatasetNotFoundError: no such dataset.
            DatasetVersionNotFoundError: the dataset has no such version.
        """
        with read_transaction(self._engine) as conn:
            dataset_id, _ = _find_dataset(conn, name)
            if _version_row(conn, dataset_id, version) is None:
                raise DatasetVersionNotFoundError(name, str(version))
            rows = conn.execute(
                select(dataset_files.c.path, dataset_files.c.digest, dataset_files.c.size)
                .where(dataset_files.c.dataset_id == dataset_id, dataset_files.c.version == version)
                .order_by(dataset_files.c.path)
            ).all()
            return [ManifestEntry(path, digest, size) for path, digest, size in rows]

    def set_alias(self, name: str, alias: str, version: int) -> None:
        """Point an alias at a version (moving it when it exists).

        Raises:
            DatasetNotFoundError: no such dataset.
            DatasetVersionNotFoundError: the dataset has no such version.
            InvalidInputError: the alias name is not allowed.
        """
        validate_alias(alias)

        def run() -> None:
            with write_transaction(self._engine) as conn:
                dataset_id, _ = _find_dataset(conn, name)
                if _version_row(conn, dataset_id, version) is None:
                    raise DatasetVersionNotFoundError(name, str(version))
                conn.execute(
                    upsert(
                        conn, dataset_aliases, keys=("dataset_id", "alias"), update=("version",)
                    ),
                    {"dataset_id": dataset_id, "alias": alias, "version": version},
                )

        with_retries(run, what=f"setting alias {alias} of dataset {name}")

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove an alias.

        Raises:
            DatasetNotFoundError: no such dataset.
            DatasetVersionNotFoundError: the dataset has no such alias.
        """

        def run() -> None:
            with write_transaction(self._engine) as conn:
                dataset_id, _ = _find_dataset(conn, name)
                gone = conn.execute(
                    delete(dataset_aliases).where(
                        dataset_aliases.c.dataset_id == dataset_id,
                        dataset_aliases.c.alias == alias,
                    )
                ).rowcount
                if not gone:
                    raise DatasetVersionNotFoundError(name, f"@{alias}")

        with_retries(run, what=f"deleting alias {alias} of dataset {name}")

    def lineage(self, name: str, version: int) -> list[LineageRun]:
        """The runs that logged this version as an input, oldest first.

        A run input matches on the dataset name and the version's content digest, so a run that
        logged the same content under this name before it was re-added still counts.

        Raises:
            DatasetNotFoundError: no such dataset.
            DatasetVersionNotFoundError: the dataset has no such version.
        """
        runs, inputs = schema.runs, schema.run_inputs
        with read_transaction(self._engine) as conn:
            dataset_id, _ = _find_dataset(conn, name)
            row = _version_row(conn, dataset_id, version)
            if row is None:
                raise DatasetVersionNotFoundError(name, str(version))
            found = conn.execute(
                select(
                    runs.c.run_uuid,
                    runs.c.name,
                    runs.c.experiment_id,
                    runs.c.status,
                    runs.c.start_time,
                    inputs.c.context,
                )
                .join_from(inputs, runs, inputs.c.run_id == runs.c.id)
                .where(inputs.c.name == name, inputs.c.digest == row.digest)
                .where(runs.c.lifecycle_stage == "active")
                .order_by(runs.c.start_time, runs.c.run_uuid, inputs.c.context)
            ).all()
        return [
            LineageRun(run_id, run_name, str(exp), status, start, context)
            for run_id, run_name, exp, status, start, context in found
        ]

    def referenced_digests(self) -> set[str]:
        """Every blob digest some dataset version's manifest holds (what `gc` must keep)."""
        with read_transaction(self._engine) as conn:
            return set(conn.execute(select(dataset_files.c.digest).distinct()).scalars())

    def list(self) -> list[Dataset]:
        """Every dataset, by name."""
        with read_transaction(self._engine) as conn:
            rows = conn.execute(select(*_DATASET_COLUMNS).order_by(datasets.c.name)).all()
            return _datasets_with_details(conn, rows)


_DATASET_COLUMNS = (
    datasets.c.id,
    datasets.c.name,
    datasets.c.description,
    datasets.c.creation_time,
    datasets.c.last_version,
)


def _lock_dataset(conn: Connection, name: str) -> tuple[int, int]:
    """The dataset's id and last version, created when new, its row locked for the transaction."""
    conn.execute(
        insert_ignore(conn, datasets),
        {"name": name, "description": "", "creation_time": now_ms(), "last_version": 0},
    )
    # FOR UPDATE serialises version numbering on PostgreSQL; SQLite already holds the write lock
    # from BEGIN IMMEDIATE (and ignores the clause).
    found = conn.execute(
        select(datasets.c.id, datasets.c.last_version)
        .where(datasets.c.name == name)
        .with_for_update()
    ).one()
    return int(found.id), int(found.last_version)


def _find_dataset(conn: Connection, name: str) -> tuple[int, int]:
    found = conn.execute(
        select(datasets.c.id, datasets.c.last_version).where(datasets.c.name == name)
    ).first()
    if found is None:
        raise DatasetNotFoundError(name)
    return int(found.id), int(found.last_version)


def _write_dataset_details(
    conn: Connection, dataset_id: int, description: str | None, tags: dict[str, str]
) -> None:
    if description is not None:
        conn.execute(
            update(datasets).where(datasets.c.id == dataset_id).values(description=description)
        )
    if tags:
        conn.execute(
            upsert(conn, dataset_tags, keys=("dataset_id", "key"), update=("value",)),
            [{"dataset_id": dataset_id, "key": k, "value": v} for k, v in tags.items()],
        )


def _insert_version(conn: Connection, dataset_id: int, number: int, new: NewVersion) -> None:
    conn.execute(
        dataset_versions.insert().values(
            dataset_id=dataset_id,
            version=number,
            digest=new.digest,
            kind=new.kind.value,
            message=new.message,
            source=new.source[:1000],
            creation_time=now_ms(),
            file_count=len(new.files),
            total_size=sum(f.size for f in new.files),
            row_count=new.row_count,
            table_schema=(
                json.dumps([[c.name, c.type] for c in new.columns]) if new.columns else None
            ),
        )
    )
    rows = [(dataset_id, number, f.path, f.digest, f.size) for f in new.files]
    # Through the driver's executemany with plain tuples: for 100,000-file manifests it is
    # several times faster than Core's per-row dictionaries.
    statement = _INSERT_FILES_QMARK if conn.dialect.paramstyle == "qmark" else _INSERT_FILES
    for start in range(0, len(rows), _FILE_BATCH):
        conn.exec_driver_sql(statement, rows[start : start + _FILE_BATCH])


def _version_row(conn: Connection, dataset_id: int, version: int) -> _Row | None:
    return conn.execute(
        _VERSIONS.where(
            dataset_versions.c.dataset_id == dataset_id, dataset_versions.c.version == version
        )
    ).first()


def _version_entity(row: _Row) -> DatasetVersion:
    columns: tuple[ColumnType, ...] = ()
    if row.table_schema:
        columns = tuple(ColumnType(n, t) for n, t in json.loads(row.table_schema))
    return DatasetVersion(
        name=row.name,
        version=int(row.version),
        digest=row.digest,
        kind=DatasetKind(row.kind),
        message=row.message,
        created_time_ms=int(row.creation_time),
        file_count=int(row.file_count),
        total_size=int(row.total_size),
        row_count=None if row.row_count is None else int(row.row_count),
        columns=columns,
        source=row.source,
    )


def _datasets_with_details(conn: Connection, rows: Sequence[_Row]) -> list[Dataset]:
    ids = [int(r.id) for r in rows]
    tags: dict[int, dict[str, str]] = {i: {} for i in ids}
    aliases: dict[int, dict[str, int]] = {i: {} for i in ids}
    for chunk in _chunks(ids, 500):
        for dataset_id, key, value in conn.execute(
            select(dataset_tags.c.dataset_id, dataset_tags.c.key, dataset_tags.c.value).where(
                dataset_tags.c.dataset_id.in_(chunk)
            )
        ):
            tags[dataset_id][key] = value
        for dataset_id, alias, version in conn.execute(
            select(
                dataset_aliases.c.dataset_id, dataset_aliases.c.alias, dataset_aliases.c.version
            ).where(dataset_aliases.c.dataset_id.in_(chunk))
        ):
            aliases[dataset_id][alias] = int(version)
    return [
        Dataset(
            name=r.name,
            description=r.description,
            created_time_ms=int(r.creation_time),
            latest_version=int(r.last_version),
            tags=tags[int(r.id)],
            aliases=dict(sorted(aliases[int(r.id)].items())),
        )
        for r in rows
    ]


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
