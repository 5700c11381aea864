"""Validation reports of model versions (the validation gates and the promotion policy).

Revision ID: 0006_validation_reports
Revises: 0005_logged_models
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_validation_reports"
down_revision = "0005_logged_models"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "validation_reports",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("version_id", _ID, nullable=False),
        sa.Column("policy_digest", sa.String(length=64), nullable=False),
        sa.Column("inputs_digest", sa.String(length=64), nullable=False),
        sa.Column("holdout", sa.String(length=1000), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("gates", sa.Text(), nullable=False),
        sa.Column("report_digest", sa.String(length=128), nullable=False),
        sa.Column("html_digest", sa.String(length=128), nullable=False),
        sa.Column("actor", sa.String(length=256), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_validation_reports_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_validation_reports")),
    )
    with op.batch_alter_table("validation_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_validation_reports_version_id_policy_digest_inputs_digest"),
            ["version_id", "policy_digest", "inputs_digest"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("validation_reports", schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_validation_reports_version_id_policy_digest_inputs_digest")
        )
    op.drop_table("validation_reports")
