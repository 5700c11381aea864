"""MLflow 3 logged models (the MLflow-compatible API): models, their params, tags and metrics.

Revision ID: 0005_logged_models
Revises: 0004_auth
"""

from __future__ import annotations

revision = "0005_logged_models"
down_revision = "0004_auth"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
