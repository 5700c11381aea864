"""The SQL tables of the metadata store, as SQLAlchemy 2.0 typed models.

Every change here needs an Alembic migration in `storage/migrations/versions/` and a new
`HEAD_REVISION`; `tests/storage/test_migrations.py` fails when the two disagree.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
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
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# The Alembic revision that `Base.metadata` corresponds to; a fresh store is stamped with it.
HEAD_REVISION = "0001_initial"

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an `INTEGER PRIMARY KEY`; PostgreSQL gets 64-bit ids. Foreign keys
# use the same type as the ids they point at.
AutoId = BigInteger().with_variant(Integer(), "sqlite")
Ref = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base holding the shared metadata and naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ExperimentRow(Base):
    """An experiment; id 0 is the default experiment."""

    __tablename__ = "experiments"

    experiment_id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(250), unique=True)
    artifact_location: Mapped[str] = mapped_column(String(1000))
    lifecycle_stage: Mapped[str] = mapped_column(String(16), default="active")
    creation_time: Mapped[int] = mapped_column(BigInteger)
    last_update_time: Mapped[int] = mapped_column(BigInteger)


class ExperimentTagRow(Base):
    """A tag on an experiment."""

    __tablename__ = "experiment_tags"

    experiment_id: Mapped[int] = mapped_column(
        Ref, ForeignKey("experiments.experiment_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(String(8000))


class RunRow(Base):
    """A run. `id` is a compact surrogate used by the large child tables; `run_uuid` is public."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    run_uuid: Mapped[str] = mapped_column(String(32), unique=True)
    experiment_id: Mapped[int] = mapped_column(Ref, ForeignKey("experiments.experiment_id"))
    name: Mapped[str] = mapped_column(String(250))
    status: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[int] = mapped_column(BigInteger)
    end_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    lifecycle_stage: Mapped[str] = mapped_column(String(16), default="active")
    deleted_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    artifact_uri: Mapped[str] = mapped_column(String(1000))
    user_id: Mapped[str] = mapped_column(String(256), default="")
    parent_run_uuid: Mapped[str | None] = mapped_column(String(32), nullable=True)

    __table_args__ = (
        Index(None, "experiment_id", "start_time"),
        Index(None, "parent_run_uuid"),
    )


class MetricKeyRow(Base):
    """Dictionary of metric keys, so metric points store a small integer instead of the text."""

    __tablename__ = "metric_keys"

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(250), unique=True)


class MetricChunkRow(Base):
    """A chunk of metric points of one key, as written by one batch (`storage/metric_chunks.py`).

    Keyed by a digest of its content, so a batch that is sent again inserts nothing; readers
    also drop points that two different chunks share.
    """

    __tablename__ = "metric_chunks"

    run_id: Mapped[int] = mapped_column(
        Ref, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    key_id: Mapped[int] = mapped_column(Ref, ForeignKey("metric_keys.id"), primary_key=True)
    digest: Mapped[str] = mapped_column(String(32), primary_key=True)
    n_points: Mapped[int] = mapped_column(Integer)
    min_step: Mapped[int] = mapped_column(BigInteger)
    max_step: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class LatestMetricRow(Base):
    """The latest point of each metric of a run: highest (step, timestamp, value), for search."""

    __tablename__ = "latest_metrics"

    run_id: Mapped[int] = mapped_column(
        Ref, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    key_id: Mapped[int] = mapped_column(Ref, ForeignKey("metric_keys.id"), primary_key=True)
    step: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[float] = mapped_column(Double)
    is_nan: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (Index(None, "key_id", "value"),)


class ParamRow(Base):
    """A param of a run; immutable once written."""

    __tablename__ = "params"

    run_id: Mapped[int] = mapped_column(
        Ref, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(String(6000))

    __table_args__ = (Index(None, "key", "value"),)


class TagRow(Base):
    """A tag of a run; the last write wins."""

    __tablename__ = "tags"

    run_id: Mapped[int] = mapped_column(
        Ref, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(String(8000))


class RunInputRow(Base):
    """A dataset a run consumed."""

    __tablename__ = "run_inputs"

    run_id: Mapped[int] = mapped_column(
        Ref, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(250), primary_key=True)
    digest: Mapped[str] = mapped_column(String(128), primary_key=True)
    context: Mapped[str] = mapped_column(String(250), primary_key=True, default="")
    source: Mapped[str] = mapped_column(String(1000), default="")


class AuditEventRow(Base):
    """One entry of the append-only, hash-chained audit log."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    at_ms: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(256))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(256))
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (Index(None, "entity_type", "entity_id"),)


def table_of(model: type[Base]) -> Table:
    """The Core table of a model, typed as a `Table` for insert, update and delete statements."""
    return cast(Table, model.__table__)
