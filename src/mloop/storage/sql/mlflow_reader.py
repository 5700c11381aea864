"""Reads an MLflow tracking database (SQLite or PostgreSQL), read-only, with SQLAlchemy Core.

The tables are declared here with only the columns mloop reads, as MLflow 2.x and 3.x create
them; tables an older MLflow did not have yet (dataset inputs, model aliases) are skipped.
The database is never written: SQLite is opened with `mode=ro`, PostgreSQL in read-only
transactions.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    func,
    inspect,
    select,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from mloop.entities import Metric, RunInput
from mloop.errors import ConfigurationError, MissingExtraError, StorageError
from mloop.storage.mlflow_source import (
    MlflowExperiment,
    MlflowModel,
    MlflowModelVersion,
    MlflowRun,
)
from mloop.storage.sql.engine import redact

_RUN_PAGE = 500
_meta = MetaData()

experiments = Table(
    "experiments",
    _meta,
    Column("experiment_id", Integer, primary_key=True),
    Column("name", String),
    Column("artifact_location", String),
    Column("lifecycle_stage", String),
)
experiment_tags = Table(
    "experiment_tags",
    _meta,
    Column("key", String),
    Column("value", Text),
    Column("experiment_id", Integer),
)
runs = Table(
    "runs",
    _meta,
    Column("run_uuid", String, primary_key=True),
    Column("name", String),
    Column("user_id", String),
    Column("status", String),
    Column("start_time", BigInteger),
    Column("end_time", BigInteger),
    Column("lifecycle_stage", String),
    Column("artifact_uri", String),
    Column("experiment_id", Integer),
)
params = Table(
    "params", _meta, Column("key", String), Column("value", String), Column("run_uuid", String)
)
tags = Table(
    "tags", _meta, Column("key", String), Column("value", String), Column("run_uuid", String)
)
metrics = Table(
    "metrics",
    _meta,
    Column("key", String),
    Column("value", Float),
    Column("timestamp", BigInteger),
    Column("run_uuid", String),
    Column("step", BigInteger),
    Column("is_nan", Boolean),
)
datasets = Table(
    "datasets",
    _meta,
    Column("dataset_uuid", String),
    Column("name", String),
    Column("digest", String),
    Column("dataset_source", Text),
)
inputs = Table(
    "inputs",
    _meta,
    Column("input_uuid", String),
    Column("source_type", String),
    Column("source_id", String),
    Column("destination_type", String),
    Column("destination_id", String),
)
input_tags = Table(
    "input_tags",
    _meta,
    Column("input_uuid", String),
    Column("name", String),
    Column("value", String),
)
registered_models = Table(
    "registered_models", _meta, Column("name", String), Column("description", String)
)
registered_model_tags = Table(
    "registered_model_tags",
    _meta,
    Column("key", String),
    Column("value", String),
    Column("name", String),
)
model_versions = Table(
    "model_versions",
    _meta,
    Column("name", String),
    Column("version", Integer),
    Column("description", String),
    Column("current_stage", String),
    Column("source", String),
    Column("run_id", String),
)
model_version_tags = Table(
    "model_version_tags",
    _meta,
    Column("key", String),
    Column("value", Text),
    Column("name", String),
    Column("version", Integer),
)
registered_model_aliases = Table(
    "registered_model_aliases",
    _meta,
    Column("alias", String),
    Column("version", Integer),
    Column("name", String),
)

# MLflow's SQL store marks a deleted model version with this stage instead of deleting it.
_DELETED_STAGE = "Deleted_Internal"


def _read_only_engine(uri: str) -> Engine:
    try:
        url = make_url(uri)
    except ArgumentError as exc:
        raise ConfigurationError(
            f"cannot parse the MLflow URI {redact(uri)!r}; use sqlite:///PATH/mlflow.db, "
            "postgresql://USER@HOST/DB or http://HOST:PORT"
        ) from exc
    backend = url.get_backend_name()
    if backend == "sqlite":
        path = Path(url.database or "")
        if not path.is_file():
            raise ConfigurationError(
                f"no MLflow database at {path}; pass the file MLflow tracks to, e.g. "
                "--from sqlite:///mlflow.db"
            )
        # `mode=ro`: the importer must never change (or create) the MLflow database.
        return create_engine(f"sqlite:///file:{path.resolve()}?mode=ro&uri=true")
    if backend == "postgresql":
        try:
            import psycopg  # noqa: F401
        except ImportError as exc:
            raise MissingExtraError("postgres", "psycopg") from exc
        engine = create_engine(url.set(drivername="postgresql+psycopg"))
        return engine.execution_options(postgresql_readonly=True)
    raise ConfigurationError(
        f"unsupported MLflow database {backend!r} in {redact(uri)!r}; mloop imports MLflow "
        "stores on SQLite, PostgreSQL, or behind an MLflow server (http://...)"
    )


class SqlMlflowReader:
    """An MLflow tracking database, read-only.

    Args:
        uri: `sqlite:///PATH` or `postgresql://...`, as MLflow's `--backend-store-uri`.

    Raises:
        ConfigurationError: the URI is unusable or does not hold an MLflow store.
        StorageError: the database cannot be read.
    """

    def __init__(self, uri: str) -> None:
        self.uri = redact(uri)
        self._engine = _read_only_engine(uri)
        try:
            with self._engine.connect() as conn:
                self._tables = set(inspect(conn).get_table_names())
        except DBAPIError as exc:
            raise StorageError(f"cannot read the MLflow database {self.uri}: {exc.orig}") from exc
        if not {"experiments", "runs", "metrics", "params", "tags"} <= self._tables:
            raise ConfigurationError(
                f"{self.uri} is not an MLflow tracking database (it has no experiments, runs, "
                "metrics, params and tags tables)"
            )

    def experiments(self) -> list[MlflowExperiment]:
        """Every experiment, by id."""
        with self._read() as conn:
            found: dict[str, dict[str, str]] = {}
            for row in conn.execute(select(experiment_tags)):
                found.setdefault(str(row.experiment_id), {})[row.key] = row.value or ""
            return [
                MlflowExperiment(
                    experiment_id=str(row.experiment_id),
                    name=row.name,
                    is_deleted=row.lifecycle_stage == "deleted",
                    tags=found.get(str(row.experiment_id), {}),
                )
                for row in conn.execute(select(experiments).order_by(experiments.c.experiment_id))
            ]

    def count_runs(self) -> int:
        """How many runs there are."""
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(runs)).scalar_one())

    def runs(self) -> Iterator[MlflowRun]:
        """Every run with its params and tags, by run id, read a page at a time."""
        after = ""
        while True:
            query = (
                select(runs)
                .where(runs.c.run_uuid > after)
                .order_by(runs.c.run_uuid)
                .limit(_RUN_PAGE)
            )
            with self._read() as conn:
                page = conn.execute(query).all()
                if not page:
                    return
                ids = [row.run_uuid for row in page]
                run_params = _by_run(conn, params, ids)
                run_tags = _by_run(conn, tags, ids)
            for row in page:
                yield _to_run(row, run_params.get(row.run_uuid, {}), run_tags.get(row.run_uuid, {}))
            after = page[-1].run_uuid

    def metric_history(self, run_id: str) -> list[Metric]:
        """Every metric point of a run, by key, step and time."""
        query = (
            select(
                metrics.c.key,
                metrics.c.value,
                metrics.c.timestamp,
                metrics.c.step,
                metrics.c.is_nan,
            )
            .where(metrics.c.run_uuid == run_id)
            .order_by(metrics.c.key, metrics.c.step, metrics.c.timestamp)
        )
        with self._read() as conn:
            return [
                Metric(
                    row.key,
                    math.nan if row.is_nan else float(row.value),
                    int(row.timestamp),
                    int(row.step or 0),
                )
                for row in conn.execute(query)
            ]

    def inputs(self, run_id: str) -> list[RunInput]:
        """The datasets a run consumed (MLflow >= 2.4; none before)."""
        if not {"inputs", "datasets"} <= self._tables:
            return []
        query = (
            select(
                inputs.c.input_uuid, datasets.c.name, datasets.c.digest, datasets.c.dataset_source
            )
            .join(datasets, datasets.c.dataset_uuid == inputs.c.source_id)
            .where(
                inputs.c.destination_type == "RUN",
                inputs.c.destination_id == run_id,
                inputs.c.source_type == "DATASET",
            )
            .order_by(datasets.c.name, datasets.c.digest)
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
            contexts = self._contexts(conn, [row.input_uuid for row in rows])
        return [
            RunInput(
                name=row.name,
                digest=row.digest,
                source=(row.dataset_source or "")[:1000],
                context=contexts.get(row.input_uuid, ""),
            )
            for row in rows
        ]

    def _contexts(self, conn: Connection, input_ids: Sequence[str]) -> dict[str, str]:
        if not input_ids or "input_tags" not in self._tables:
            return {}
        query = select(input_tags.c.input_uuid, input_tags.c.value).where(
            input_tags.c.input_uuid.in_(input_ids), input_tags.c.name == "mlflow.data.context"
        )
        return {row.input_uuid: row.value for row in conn.execute(query)}

    def models(self) -> list[MlflowModel]:
        """Registered models with their live versions, tags and aliases, by name."""
        if not {"registered_models", "model_versions"} <= self._tables:
            return []
        with self._read() as conn:
            model_tags = _grouped(conn, registered_model_tags, ("name",))
            version_tags = _grouped(conn, model_version_tags, ("name", "version"))
            aliases: dict[str, dict[str, int]] = {}
            if "registered_model_aliases" in self._tables:
                for row in conn.execute(select(registered_model_aliases)):
                    aliases.setdefault(row.name, {})[row.alias] = int(row.version)
            versions: dict[str, list[MlflowModelVersion]] = {}
            query = select(model_versions).order_by(model_versions.c.name, model_versions.c.version)
            for row in conn.execute(query):
                if row.current_stage == _DELETED_STAGE:
                    continue
                versions.setdefault(row.name, []).append(
                    MlflowModelVersion(
                        version=int(row.version),
                        source=row.source or "",
                        run_id=row.run_id or None,
                        description=row.description or "",
                        tags=version_tags.get((row.name, int(row.version)), {}),
                    )
                )
            rows = conn.execute(select(registered_models).order_by(registered_models.c.name))
            return [
                MlflowModel(
                    name=row.name,
                    description=row.description or "",
                    tags=model_tags.get((row.name,), {}),
                    versions=tuple(versions.get(row.name, [])),
                    aliases=aliases.get(row.name, {}),
                )
                for row in rows
            ]

    def artifact_dir(self, run: MlflowRun, scratch: Path) -> Path | None:
        """The run's artifact folder when it is on this machine (it may not exist), else None."""
        del scratch  # a database source never downloads
        return local_folder(run.artifact_uri)

    def close(self) -> None:
        """Close the connections."""
        self._engine.dispose()

    def _read(self) -> Any:
        return self._engine.connect()


