"""Tables of the model registry (revision 0003_registry).

Declared on the shared `metadata` of `schema.py`, which imports this module so every table is
known to `create_all` and to the migration tests.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from mloop.storage.sql.schema import AutoId, Ref, owner_key, tag_table
from mloop.storage.sql.schema import metadata as metadata


def _model_ref() -> Column[int]:
    return Column(
        "model_id", Ref, ForeignKey("registered_models.id", ondelete="CASCADE"), nullable=False
    )


def _model_key() -> Column[int]:
    """`model_id` as part of a child table's primary key."""
    return owner_key("model_id", "registered_models.id")


def _version_ref() -> Column[int]:
    return Column(
        "version_id", Ref, ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False
    )


# A registered model. `last_version` is the counter versions are numbered from: an
# `UPDATE ... SET last_version = last_version + 1 RETURNING` takes the row lock, so concurrent
# registrations get consecutive numbers, and a deleted version's number is never reused.
registered_models = Table(
    "registered_models",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("name", String(250), nullable=False, unique=True),
    Column("description", String(5000), nullable=False, default=""),
    Column("last_version", Integer, nullable=False, default=0),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
)

registered_model_tags = tag_table("registered_model_tags", _model_key())

# One version: the package it points at and the run it came from (lineage to the run's inputs).
model_versions = Table(
    "model_versions",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    _model_ref(),
    Column("version", Integer, nullable=False),
    Column("source", String(1000), nullable=False),
    Column("run_id", String(32), nullable=True),
    Column("package_digest", String(128), nullable=False, default=""),
    Column("signature", Text, nullable=True),
    Column("description", String(5000), nullable=False, default=""),
    Column("user_id", String(256), nullable=False, default=""),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
    UniqueConstraint("model_id", "version"),
    Index(None, "run_id"),
)

model_version_tags = tag_table("model_version_tags", owner_key("version_id", "model_versions.id"))

# An alias points at one version; moving it is one UPDATE, so readers never see it missing.
model_aliases = Table(
    "model_aliases",
    metadata,
    _model_key(),
    Column("alias", String(250), primary_key=True),
    _version_ref(),
    Index(None, "version_id"),
)

# Aliases declared protected: they may point only at approved versions. Declared apart from
# `model_aliases` so an alias can be protected before it is first set.
protected_aliases = Table(
    "protected_aliases",
    metadata,
    _model_key(),
    Column("alias", String(250), primary_key=True),
)

model_approvals = Table(
    "model_approvals",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    _version_ref(),
    Column("actor", String(256), nullable=False),
    Column("comment", String(5000), nullable=False, default=""),
    Column("at_ms", BigInteger, nullable=False),
    Index(None, "version_id"),
)
