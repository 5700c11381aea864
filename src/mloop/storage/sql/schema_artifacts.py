"""Tables of run artifact manifests and dataset versions (revision 0002_artifacts).

Declared on the shared `metadata` of `schema.py`, which imports this module so every table is
known to `create_all` and to the migration tests.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from mloop.storage.sql.schema import AutoId, Ref, owner_key, tag_table
from mloop.storage.sql.schema import metadata as metadata

# --- Run artifacts (storage/sql/artifacts.py) ---

# The artifacts of a run, or of an MLflow 3 logged model: logical path -> blob. `owner_id` is
# a run id or a logged-model id (both 32 hex); no foreign key, since owners live in two tables:
# `mloop gc` deletes a purged run's rows. `digest` is marked as naming a blob, so gc keeps
# every blob some row names (a table of another stage that names blobs marks its column the
# same way: `info={"blob_digest": True}`).
artifact_manifests = Table(
    "artifact_manifests",
    metadata,
    Column("owner_id", String(64), primary_key=True),
    Column("path", String(1000), primary_key=True),
    Column("digest", String(64), nullable=False, info={"blob_digest": True}),
    Column("size", BigInteger, nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Index(None, "digest"),
)

# --- Datasets (mloop.data): H2 ---

# A named dataset. `last_version` is the per-dataset version counter: the next version takes
# `last_version + 1` in the same transaction that bumps it, so concurrent writers never collide.
datasets = Table(
    "datasets",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("name", String(250), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_version", Integer, nullable=False, default=0),
)

dataset_tags = tag_table("dataset_tags", owner_key("dataset_id", "datasets.id"))

# One immutable version. `digest` is the manifest's BLAKE3 digest: the content's identity,
# indexed so a dataset can be named by digest and so lineage can join run inputs on it.
dataset_versions = Table(
    "dataset_versions",
    metadata,
    Column("dataset_id", Ref, ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("message", String(5000), nullable=False, default=""),
    Column("source", String(1000), nullable=False, default=""),
    Column("creation_time", BigInteger, nullable=False),
    Column("file_count", BigInteger, nullable=False),
    Column("total_size", BigInteger, nullable=False),
    Column("row_count", BigInteger, nullable=True),
    Column("table_schema", Text, nullable=True),
    Index(None, "digest"),
)

# The manifest of a version, one row per file. Rows rather than a manifest blob so that `gc`
# finds every referenced blob with one query and diffs need no blob reads.
dataset_files = Table(
    "dataset_files",
    metadata,
    Column("dataset_id", Ref, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("path", String(1000), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    ForeignKeyConstraint(
        ["dataset_id", "version"],
        ["dataset_versions.dataset_id", "dataset_versions.version"],
        ondelete="CASCADE",
    ),
    Index(None, "digest"),
)

# `datasets:/NAME@alias` -> a version.
dataset_aliases = Table(
    "dataset_aliases",
    metadata,
    Column("dataset_id", Ref, ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    Column("alias", String(250), primary_key=True),
    Column("version", Integer, nullable=False),
)
