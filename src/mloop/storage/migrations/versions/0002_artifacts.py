"""Artifact manifests and dataset versions (blobs live in the content-addressed store).

Revision ID: 0002_artifacts
Revises: 0001_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_artifacts"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    _upgrade_artifacts()
    _upgrade_datasets()


def downgrade() -> None:
    _downgrade_datasets()
    _downgrade_artifacts()


# --- Run artifacts ---


def _upgrade_artifacts() -> None:
    op.create_table(
        "artifact_manifests",
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "path", name=op.f("pk_artifact_manifests")),
    )
    op.create_index(
        op.f("ix_artifact_manifests_digest"), "artifact_manifests", ["digest"], unique=False
    )


def _downgrade_artifacts() -> None:
    op.drop_index(op.f("ix_artifact_manifests_digest"), table_name="artifact_manifests")
    op.drop_table("artifact_manifests")


# --- Datasets (mloop.data): H2 ---


def _dataset_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["dataset_id"],
        ["datasets.id"],
        name=op.f(f"fk_{table}_dataset_id_datasets"),
        ondelete="CASCADE",
    )


def _upgrade_datasets() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.Column("last_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
        sa.UniqueConstraint("name", name=op.f("uq_datasets_name")),
    )
    op.create_table(
        "dataset_tags",
        sa.Column("dataset_id", _ID, nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.String(length=8000), nullable=False),
        _dataset_fk("dataset_tags"),
        sa.PrimaryKeyConstraint("dataset_id", "key", name=op.f("pk_dataset_tags")),
    )
    op.create_table(
        "dataset_versions",
        sa.Column("dataset_id", _ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("message", sa.String(length=5000), nullable=False),
        sa.Column("source", sa.String(length=1000), nullable=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.Column("file_count", sa.BigInteger(), nullable=False),
        sa.Column("total_size", sa.BigInteger(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=True),
        sa.Column("table_schema", sa.Text(), nullable=True),
        _dataset_fk("dataset_versions"),
        sa.PrimaryKeyConstraint("dataset_id", "version", name=op.f("pk_dataset_versions")),
    )
    op.create_index(
        op.f("ix_dataset_versions_digest"), "dataset_versions", ["digest"], unique=False
    )
    op.create_table(
        "dataset_files",
        sa.Column("dataset_id", _ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id", "version"],
            ["dataset_versions.dataset_id", "dataset_versions.version"],
            name=op.f("fk_dataset_files_dataset_id_dataset_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "version", "path", name=op.f("pk_dataset_files")),
    )
    op.create_index(op.f("ix_dataset_files_digest"), "dataset_files", ["digest"], unique=False)
    op.create_table(
        "dataset_aliases",
        sa.Column("dataset_id", _ID, nullable=False),
        sa.Column("alias", sa.String(length=250), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _dataset_fk("dataset_aliases"),
        sa.PrimaryKeyConstraint("dataset_id", "alias", name=op.f("pk_dataset_aliases")),
    )


def _downgrade_datasets() -> None:
    op.drop_table("dataset_aliases")
    op.drop_index(op.f("ix_dataset_files_digest"), table_name="dataset_files")
    op.drop_table("dataset_files")
    op.drop_index(op.f("ix_dataset_versions_digest"), table_name="dataset_versions")
    op.drop_table("dataset_versions")
    op.drop_table("dataset_tags")
    op.drop_table("datasets")
