"""The SQL tables of the metadata store, as SQLAlchemy Core tables.

Core rather than ORM models: the store never maps rows to objects (entities are built from
result tuples), and leaving `sqlalchemy.orm` unimported makes opening a store ~0.1 s faster.

Every change here needs an Alembic migration in `storage/migrations/versions/` and a new
`HEAD_REVISION`; `tests/storage/test_migrations.py` fails when the two disagree.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

# The Alembic revision that `metadata` corresponds to; a fresh store is stamped with it.
HEAD_REVISION = "0007_deployments"

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# SQLite only auto-increments an `INTEGER PRIMARY KEY`; PostgreSQL gets 64-bit ids. Foreign keys
# use the same type as the ids they point at.
AutoId = BigInteger().with_variant(Integer(), "sqlite")
Ref = BigInteger().with_variant(Integer(), "sqlite")


def owner_key(name: str, target: str, type_: Any = Ref) -> Column[Any]:
    """The owner column of a child table: part of its primary key, deleted with its owner."""
    return Column(name, type_, ForeignKey(target, ondelete="CASCADE"), primary_key=True)


def key_value_table(
    name: str, owner: Column[Any], *, value_length: int, extra: tuple[Index, ...] = ()
) -> Table:
    """An owner's key-value pairs, one row per (owner, key): its tags or params."""
    return Table(
        name,
        metadata,
        owner,
        Column("key", String(250), primary_key=True),
        Column("value", String(value_length), nullable=False),
        *extra,
    )


def tag_table(name: str, owner: Column[Any]) -> Table:
    """An owner's tags (values up to 8,000 characters, the last write wins)."""
    return key_value_table(name, owner, value_length=8000)


def param_table(name: str, owner: Column[Any], *, extra: tuple[Index, ...] = ()) -> Table:
    """An owner's params (values up to 6,000 characters)."""
    return key_value_table(name, owner, value_length=6000, extra=extra)


def _run_ref() -> Column[int]:
    return owner_key("run_id", "runs.id")


def _key_ref() -> Column[int]:
    return Column("key_id", Ref, ForeignKey("metric_keys.id"), primary_key=True)


# An experiment; id 0 is the default experiment.
experiments = Table(
    "experiments",
    metadata,
    Column("experiment_id", AutoId, primary_key=True, autoincrement=True),
    Column("name", String(250), nullable=False, unique=True),
    Column("artifact_location", String(1000), nullable=False),
    Column("lifecycle_stage", String(16), nullable=False, default="active"),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_update_time", BigInteger, nullable=False),
)

experiment_tags = tag_table(
    "experiment_tags", owner_key("experiment_id", "experiments.experiment_id")
)

# A run. `id` is a compact surrogate the large child tables use; `run_uuid` is the public id.
runs = Table(
    "runs",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("run_uuid", String(32), nullable=False, unique=True),
    Column("experiment_id", Ref, ForeignKey("experiments.experiment_id"), nullable=False),
    Column("name", String(250), nullable=False),
    Column("status", String(16), nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger, nullable=True),
    Column("lifecycle_stage", String(16), nullable=False, default="active"),
    Column("deleted_time", BigInteger, nullable=True),
    Column("artifact_uri", String(1000), nullable=False),
    Column("user_id", String(256), nullable=False, default=""),
    Column("parent_run_uuid", String(32), nullable=True),
    Index(None, "experiment_id", "start_time"),
    Index(None, "parent_run_uuid"),
)

# Dictionary of metric keys, so metric rows hold a small integer instead of the text.
metric_keys = Table(
    "metric_keys",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("key", String(250), nullable=False, unique=True),
)

# A chunk of metric points of one key, as written by one batch (`storage/metric_chunks.py`).
# Keyed by a digest of its content, so a batch sent again inserts nothing; readers also drop
# points that two different chunks share.
metric_chunks = Table(
    "metric_chunks",
    metadata,
    _run_ref(),
    _key_ref(),
    Column("digest", String(32), primary_key=True),
    Column("n_points", Integer, nullable=False),
    Column("min_step", BigInteger, nullable=False),
    Column("max_step", BigInteger, nullable=False),
    Column("payload", LargeBinary, nullable=False),
)

# The latest point of each metric of a run: highest (step, timestamp, value), for search.
latest_metrics = Table(
    "latest_metrics",
    metadata,
    _run_ref(),
    _key_ref(),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("value", Double, nullable=False),
    Column("is_nan", Boolean, nullable=False),
    Index(None, "key_id", "value"),
)

# Params, immutable once written. The value index is a hash index on PostgreSQL, whose B-tree
# entries cannot hold a 6,000-character value; equality search needs no more. That option is
# attached by `use_postgresql_options` when a PostgreSQL engine is made: naming it here would
# import SQLAlchemy's PostgreSQL dialect in every process, a large part of opening a SQLite store.
params_value_index = Index(None, "value")
params = param_table("params", _run_ref(), extra=(params_value_index,))


def use_postgresql_options() -> None:
    """Attach the PostgreSQL-only index options (idempotent; imports that dialect)."""
    params_value_index.dialect_kwargs["postgresql_using"] = "hash"


# Tags; the last write wins.
tags = tag_table("tags", _run_ref())

# Datasets a run consumed.
run_inputs = Table(
    "run_inputs",
    metadata,
    _run_ref(),
    Column("name", String(250), primary_key=True),
    Column("digest", String(128), primary_key=True),
    Column("context", String(250), primary_key=True, default=""),
    Column("source", String(1000), nullable=False, default=""),
)

# The append-only, hash-chained audit log.
audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", AutoId, primary_key=True, autoincrement=True),
    Column("at_ms", BigInteger, nullable=False),
    Column("actor", String(256), nullable=False),
    Column("action", String(64), nullable=False),
    Column("entity_type", String(64), nullable=False),
    Column("entity_id", String(256), nullable=False),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    Index(None, "entity_type", "entity_id"),
)

# The tables of later stages are declared beside their stores' schema modules; importing them
# here registers them on `metadata`, so `create_all` and the migration tests see every table.
from mloop.storage.sql import (  # noqa: E402, F401
    schema_artifacts,
    schema_auth,
    schema_deployments,
    schema_gates,
    schema_logged_models,
    schema_registry,
)
