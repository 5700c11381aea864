"""MLflow 3 logged models (the MLflow-compatible API): models, their params, tags and metrics.

Revision ID: 0005_logged_models
Revises: 0004_auth
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_logged_models"
down_revision = "0004_auth"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _model_ref(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["logged_models.model_id"],
            name=op.f(f"fk_{table}_model_id_logged_models"),
            ondelete="CASCADE",
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "logged_models",
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("experiment_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("artifact_location", sa.String(length=1000), nullable=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_time", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("lifecycle_stage", sa.String(length=16), nullable=False),
        sa.Column("source_run_id", sa.String(length=32), nullable=True),
        sa.Column("model_type", sa.String(length=250), nullable=True),
        sa.Column("status_message", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.experiment_id"],
            name=op.f("fk_logged_models_experiment_id_experiments"),
        ),
        sa.PrimaryKeyConstraint("model_id", name=op.f("pk_logged_models")),
    )
    with op.batch_alter_table("logged_models", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_logged_models_experiment_id_creation_time"),
            ["experiment_id", "creation_time"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_logged_models_source_run_id"), ["source_run_id"], unique=False
        )
    op.create_table(
        "logged_model_params",
        *_model_ref("logged_model_params"),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.String(length=6000), nullable=False),
        sa.PrimaryKeyConstraint("model_id", "key", name=op.f("pk_logged_model_params")),
    )
    op.create_table(
        "logged_model_tags",
        *_model_ref("logged_model_tags"),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.String(length=8000), nullable=False),
        sa.PrimaryKeyConstraint("model_id", "key", name=op.f("pk_logged_model_tags")),
    )
    op.create_table(
        "logged_model_metrics",
        *_model_ref("logged_model_metrics"),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("dataset_name", sa.String(length=250), nullable=False),
        sa.Column("dataset_digest", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("is_nan", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "model_id",
            "key",
            "timestamp",
            "step",
            "run_id",
            "dataset_name",
            "dataset_digest",
            name=op.f("pk_logged_model_metrics"),
        ),
    )
    op.create_table(
        "logged_model_links",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        *_model_ref("logged_model_links"),
        sa.Column("is_output", sa.Boolean(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "run_id", "model_id", "is_output", name=op.f("pk_logged_model_links")
        ),
    )


def downgrade() -> None:
    op.drop_table("logged_model_links")
    op.drop_table("logged_model_metrics")
    op.drop_table("logged_model_tags")
    op.drop_table("logged_model_params")
    with op.batch_alter_table("logged_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logged_models_source_run_id"))
        batch_op.drop_index(batch_op.f("ix_logged_models_experiment_id_creation_time"))
    op.drop_table("logged_models")