def local_folder(uri: str) -> Path | None:
    """The local folder a plain path or `file:` URI names (it may not exist); else None."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "" or (len(parsed.scheme) == 1 and uri[1:3] in (":\\", ":/")):
        # A plain path (or a Windows drive letter, which urlparse takes for a scheme).
        return Path(uri)
    return None


def _by_run(conn: Connection, table: Table, run_ids: list[str]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    query = select(table.c.run_uuid, table.c.key, table.c.value).where(
        table.c.run_uuid.in_(run_ids)
    )
    for row in conn.execute(query):
        found.setdefault(row.run_uuid, {})[row.key] = row.value or ""
    return found


def _grouped(
    conn: Connection, table: Table, keys: tuple[str, ...]
) -> dict[tuple[Any, ...], dict[str, str]]:
    found: dict[tuple[Any, ...], dict[str, str]] = {}
    for row in conn.execute(select(table)):
        owner = tuple(int(row._mapping[k]) if k == "version" else row._mapping[k] for k in keys)
        found.setdefault(owner, {})[row.key] = row.value or ""
    return found


def _to_run(row: Any, run_params: dict[str, str], run_tags: dict[str, str]) -> MlflowRun:
    return MlflowRun(
        run_id=row.run_uuid,
        experiment_id=str(row.experiment_id),
        name=row.name or run_tags.get("mlflow.runName", ""),
        user_id=row.user_id or "",
        status=row.status or "FINISHED",
        start_time_ms=int(row.start_time or 0),
        end_time_ms=int(row.end_time) if row.end_time is not None else None,
        is_deleted=row.lifecycle_stage == "deleted",
        artifact_uri=row.artifact_uri or "",
        params=run_params,
        tags=run_tags,
    )
